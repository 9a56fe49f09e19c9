import type { Observable } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { BatchAccepted, PortfolioRequest, ProcessingMode } from '../../src/codecs';
import type { C9Client } from '../../src/http/client';
import { submitBatch } from '../../src/operators/submitBatch';
import type { SubmittedBatch } from '../../src/types';

const ENDPOINT = 'http://127.0.0.1:1';

function etd(account: string, contract: string) {
  return { account_code: account, exchange_code: 'CME', contract_code: contract, contract_type: 'FUT', contract_expiry: '202412', net_position: '1' };
}

/** A client whose submit endpoint answers call i with `answers(i)`; every other endpoint is a test failure. */
function fakeClient(answers: (call: number) => Observable<BatchAccepted>) {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call to ${name}`);
  };
  let calls = 0;
  const submit = jest.fn((_payload: PortfolioRequest, _options?: { readonly processingMode?: ProcessingMode }): Observable<BatchAccepted> => answers(calls++));
  const client: C9Client = {
    endpoint: ENDPOINT,
    submitBatch: submit,
    getBatchStatus: unexpected('getBatchStatus'),
    getAccountResults: unexpected('getAccountResults'),
    calculate: unexpected('calculate'),
    getResults: unexpected('getResults'),
    healthcheck: unexpected('healthcheck'),
  };
  return { client, submit };
}

describe('submitBatch', () => {
  it(
    'should emit the batch id with the distinct account codes in input order, the mode and the endpoint',
    marbles((m) => {
      const payload: PortfolioRequest = {
        portfolio: [etd('B', 'ES'), etd('A', 'NQ'), etd('B', 'CL'), etd('C', 'ES'), etd('A', 'ES')],
        custom_flag: true,
      };
      const { client, submit } = fakeClient(() => m.cold('--a|', { a: { batch_id: 'b-1' } }));
      const submitted = m.cold('p|', { p: payload }).pipe(submitBatch(client, { processingMode: 'priority', scheduler: m.scheduler }));
      const expected: SubmittedBatch = {
        batchId: 'b-1',
        accountCodes: ['B', 'A', 'C'],
        submittedAt: new Date(0).toISOString(),
        processingMode: 'priority',
        endpoint: ENDPOINT,
      };
      m.expect(submitted).toBeObservable('--(a|)', { a: expected });
      m.flush();
      expect(submit).toHaveBeenCalledTimes(1);
      // The caller's own object goes to the client: nothing stripped or copied.
      expect(submit.mock.calls[0][0]).toBe(payload);
      expect(submit.mock.calls[0][1]).toEqual({ processingMode: 'priority' });
    }),
  );

  it(
    'should submit one request at a time, stamping submittedAt with the scheduler clock when each is sent',
    marbles((m) => {
      const first = m.cold('30ms a|', { a: { batch_id: 'b-1' } });
      const second = m.cold('10ms a|', { a: { batch_id: 'b-2' } });
      const { client, submit } = fakeClient((i) => (i === 0 ? first : second));
      const p1: PortfolioRequest = { portfolio: [etd('A', 'ES')] };
      const p2: PortfolioRequest = { portfolio: [etd('Z', 'ES')], request_id: 'caller-request-1' };
      const submitted = m.cold('5ms p 4ms q|', { p: p1, q: p2 }).pipe(submitBatch(client, { scheduler: m.scheduler }));
      m.expect(submitted).toBeObservable('35ms a 9ms (b|)', {
        a: { batchId: 'b-1', accountCodes: ['A'], submittedAt: new Date(5).toISOString(), processingMode: 'fifo', endpoint: ENDPOINT },
        b: {
          batchId: 'b-2',
          accountCodes: ['Z'],
          submittedAt: new Date(35).toISOString(),
          processingMode: 'fifo',
          endpoint: ENDPOINT,
          requestId: 'caller-request-1',
        },
      });
      // The second submit waits for the first answer although its request arrived at 10 ms.
      m.expect(first).toHaveSubscriptions('5ms ^ 29ms !');
      m.expect(second).toHaveSubscriptions('35ms ^ 9ms !');
      m.flush();
      expect(submit.mock.calls.map((call) => call[1])).toEqual([{ processingMode: 'fifo' }, { processingMode: 'fifo' }]);
    }),
  );

  it(
    'should pass a submit error through without retrying it',
    marbles((m) => {
      const failing = m.cold('5ms #', undefined, new Error('boom'));
      const { client, submit } = fakeClient(() => failing);
      const submitted = m.cold('p|', { p: { portfolio: [etd('A', 'ES')] } }).pipe(submitBatch(client, { scheduler: m.scheduler }));
      m.expect(submitted).toBeObservable('5ms #', undefined, new Error('boom'));
      m.flush();
      expect(submit).toHaveBeenCalledTimes(1);
    }),
  );

  it('should throw a TypeError when made with an unknown processing mode', () => {
    const { client, submit } = fakeClient(() => {
      throw new Error('not reached');
    });
    expect(() => submitBatch(client, { processingMode: 'lifo' as ProcessingMode })).toThrow(TypeError);
    expect(() => submitBatch(client, { scheduler: {} as never })).toThrow(TypeError);
    for (const mode of ['fifo', 'priority', 'replace_all'] as const) expect(() => submitBatch(client, { processingMode: mode })).not.toThrow();
    expect(submit).not.toHaveBeenCalled();
  });
});

import type { Observable } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { AccountResult, BatchAccepted, BatchStatus, PortfolioRequest } from '../../src/codecs';
import type { BatchStatusResponse, C9Client } from '../../src/http/client';
import { BatchFailedError } from '../../src/http/errors';
import { runBatch } from '../../src/streams/runBatch';
import type { BatchEvent, BatchResults, SubmittedBatch } from '../../src/types';

const ENDPOINT = 'http://127.0.0.1:1';
const BATCH_ID = 'c0ffee00-0000-4000-8000-000000000001';

const payload: PortfolioRequest = {
  portfolio: [{ account_code: 'A', exchange_code: 'CME', contract_code: 'ES', contract_type: 'FUT', contract_expiry: '202412', net_position: 2 }],
};

function st(status: string, extra: Partial<BatchStatus> = {}): BatchStatus {
  return { batch_id: BATCH_ID, status, created_at: '1970-01-01T00:00:00.000Z', ...extra };
}

interface Script {
  submit: () => Observable<BatchAccepted>;
  status: (call: number) => Observable<BatchStatusResponse>;
  results: () => Observable<AccountResult[]>;
}

/** A client scripted per endpoint; the endpoints runBatch must not use are test failures. */
function fakeClient(script: Script) {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call to ${name}`);
  };
  let statusCalls = 0;
  const spies = {
    submitBatch: jest.fn(() => script.submit()),
    getBatchStatus: jest.fn((_id: string) => script.status(statusCalls++)),
    getAccountResults: jest.fn(() => script.results()),
  };
  const client: C9Client = {
    endpoint: ENDPOINT,
    ...spies,
    calculate: unexpected('calculate'),
    getResults: unexpected('getResults'),
    healthcheck: unexpected('healthcheck'),
  };
  return { client, spies };
}

const submitted: SubmittedBatch = {
  batchId: BATCH_ID,
  accountCodes: ['A'],
  submittedAt: new Date(0).toISOString(),
  processingMode: 'priority',
  endpoint: ENDPOINT,
};

const fastPoll = { initialIntervalMs: 10, factor: 1, jitter: 0, timeoutMs: 1000 };

describe('runBatch', () => {
  it(
    'should emit submitted, every status and the results, in that order, then complete',
    marbles((m) => {
      const row: AccountResult = { account_code: 'A', portfolio_id: 'p', request_id: BATCH_ID, currency_code: 'USD', initial_margin: 42 };
      const statuses = [st('queued', { queue_position: 0 }), st('processing', { completed_pct: 50 }), st('completed', { completed_pct: 100 })];
      const submit = m.cold('--a|', { a: { batch_id: BATCH_ID } });
      const results = m.cold('---a|', { a: [row] });
      const { client, spies } = fakeClient({
        submit: () => submit,
        status: (i) => m.cold('-a|', { a: { status: statuses[i], retryAfterMs: undefined } }),
        results: () => results,
      });
      const events = runBatch(client, payload, { processingMode: 'priority', poll: fastPoll, scheduler: m.scheduler });
      expect(spies.submitBatch).not.toHaveBeenCalled();
      const picked: BatchResults = {
        batchId: BATCH_ID,
        status: 'completed',
        partial: false,
        rows: [row],
        subAccountRows: [],
        missing: [],
        stale: [],
        totalInitialMargin: 42,
        currencyCode: 'USD',
        exceptions: [],
      };
      // Submit answers at 2; polls sent at 2, 13 and 24 answer 1 ms later; results 3 ms after the terminal status.
      m.expect(events).toBeObservable('--sq 10ms p 10ms c 2ms (r|)', {
        s: { type: 'submitted', batch: submitted },
        q: { type: 'status', batch: submitted, status: statuses[0] },
        p: { type: 'status', batch: submitted, status: statuses[1] },
        c: { type: 'status', batch: submitted, status: statuses[2] },
        r: { type: 'results', batch: submitted, results: picked },
      });
      m.expect(submit).toHaveSubscriptions('^-!');
      m.expect(results).toHaveSubscriptions('25ms ^--!');
      m.flush();
      expect(spies.submitBatch).toHaveBeenCalledWith(payload, { processingMode: 'priority' });
      expect(spies.getBatchStatus.mock.calls).toEqual([[BATCH_ID], [BATCH_ID], [BATCH_ID]]);
      expect(spies.getAccountResults).toHaveBeenCalledTimes(1);
    }),
  );

  it(
    'should emit the failed status and then error with BatchFailedError without fetching results',
    marbles((m) => {
      const failed = st('failed', { error: 'replaced by a later replace_all batch' });
      const { client, spies } = fakeClient({
        submit: () => m.cold('a|', { a: { batch_id: BATCH_ID } }),
        status: () => m.cold('-a|', { a: { status: failed, retryAfterMs: undefined } }),
        results: () => m.cold('a|', { a: [] }),
      });
      const events = runBatch(client, payload, { processingMode: 'priority', poll: fastPoll, scheduler: m.scheduler });
      m.expect(events).toBeObservable(
        's(f#)',
        { s: { type: 'submitted', batch: submitted }, f: { type: 'status', batch: submitted, status: failed } },
        new BatchFailedError(BATCH_ID, 'replaced by a later replace_all batch'),
      );
      m.flush();
      expect(spies.getAccountResults).not.toHaveBeenCalled();
    }),
  );

  it(
    'should leave no open request and no pending timer after unsubscribing mid-poll',
    marbles((m) => {
      const queued = st('queued', { queue_position: 3 });
      const inFlight = m.cold('10ms a|', { a: { status: queued, retryAfterMs: undefined } });
      const { client, spies } = fakeClient({
        submit: () => m.cold('--a|', { a: { batch_id: BATCH_ID } }),
        status: (i) => (i === 0 ? m.cold('-a|', { a: { status: queued, retryAfterMs: undefined } }) : inFlight),
        results: () => m.cold('a|', { a: [] }),
      });
      const events = runBatch(client, payload, { poll: fastPoll, scheduler: m.scheduler });
      const fifo = { ...submitted, processingMode: 'fifo' as const };
      m.expect(events, '^ 19ms !').toBeObservable('--sq', {
        s: { type: 'submitted', batch: fifo },
        q: { type: 'status', batch: fifo, status: queued },
      });
      // The second poll, sent at 13, is still waiting for its answer when the subscriber leaves at 20.
      m.expect(inFlight).toHaveSubscriptions('13ms ^ 6ms !');
      // Probes of the scheduler's queue just before and just after the unsubscription.
      const pending: Record<string, number> = {};
      m.scheduler.schedule(() => (pending.before = m.scheduler.actions.length), 19);
      m.scheduler.schedule(() => (pending.after = m.scheduler.actions.length), 21);
      m.flush();
      expect(pending.before).toBeGreaterThan(0);
      expect(pending.after).toBe(0);
      expect(spies.getBatchStatus).toHaveBeenCalledTimes(2);
      expect(spies.getAccountResults).not.toHaveBeenCalled();
    }),
  );

  it(
    'should cancel the submit when unsubscribed before it is answered, and never poll',
    marbles((m) => {
      const submit = m.cold('50ms a|', { a: { batch_id: BATCH_ID } });
      const { client, spies } = fakeClient({
        submit: () => submit,
        status: () => m.cold('a|', { a: { status: st('completed'), retryAfterMs: undefined } }),
        results: () => m.cold('a|', { a: [] }),
      });
      m.expect(runBatch(client, payload, { poll: fastPoll, scheduler: m.scheduler }), '^ 9ms !').toBeObservable('');
      m.expect(submit).toHaveSubscriptions('^ 9ms !');
      m.flush();
      expect(spies.getBatchStatus).not.toHaveBeenCalled();
    }),
  );

  it(
    'should cancel the results request when unsubscribed while it is in flight',
    marbles((m) => {
      const done = st('completed');
      const results = m.cold('20ms a|', { a: [] });
      const { client } = fakeClient({
        submit: () => m.cold('a|', { a: { batch_id: BATCH_ID } }),
        status: () => m.cold('a|', { a: { status: done, retryAfterMs: undefined } }),
        results: () => results,
      });
      const fifo = { ...submitted, processingMode: 'fifo' as const };
      m.expect(runBatch(client, payload, { poll: fastPoll, scheduler: m.scheduler }), '^ 4ms !').toBeObservable('(sc)', {
        s: { type: 'submitted', batch: fifo },
        c: { type: 'status', batch: fifo, status: done },
      });
      m.expect(results).toHaveSubscriptions('^ 4ms !');
    }),
  );

  it(
    'should error with BatchTimeoutError when the poll deadline passes',
    marbles((m) => {
      const queued = st('queued', { queue_position: 7 });
      const { client } = fakeClient({
        submit: () => m.cold('a|', { a: { batch_id: BATCH_ID } }),
        status: () => m.cold('a|', { a: { status: queued, retryAfterMs: undefined } }),
        results: () => m.cold('a|', { a: [] }),
      });
      const events = runBatch(client, payload, { poll: { ...fastPoll, initialIntervalMs: 40, timeoutMs: 100 }, scheduler: m.scheduler });
      const codes: string[] = [];
      events.subscribe({ next: (e) => codes.push(e.type), error: (e: { code?: string; queuePosition?: number }) => codes.push(`${e.code}@${m.scheduler.now()}:${e.queuePosition}`) });
      m.flush();
      expect(codes).toEqual(['submitted', 'status', 'status', 'status', 'BATCH_TIMEOUT@100:7']);
    }),
  );

  it('should throw a TypeError at call time for an invalid configuration, before any request', () => {
    const never = () => {
      throw new Error('not reached');
    };
    const { client, spies } = fakeClient({ submit: never, status: never, results: never });
    expect(() => runBatch(client, payload, { processingMode: 'sometimes' as never })).toThrow(TypeError);
    expect(() => runBatch(client, payload, { poll: { factor: 0 } })).toThrow(TypeError);
    expect(() => runBatch(client, payload, { results: { clockSkewMs: -5 } })).toThrow(TypeError);
    expect(spies.submitBatch).not.toHaveBeenCalled();
  });
});

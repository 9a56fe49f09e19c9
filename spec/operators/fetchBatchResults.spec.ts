import { of, type Observable } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { AccountResult, BatchStatus } from '../../src/codecs';
import type { AccountResultsQuery, C9Client } from '../../src/http/client';
import { BatchFailedError } from '../../src/http/errors';
import { fetchBatchResults } from '../../src/operators/fetchBatchResults';
import type { BatchResults, SubmittedBatch, TerminalBatch } from '../../src/types';

const BATCH_ID = '3f2c1a9e-7b6d-4c5e-8f90-1a2b3c4d5e6f';
const CREATED = '2026-03-01T10:00:00.000Z';
const BEFORE = '2026-02-28T09:00:00.000Z';
const AFTER = '2026-03-01T10:00:05.000Z';

const batch: SubmittedBatch = {
  batchId: BATCH_ID,
  accountCodes: ['A', 'B', 'C', 'D'],
  submittedAt: '2026-03-01T10:00:02.000Z',
  processingMode: 'fifo',
  endpoint: 'http://127.0.0.1:1',
};

function terminal(status: string, extra: Partial<BatchStatus> = {}): TerminalBatch {
  return { batch, status: { batch_id: BATCH_ID, status, created_at: CREATED, ...extra } };
}

/** A client whose results endpoint answers with `rows()`; every other endpoint is a test failure. */
function fakeClient(rows: () => Observable<AccountResult[]>) {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call to ${name}`);
  };
  const getAccountResults = jest.fn((_query?: AccountResultsQuery): Observable<AccountResult[]> => rows());
  const client: C9Client = {
    endpoint: 'http://127.0.0.1:1',
    submitBatch: unexpected('submitBatch'),
    getBatchStatus: unexpected('getBatchStatus'),
    getAccountResults,
    calculate: unexpected('calculate'),
    getResults: unexpected('getResults'),
    healthcheck: unexpected('healthcheck'),
  };
  return { client, getAccountResults };
}

// The live store, in an order unlike the submission order:
// D fresh by time (another request id), A fresh by request id, B stale, C absent,
// X foreign, sub-accounts of A (kept), of B (stale master: dropped) and of X (dropped).
const rowA: AccountResult = {
  account_code: 'A',
  portfolio_id: 'pA',
  request_id: BATCH_ID,
  submitted_time: CREATED,
  currency_code: 'USD',
  initial_margin: 100,
  closest_matches: [{ position_id: 7, exception: 'expiry 202403 matched to 202404' }],
};
const rowB: AccountResult = { account_code: 'B', portfolio_id: 'pB', request_id: 'older-request', submitted_time: BEFORE, currency_code: 'USD', initial_margin: 1000 };
const rowD: AccountResult = { account_code: 'D', portfolio_id: 'pD', request_id: 'someone-else', submitted_time: AFTER, currency_code: 'USD', initial_margin: 20.5 };
const rowX: AccountResult = { account_code: 'X', portfolio_id: 'pX', request_id: BATCH_ID, submitted_time: AFTER, currency_code: 'USD', initial_margin: 5000 };
const subA: AccountResult = {
  account_code: 'A-sub',
  portfolio_id: 'pA1',
  parent_portfolio_id: 'pA',
  request_id: BATCH_ID,
  currency_code: 'USD',
  initial_margin: 60,
  exceptions: [{ position_id: 'p9', engine: 'span', exception: 'contract not found' }],
};
const subB: AccountResult = { account_code: 'B-sub', portfolio_id: 'pB1', parent_portfolio_id: 'pB', currency_code: 'USD', initial_margin: 400 };
const subX: AccountResult = { account_code: 'X-sub', portfolio_id: 'pX1', parent_portfolio_id: 'pX', currency_code: 'USD', initial_margin: 300 };
const store = [rowD, subB, rowX, rowA, subX, rowB, subA];

describe('fetchBatchResults', () => {
  it(
    'should error with BatchFailedError after failed without sending any request',
    marbles((m) => {
      const { client, getAccountResults } = fakeClient(() => of([]));
      const picked = of(terminal('failed', { error: 'replaced by a later replace_all batch' })).pipe(fetchBatchResults(client));
      m.expect(picked).toBeObservable('#', undefined, new BatchFailedError(BATCH_ID, 'replaced by a later replace_all batch'));
      m.flush();
      expect(getAccountResults).not.toHaveBeenCalled();
    }),
  );

  it(
    'should ask for the submitted accounts and pick fresh, stale, missing and sub-account rows in submission order',
    marbles((m) => {
      const answer = m.cold('---a|', { a: store });
      const { client, getAccountResults } = fakeClient(() => answer);
      const picked = of(terminal('completed')).pipe(fetchBatchResults(client));
      const expected: BatchResults = {
        batchId: BATCH_ID,
        status: 'completed',
        partial: false,
        rows: [rowA, rowD],
        subAccountRows: [subA],
        missing: ['C'],
        stale: [rowB],
        totalInitialMargin: 120.5,
        currencyCode: 'USD',
        exceptions: [
          { position_id: 7, exception: 'expiry 202403 matched to 202404', account_code: 'A', kind: 'closest_match' },
          { position_id: 'p9', engine: 'span', exception: 'contract not found', account_code: 'A-sub', kind: 'exception' },
        ],
      };
      m.expect(picked).toBeObservable('---(r|)', { r: expected });
      m.expect(answer).toHaveSubscriptions('^--!');
      m.flush();
      expect(getAccountResults).toHaveBeenCalledTimes(1);
      expect(getAccountResults.mock.calls[0][0]).toEqual({ accountCodes: new Set(['A', 'B', 'C', 'D']) });
    }),
  );

  it(
    'should count only fresh master rows in totalInitialMargin',
    marbles((m) => {
      const { client } = fakeClient(() => m.cold('a|', { a: store }));
      const picked = of(terminal('completed')).pipe(fetchBatchResults(client));
      const totals = new Array<number>();
      picked.subscribe((r) => totals.push(r.totalInitialMargin));
      m.flush();
      // A (100) + D (20.5); not B (stale), not X (foreign), not any sub-account row.
      expect(totals).toEqual([rowA.initial_margin! + rowD.initial_margin!]);
    }),
  );

  it(
    'should mark completed_with_errors as partial and tag every exception with its account',
    marbles((m) => {
      const failedC: AccountResult = {
        account_code: 'C',
        portfolio_id: 'pC',
        request_id: BATCH_ID.replace(/-/g, '').toUpperCase(),
        currency_code: 'USD',
        initial_margin: 0,
        exceptions: [{ position_id: 1, exception: 'missing price' }, { position_id: 2, exception: 'bad expiry' }],
      };
      const { client } = fakeClient(() => m.cold('a|', { a: [rowA, failedC] }));
      const picked = of(terminal('completed_with_errors')).pipe(fetchBatchResults(client));
      const seen: BatchResults[] = [];
      picked.subscribe((r) => seen.push(r));
      m.flush();
      expect(seen).toHaveLength(1);
      const [r] = seen;
      expect(r.partial).toBe(true);
      expect(r.status).toBe('completed_with_errors');
      // The batch id written without dashes and in upper case still names this batch.
      expect(r.rows).toEqual([rowA, failedC]);
      expect(r.missing).toEqual(['B', 'D']);
      expect(r.exceptions).toEqual([
        { position_id: 7, exception: 'expiry 202403 matched to 202404', account_code: 'A', kind: 'closest_match' },
        { position_id: 1, exception: 'missing price', account_code: 'C', kind: 'exception' },
        { position_id: 2, exception: 'bad expiry', account_code: 'C', kind: 'exception' },
      ]);
    }),
  );

  it(
    'should fall back to the batch submittedAt when the status has no created_at, within clockSkewMs',
    marbles((m) => {
      // submittedAt is 10:00:02; this row was written at 10:00:01 by the server's clock.
      const early: AccountResult = { account_code: 'A', portfolio_id: 'pA', request_id: 'r', submitted_time: '2026-03-01T10:00:01Z', initial_margin: 1 };
      const { client } = fakeClient(() => m.cold('a|', { a: [early] }));
      const noCreated: TerminalBatch = { batch, status: { batch_id: BATCH_ID, status: 'completed' } };
      const strict: BatchResults[] = [];
      const tolerant: BatchResults[] = [];
      of(noCreated).pipe(fetchBatchResults(client)).subscribe((r) => strict.push(r));
      of(noCreated).pipe(fetchBatchResults(client, { clockSkewMs: 5000 })).subscribe((r) => tolerant.push(r));
      m.flush();
      expect(strict.map((r) => [r.rows.length, r.stale.length])).toEqual([[0, 1]]);
      expect(tolerant.map((r) => [r.rows.length, r.stale.length])).toEqual([[1, 0]]);
    }),
  );

  it(
    'should leave currencyCode undefined when fresh rows disagree on the currency',
    marbles((m) => {
      const eur: AccountResult = { ...rowD, currency_code: 'EUR' };
      const { client } = fakeClient(() => m.cold('a|', { a: [rowA, eur] }));
      const seen: BatchResults[] = [];
      of(terminal('completed')).pipe(fetchBatchResults(client)).subscribe((r) => seen.push(r));
      m.flush();
      expect(seen.map((r) => r.currencyCode)).toEqual([undefined]);
      expect(seen.map((r) => r.rows.length)).toEqual([2]);
    }),
  );

  it(
    'should let the newest row decide when an account has several master rows',
    marbles((m) => {
      const old: AccountResult = { ...rowA, portfolio_id: 'pOld', request_id: 'older', submitted_time: BEFORE, initial_margin: 999 };
      const { client } = fakeClient(() => m.cold('a|', { a: [rowA, old] }));
      const seen: BatchResults[] = [];
      of(terminal('completed')).pipe(fetchBatchResults(client)).subscribe((r) => seen.push(r));
      m.flush();
      expect(seen.map((r) => [r.rows, r.stale, r.totalInitialMargin])).toEqual([[[rowA], [], 100]]);
    }),
  );

  it('should throw a TypeError when made with an invalid clockSkewMs', () => {
    const { client } = fakeClient(() => of([]));
    expect(() => fetchBatchResults(client, { clockSkewMs: -1 })).toThrow(TypeError);
    expect(() => fetchBatchResults(client, { clockSkewMs: Number.NaN })).toThrow(TypeError);
  });

  it(
    'should refuse a batch that is not terminal without sending any request',
    marbles((m) => {
      const { client, getAccountResults } = fakeClient(() => of([]));
      const picked = of(terminal('processing')).pipe(fetchBatchResults(client));
      const errors: unknown[] = [];
      picked.subscribe({ error: (e: unknown) => errors.push(e) });
      m.flush();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect(getAccountResults).not.toHaveBeenCalled();
    }),
  );
});

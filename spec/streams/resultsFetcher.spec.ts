import { map, merge, type Observable, type Subscription } from 'rxjs';
import { marbles, type Context } from 'rxjs-marbles/jest';
import type { AccountResult, BatchStatus } from '../../src/codecs';
import type { AccountResultsQuery, C9Client } from '../../src/http/client';
import { clientWith } from '../support/clientWith';
import { BatchFailedError, InternalServerError } from '../../src/http/errors';
import { createResultsFetcher } from '../../src/streams/resultsFetcher';
import type { BatchResults, SubmittedBatch, TerminalBatch } from '../../src/types';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const batchOf = (n: number, accountCodes: string[]): SubmittedBatch => ({
  batchId: id(n),
  accountCodes,
  submittedAt: new Date(0).toISOString(),
  processingMode: 'fifo',
});
const done = (batch: SubmittedBatch, status = 'completed'): TerminalBatch => ({ batch, status: { batch_id: batch.batchId, status } as BatchStatus });
const row = (account: string, batchId: string, margin: number): AccountResult => ({
  account_code: account,
  portfolio_id: `p-${account}`,
  request_id: batchId,
  initial_margin: margin,
  currency_code: 'USD',
});

/** A client whose results endpoint answers with `answer(call)`; records each call's time and accounts. */
function fakeClient(now: () => number, answer: (call: number) => Observable<AccountResult[]>) {
  const requests: { at: number; accounts: string[] }[] = [];
  const client: C9Client = clientWith({
    getAccountResults: (query: AccountResultsQuery = {}) => {
      requests.push({ at: now(), accounts: [...(query.accountCodes ?? [])].sort() });
      return answer(requests.length - 1);
    },
  });
  return { client, requests };
}

const accountsOf = (results: BatchResults) => results.rows.map((r) => r.account_code);

describe('createResultsFetcher', () => {
  it(
    'should serve N batches finishing within the window with one request, each with its own rows',
    marbles((m) => {
      const batches = [1, 2, 3, 4, 5].map((n) => batchOf(n, [`A${n}`, `B${n}`]));
      // The whole store, foreign rows included: the fetcher must not rely on the server's filter.
      const store = [...batches.flatMap((b, i) => b.accountCodes.map((code) => row(code, b.batchId, i + 1))), row('FOREIGN', id(99), 1e9)];
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('--a|', { a: store }));
      const fetcher = createResultsFetcher(client, { windowMs: 50, scheduler: m.scheduler });
      const got: { at: number; batchId: string; accounts: string[]; total: number }[] = [];
      batches.forEach((b, i) => {
        m.scheduler.schedule(() => {
          fetcher.fetch(done(b)).subscribe((r) => got.push({ at: m.scheduler.now(), batchId: r.batchId, accounts: accountsOf(r), total: r.totalInitialMargin }));
        }, i * 10);
      });
      m.flush();
      expect(requests).toEqual([{ at: 50, accounts: ['A1', 'A2', 'A3', 'A4', 'A5', 'B1', 'B2', 'B3', 'B4', 'B5'] }]);
      expect(got).toEqual(batches.map((b, i) => ({ at: 52, batchId: b.batchId, accounts: b.accountCodes, total: 2 * (i + 1) })));
    }),
  );

  it(
    'should give each batch the sub-account rows of its own master rows only',
    marbles((m) => {
      const a = batchOf(1, ['A']);
      const b = batchOf(2, ['B']);
      const store: AccountResult[] = [
        row('A', a.batchId, 10),
        { account_code: 'A-sub', portfolio_id: 'p-A-sub', parent_portfolio_id: 'p-A', initial_margin: 4 },
        row('B', b.batchId, 20),
        { account_code: 'B-sub', portfolio_id: 'p-B-sub', parent_portfolio_id: 'p-B', initial_margin: 8 },
      ];
      const { client } = fakeClient(() => m.scheduler.now(), () => m.cold('-a|', { a: store }));
      const fetcher = createResultsFetcher(client, { windowMs: 0, scheduler: m.scheduler });
      const got: Record<string, string[]> = {};
      for (const batch of [a, b]) {
        fetcher.fetch(done(batch)).subscribe((r) => (got[r.batchId] = [...accountsOf(r), ...r.subAccountRows.map((x) => x.account_code)]));
      }
      m.flush();
      expect(got).toEqual({ [a.batchId]: ['A', 'A-sub'], [b.batchId]: ['B', 'B-sub'] });
    }),
  );

  it(
    'should open a new round for a batch that finishes after the window closed',
    marbles((m) => {
      const a = batchOf(1, ['A']);
      const b = batchOf(2, ['B']);
      const store = [row('A', a.batchId, 1), row('B', b.batchId, 2)];
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('-a|', { a: store }));
      const fetcher = createResultsFetcher(client, { windowMs: 20, scheduler: m.scheduler });
      const got: { at: number; batchId: string }[] = [];
      const record = (r: BatchResults) => got.push({ at: m.scheduler.now(), batchId: r.batchId });
      m.scheduler.schedule(() => fetcher.fetch(done(a)).subscribe(record), 0);
      m.scheduler.schedule(() => fetcher.fetch(done(b)).subscribe(record), 30);
      m.flush();
      expect(requests).toEqual([
        { at: 20, accounts: ['A'] },
        { at: 50, accounts: ['B'] },
      ]);
      expect(got).toEqual([
        { at: 21, batchId: a.batchId },
        { at: 51, batchId: b.batchId },
      ]);
    }),
  );

  it(
    'should re-fetch up to refetchAttempts times with backoff while accounts are missing, then report them',
    marbles((m) => {
      const b = batchOf(1, ['A', 'B']);
      // B never shows up.
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('-a|', { a: [row('A', b.batchId, 1)] }));
      const fetcher = createResultsFetcher(client, { windowMs: 10, refetchAttempts: 3, refetchDelayMs: 100, refetchFactor: 2, scheduler: m.scheduler });
      let result: BatchResults | undefined;
      fetcher.fetch(done(b)).subscribe((r) => (result = r));
      m.flush();
      // window 10, answer +1, then waits 100, 200, 400 (each followed by a 10 ms window).
      expect(requests.map((r) => r.at)).toEqual([10, 121, 332, 743]);
      expect(result?.missing).toEqual(['B']);
      expect(accountsOf(result as BatchResults)).toEqual(['A']);
    }),
  );

  it(
    'should stop re-fetching as soon as the late rows are fresh',
    marbles((m) => {
      const b = batchOf(1, ['A']);
      const stale: AccountResult = { ...row('A', 'an-earlier-request', 5), submitted_time: '1969-12-31T00:00:00Z' };
      const answers = [[stale], [stale], [row('A', b.batchId, 7)]];
      const { client, requests } = fakeClient(() => m.scheduler.now(), (i) => m.cold('-a|', { a: answers[i] }));
      const fetcher = createResultsFetcher(client, { windowMs: 0, refetchDelayMs: 10, refetchFactor: 1, scheduler: m.scheduler });
      let result: BatchResults | undefined;
      fetcher.fetch(done(b)).subscribe((r) => (result = r));
      m.flush();
      expect(requests).toHaveLength(3);
      expect(result?.stale).toEqual([]);
      expect(result?.totalInitialMargin).toBe(7);
    }),
  );

  it(
    'should not re-fetch when refetchAttempts is 0',
    marbles((m) => {
      const b = batchOf(1, ['A']);
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('-a|', { a: [] }));
      const fetcher = createResultsFetcher(client, { windowMs: 0, refetchAttempts: 0, scheduler: m.scheduler });
      m.expect(fetcher.fetch(done(b))).toBeObservable('-(r|)', {
        r: { batchId: b.batchId, status: 'completed', partial: false, rows: [], subAccountRows: [], missing: ['A'], stale: [], totalInitialMargin: 0, currencyCode: undefined, exceptions: [] },
      });
      m.flush();
      expect(requests).toHaveLength(1);
    }),
  );

  it(
    'should refuse a failed batch without a request, and a batch that is not terminal',
    marbles((m) => {
      const b = batchOf(1, ['A']);
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('-a|', { a: [] }));
      const fetcher = createResultsFetcher(client, { scheduler: m.scheduler });
      const failed = { batch: b, status: { batch_id: b.batchId, status: 'failed', error: 'replaced' } };
      m.expect(fetcher.fetch(failed)).toBeObservable('#', undefined, new BatchFailedError(b.batchId, 'replaced'));
      let refused: unknown;
      fetcher.fetch(done(b, 'processing')).subscribe({ error: (e: unknown) => (refused = e) });
      m.flush();
      expect(refused).toBeInstanceOf(TypeError);
      expect(requests).toHaveLength(0);
    }),
  );

  it(
    'should send nothing when every batch of a round leaves before the window closes',
    marbles((m) => {
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('-a|', { a: [] }));
      const fetcher = createResultsFetcher(client, { windowMs: 50, scheduler: m.scheduler });
      const subs: Subscription[] = [];
      m.scheduler.schedule(() => subs.push(fetcher.fetch(done(batchOf(1, ['A']))).subscribe(), fetcher.fetch(done(batchOf(2, ['B']))).subscribe()), 0);
      m.scheduler.schedule(() => subs.forEach((s) => s.unsubscribe()), 20);
      m.flush();
      expect(requests).toHaveLength(0);
    }),
  );

  it(
    'should keep a shared request while one batch still waits, and cancel it when the last one leaves',
    marbles((m) => {
      const answers: Observable<AccountResult[]>[] = [];
      const { client, requests } = fakeClient(
        () => m.scheduler.now(),
        () => {
          const answer = m.cold<AccountResult[]>('----a|', { a: [] });
          answers.push(answer);
          return answer;
        },
      );
      const fetcher = createResultsFetcher(client, { windowMs: 10, refetchAttempts: 0, scheduler: m.scheduler });
      let first: Subscription | undefined;
      let second: Subscription | undefined;
      m.scheduler.schedule(() => {
        first = fetcher.fetch(done(batchOf(1, ['A']))).subscribe();
        second = fetcher.fetch(done(batchOf(2, ['B']))).subscribe();
      }, 0);
      m.scheduler.schedule(() => first?.unsubscribe(), 11);
      m.scheduler.schedule(() => second?.unsubscribe(), 12);
      m.flush();
      expect(requests).toHaveLength(1);
      m.expect(answers[0]).toHaveSubscriptions('10ms ^-!');
    }),
  );

  it(
    'should give every batch of the round the request error',
    marbles((m) => {
      const error = new InternalServerError({ status: 500, body: '{"error":"Internal Server Error"}' });
      const { client } = fakeClient(() => m.scheduler.now(), () => m.cold('-#', undefined, error));
      const fetcher = createResultsFetcher(client, { windowMs: 5, scheduler: m.scheduler });
      m.expect(merge(fetcher.fetch(done(batchOf(1, ['A']))), fetcher.fetch(done(batchOf(2, ['B']))))).toBeObservable('6ms #', undefined, error);
      const other = fetcher.fetch(done(batchOf(3, ['C'])));
      m.expect(other).toBeObservable('6ms #', undefined, error);
    }),
  );

  it(
    'should hold a round whose window passed until the request in flight ends, then send it with every batch that finished meanwhile',
    marbles((m) => {
      const [a, b, c] = [1, 2, 3].map((n) => batchOf(n, [`A${n}`]));
      const store = [a, b, c].map((x) => row(x.accountCodes[0], x.batchId, 1));
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('-'.repeat(100) + 'a|', { a: store }));
      const fetcher = createResultsFetcher(client, { windowMs: 10, joinInFlight: false, scheduler: m.scheduler });
      const got: { at: number; batchId: string }[] = [];
      const record = (r: BatchResults) => got.push({ at: m.scheduler.now(), batchId: r.batchId });
      m.scheduler.schedule(() => fetcher.fetch(done(a)).subscribe(record), 0);
      m.scheduler.schedule(() => fetcher.fetch(done(b)).subscribe(record), 20);
      m.scheduler.schedule(() => fetcher.fetch(done(c)).subscribe(record), 60);
      m.flush();
      // a's request runs 10-110; b's window passes at 30 but waits for it, and c joins (b and c do
      // not take a's answer: joinInFlight is off).
      expect(requests).toEqual([
        { at: 10, accounts: ['A1'] },
        { at: 110, accounts: ['A2', 'A3'] },
      ]);
      expect(got).toEqual([
        { at: 110, batchId: a.batchId },
        { at: 210, batchId: b.batchId },
        { at: 210, batchId: c.batchId },
      ]);
    }),
  );

  /**
   * A client whose results endpoint answers after `ms` with the rows of `store(call)` for the
   * accounts asked for, as the real client picks them: from the set as it is when the answer
   * arrives. Records each call's time.
   */
  function liveSetClient(m: Context, ms: number, store: (call: number) => AccountResult[]) {
    const requests: number[] = [];
    const client: C9Client = clientWith({
      getAccountResults: (query: AccountResultsQuery = {}) => {
        const call = requests.length;
        requests.push(m.scheduler.now());
        const codes = query.accountCodes ?? new Set<string>();
        return m.cold<number>('-'.repeat(ms) + 'a|', { a: 0 }).pipe(map(() => store(call).filter((r) => codes.has(r.account_code))));
      },
    });
    return { client, requests };
  }

  it(
    'should serve a batch that finishes during a request from its answer when all its rows are there and fresh',
    marbles((m) => {
      const [a, b, c] = [1, 2, 3].map((n) => batchOf(n, [`A${n}`]));
      const store = [a, b, c].map((x) => row(x.accountCodes[0], x.batchId, 1));
      const { client, requests } = liveSetClient(m, 100, () => store);
      const fetcher = createResultsFetcher(client, { windowMs: 10, scheduler: m.scheduler });
      const got: { at: number; batchId: string; accounts: string[] }[] = [];
      const record = (r: BatchResults) => got.push({ at: m.scheduler.now(), batchId: r.batchId, accounts: accountsOf(r) });
      m.scheduler.schedule(() => fetcher.fetch(done(a)).subscribe(record), 0);
      m.scheduler.schedule(() => fetcher.fetch(done(b)).subscribe(record), 20);
      m.scheduler.schedule(() => fetcher.fetch(done(c)).subscribe(record), 60);
      m.flush();
      // a's request runs 10-110; b and c ride it (their accounts added to it), their rows are in
      // its answer, so no second request is sent.
      expect(requests).toEqual([10]);
      expect(got).toEqual([
        { at: 110, batchId: a.batchId, accounts: ['A1'] },
        { at: 110, batchId: b.batchId, accounts: ['A2'] },
        { at: 110, batchId: c.batchId, accounts: ['A3'] },
      ]);
    }),
  );

  it(
    'should send the next round for a rider whose rows are missing or stale in the answer in flight',
    marbles((m) => {
      const [a, b, c] = [1, 2, 3].map((n) => batchOf(n, [`A${n}`]));
      const older: AccountResult = { ...row('A2', 'an-earlier-request', 5), submitted_time: '1969-12-31T00:00:00Z' };
      // First answer: b's row still the old one, c's not there yet; the second has both fresh.
      const stores = [[row('A1', a.batchId, 1), older], [a, b, c].map((x) => row(x.accountCodes[0], x.batchId, 1))];
      const { client, requests } = liveSetClient(m, 100, (call) => stores[call]);
      const fetcher = createResultsFetcher(client, { windowMs: 10, scheduler: m.scheduler });
      const got: { at: number; batchId: string; stale: string[] }[] = [];
      const record = (r: BatchResults) => got.push({ at: m.scheduler.now(), batchId: r.batchId, stale: r.stale.map((x) => x.account_code) });
      m.scheduler.schedule(() => fetcher.fetch(done(a)).subscribe(record), 0);
      m.scheduler.schedule(() => fetcher.fetch(done(b)).subscribe(record), 20);
      m.scheduler.schedule(() => fetcher.fetch(done(c)).subscribe(record), 60);
      m.flush();
      expect(requests).toEqual([10, 110]);
      expect(got).toEqual([
        { at: 110, batchId: a.batchId, stale: [] },
        { at: 210, batchId: b.batchId, stale: [] },
        { at: 210, batchId: c.batchId, stale: [] },
      ]);
    }),
  );

  /**
   * a fetches at 0 (its request: 10-110), b finishes at 20 and rides it; a's answer holds
   * `decoy` as b's account X row, the next round b's own row (margin 7). Expects b not served
   * the decoy: it takes the next round (110-210), sent after it finished, which holds its row.
   */
  function expectRiderNotServed(m: Context, b: SubmittedBatch, decoy: AccountResult, terminalB: TerminalBatch = done(b)): void {
    const a = batchOf(1, ['A1']);
    const stores = [[row('A1', a.batchId, 1), decoy], [row('A1', a.batchId, 1), row('X', b.batchId, 7)]];
    const { client, requests } = liveSetClient(m, 100, (call) => stores[call]);
    const fetcher = createResultsFetcher(client, { windowMs: 10, scheduler: m.scheduler });
    const got: { at: number; batchId: string; total: number }[] = [];
    const record = (r: BatchResults) => got.push({ at: m.scheduler.now(), batchId: r.batchId, total: r.totalInitialMargin });
    m.scheduler.schedule(() => fetcher.fetch(done(a)).subscribe(record), 0);
    m.scheduler.schedule(() => fetcher.fetch(terminalB).subscribe(record), 20);
    m.flush();
    expect(requests).toEqual([10, 110]);
    expect(got).toEqual([
      { at: 110, batchId: a.batchId, total: 1 },
      { at: 210, batchId: b.batchId, total: 7 },
    ]);
  }

  it(
    'should not serve a rider from a row of another batch that only its time makes fresh',
    marbles((m) => {
      const b = batchOf(2, ['X']);
      // Another batch for X, created before b but processed after b was created (a queue): its
      // row's submitted_time is after b's created_at, so by time it counts as fresh for b.
      const other: AccountResult = { ...row('X', 'an-earlier-request', 5), submitted_time: '1970-01-01T00:00:01Z' };
      const terminalB: TerminalBatch = { batch: b, status: { batch_id: b.batchId, status: 'completed', created_at: '1970-01-01T00:00:00Z' } as BatchStatus };
      // a's request may have been answered before b wrote its row: only a row with b's own id
      // shows that it was not.
      expectRiderNotServed(m, b, other, terminalB);
    }),
  );

  it(
    "should not serve a rider from a row carrying only the payload's request id, which an earlier run of the same file wrote too",
    marbles((m) => {
      const b: SubmittedBatch = { ...batchOf(2, ['X']), requestId: 'caller-request' };
      // The caller's request id from an earlier run of the same payload, with no time to tell it older.
      const earlier: AccountResult = { account_code: 'X', portfolio_id: 'p-X-old', request_id: 'caller-request', initial_margin: 5, currency_code: 'USD' };
      expectRiderNotServed(m, b, earlier);
    }),
  );

  it(
    'should send the next round without a rider that was served, and nothing for a rider that left',
    marbles((m) => {
      const [a, b, c] = [1, 2, 3].map((n) => batchOf(n, [`A${n}`]));
      const store = [a, b].map((x) => row(x.accountCodes[0], x.batchId, 1));
      const { client, requests } = liveSetClient(m, 100, () => store);
      const fetcher = createResultsFetcher(client, { windowMs: 10, refetchAttempts: 0, scheduler: m.scheduler });
      const got: string[] = [];
      let left: Subscription | undefined;
      m.scheduler.schedule(() => fetcher.fetch(done(a)).subscribe((r) => got.push(r.batchId)), 0);
      m.scheduler.schedule(() => fetcher.fetch(done(b)).subscribe((r) => got.push(r.batchId)), 20);
      m.scheduler.schedule(() => (left = fetcher.fetch(done(c)).subscribe((r) => got.push(r.batchId))), 30);
      m.scheduler.schedule(() => left?.unsubscribe(), 50);
      m.flush();
      // b is served by a's answer; c left before it, so the round it gathered is never sent.
      expect(requests).toEqual([10]);
      expect(got).toEqual([a.batchId, b.batchId]);
    }),
  );

  it(
    'should let no later batch ride a request that was cancelled',
    marbles((m) => {
      const [a, b] = [1, 2].map((n) => batchOf(n, [`A${n}`]));
      const store = [a, b].map((x) => row(x.accountCodes[0], x.batchId, 1));
      // The sets the requests were sent with: a rider adds its accounts to them.
      const asked: ReadonlySet<string>[] = [];
      const client: C9Client = clientWith({
        getAccountResults: (query: AccountResultsQuery = {}) => {
          const codes = query.accountCodes ?? new Set<string>();
          asked.push(codes);
          return m.cold<number>('-'.repeat(100) + 'a|', { a: 0 }).pipe(map(() => store.filter((r) => codes.has(r.account_code))));
        },
      });
      const fetcher = createResultsFetcher(client, { windowMs: 10, scheduler: m.scheduler });
      const got: { at: number; batchId: string }[] = [];
      let first: Subscription | undefined;
      m.scheduler.schedule(() => (first = fetcher.fetch(done(a)).subscribe()), 0);
      m.scheduler.schedule(() => first?.unsubscribe(), 50);
      m.scheduler.schedule(() => fetcher.fetch(done(b)).subscribe((r) => got.push({ at: m.scheduler.now(), batchId: r.batchId })), 60);
      m.flush();
      // a's request (10-110) is cancelled at 50: b, at 60, has nothing to ride and gets its own
      // round. A cancelled request kept as one to ride would collect every later batch's
      // accounts in its set, and be looked at by every later batch, for as long as the fetcher lives.
      expect(asked.map((codes) => [...codes])).toEqual([['A1'], ['A2']]);
      expect(got).toEqual([{ at: 170, batchId: b.batchId }]);
    }),
  );

  it(
    'should send rounds side by side up to maxInFlight',
    marbles((m) => {
      const { client, requests } = fakeClient(() => m.scheduler.now(), () => m.cold('-'.repeat(100) + 'a|', { a: [] }));
      const fetcher = createResultsFetcher(client, { windowMs: 10, maxInFlight: 2, refetchAttempts: 0, scheduler: m.scheduler });
      [0, 20, 40].forEach((at, i) => m.scheduler.schedule(() => fetcher.fetch(done(batchOf(i, [`A${i}`]))).subscribe(), at));
      m.flush();
      expect(requests.map((r) => r.at)).toEqual([10, 30, 110]);
    }),
  );

  it(
    'should send the waiting round as soon as the request in flight fails or is cancelled',
    marbles((m) => {
      const error = new InternalServerError({ status: 500, body: '{"error":"Internal Server Error"}' });
      const { client, requests } = fakeClient(() => m.scheduler.now(), (call) => (call === 0 ? m.cold('-'.repeat(50) + '#', undefined, error) : m.cold('-'.repeat(100) + 'a|', { a: [] })));
      const fetcher = createResultsFetcher(client, { windowMs: 10, refetchAttempts: 0, scheduler: m.scheduler });
      let failed: unknown;
      let cancelled: Subscription | undefined;
      m.scheduler.schedule(() => fetcher.fetch(done(batchOf(1, ['A']))).subscribe({ error: (e: unknown) => (failed = e) }), 0);
      m.scheduler.schedule(() => (cancelled = fetcher.fetch(done(batchOf(2, ['B']))).subscribe()), 20);
      m.scheduler.schedule(() => fetcher.fetch(done(batchOf(3, ['C']))).subscribe(), 70);
      m.scheduler.schedule(() => cancelled?.unsubscribe(), 80);
      m.flush();
      // A's request fails at 60 and B's round goes; B leaves at 80 and C's round goes.
      expect(failed).toBe(error);
      expect(requests).toEqual([
        { at: 10, accounts: ['A'] },
        { at: 60, accounts: ['B'] },
        { at: 80, accounts: ['C'] },
      ]);
    }),
  );

  it('should throw a TypeError for an invalid configuration when made', () => {
    const { client } = fakeClient(() => 0, () => {
      throw new Error('unused');
    });
    expect(() => createResultsFetcher(client, { windowMs: -1 })).toThrow(TypeError);
    expect(() => createResultsFetcher(client, { refetchAttempts: 1.5 })).toThrow(TypeError);
    expect(() => createResultsFetcher(client, { refetchFactor: 0.5 })).toThrow(TypeError);
    expect(() => createResultsFetcher(client, { maxInFlight: 0 })).toThrow(TypeError);
    expect(() => createResultsFetcher(client, { joinInFlight: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => createResultsFetcher(client, { maxInFlight: 1.5 })).toThrow(TypeError);
  });
});

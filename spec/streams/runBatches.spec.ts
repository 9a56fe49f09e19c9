import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, map, Observable, take, timer, toArray, type Subscription } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { TestScheduler } from 'rxjs/testing';
import type { PortfolioRequest } from '../../src/codecs';
import { createClient } from '../../src/http/client';
import {
  AuthenticationError,
  BadRequestError,
  BatchFailedError,
  ConnectionError,
  DecodeError,
  InternalServerError,
  InvalidResponseError,
  PayloadTooLargeError,
  RateLimitError,
} from '../../src/http/errors';
import { fetchTransport } from '../../src/http/fetchTransport';
import type { TransportRequest, TransportResponse } from '../../src/http/transport';
import { AccountOverlapError } from '../../src/streams/overlapGuard';
import { runBatches, type RunBatchesConfig, type RunBatchesEvent } from '../../src/streams/runBatches';
import { fakeC9, payloadOf } from './support/fakeC9';

/** Deterministic timing: plain backoff every 5 ms, results window 2 ms, no re-fetch. */
const base: RunBatchesConfig = {
  adaptive: false,
  poll: { initialIntervalMs: 5, factor: 1, jitter: 0, timeoutMs: 10_000 },
  results: { windowMs: 2, refetchAttempts: 0 },
};

/** Subscribes and records each event as `[time, short description]`. */
function record(scheduler: TestScheduler, events: Observable<RunBatchesEvent>, idOf: (n: number) => string = (n) => String(n)) {
  const log: [number, string][] = [];
  const all: RunBatchesEvent[] = [];
  const state = { error: undefined as unknown, done: false };
  const short = (id: string) => {
    for (let n = 1; n < 100; n++) if (idOf(n) === id) return `#${n}`;
    return id;
  };
  const subscription = events.subscribe({
    next: (event) => {
      all.push(event);
      const at = scheduler.now();
      switch (event.type) {
        case 'submitted':
          return log.push([at, `submitted ${short(event.batch.batchId)} ${event.batch.accountCodes.join(',')}`]);
        case 'status':
          return log.push([at, `status ${short(event.batch.batchId)} ${event.status.status} ${event.status.completed_pct ?? ''}`.trim()]);
        case 'results':
          return log.push([at, `results ${short(event.batch.batchId)} ${event.results.rows.map((r) => r.account_code).join(',')}`]);
        case 'waiting':
          return log.push([at, `waiting ${event.chunk} for ${event.blockedBy.join(',')}`]);
        case 'split':
          return log.push([at, `split ${event.chunk} into ${event.into.join(' ')}`]);
        case 'stalled':
          return log.push([at, `stalled ${short(event.batch.batchId)} after ${event.polls}`]);
        case 'regressed':
          return log.push([at, `regressed ${short(event.batch.batchId)} ${event.fromPct}->${event.toPct}`]);
        case 'error':
          return log.push([at, `error ${event.chunk} ${event.error.constructor.name}`]);
        case 'report':
          return log.push([at, 'report']);
      }
    },
    error: (error: unknown) => (state.error = error),
    complete: () => (state.done = true),
  });
  const report = () => {
    const last = all[all.length - 1];
    if (last?.type !== 'report') throw new Error('no report');
    return last;
  };
  return { log, all, state, subscription, report };
}

describe('runBatches', () => {
  it(
    'should run at most `concurrency` batches at once and end with the report',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('B'), payloadOf('C')], { ...base, concurrency: 2, scheduler: m.scheduler }), fake.idOf);
      m.flush();
      const submits = fake.requests.filter((r) => r.kind === 'submit');
      // C is sent only once A (or B) has its results: submit 0→1, polls 1→2, 7→8, 13→14 (done at 11), results 16→17.
      expect(submits.map((r) => [r.at, r.detail])).toEqual([
        [0, 'A:fifo'],
        [0, 'B:fifo'],
        [17, 'C:fifo'],
      ]);
      expect(run.log.filter(([, e]) => e.startsWith('submitted') || e.startsWith('results') || e === 'report')).toEqual([
        [1, 'submitted #1 A'],
        [1, 'submitted #2 B'],
        [17, 'results #1 A'],
        [17, 'results #2 B'],
        [18, 'submitted #3 C'],
        [34, 'results #3 C'],
        [34, 'report'],
      ]);
      expect(run.state.done).toBe(true);
      const { report } = run.report();
      expect(report.batches.map((b) => [b.batch_id, b.status, b.accounts])).toEqual([
        [fake.idOf(1), 'completed', 1],
        [fake.idOf(2), 'completed', 1],
        [fake.idOf(3), 'completed', 1],
      ]);
      expect(report.accounts_fetched).toBe(3);
      expect(report.total_initial_margin).toBe(300);
      expect(report.currency_code).toBe('USD');
    }),
  );

  it(
    'should chunk one big portfolio by account',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler });
      const run = record(m.scheduler, runBatches(fake.client, { payload: payloadOf('A', 'B', 'C', 'A'), maxAccounts: 2 }, { ...base, scheduler: m.scheduler }));
      m.flush();
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail)).toEqual(['A,B:fifo', 'C:fifo']);
      expect(run.report().report.accounts_fetched).toBe(3);
    }),
  );

  it(
    'should share one results request among batches finishing together',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler });
      const payloads = ['A', 'B', 'C', 'D', 'E'].map((a) => payloadOf(a, `${a}2`));
      const run = record(m.scheduler, runBatches(fake.client, payloads, { ...base, concurrency: 5, scheduler: m.scheduler }));
      m.flush();
      const results = fake.requests.filter((r) => r.kind === 'results');
      expect(results).toEqual([{ at: 16, kind: 'results', detail: 'A,A2,B,B2,C,C2,D,D2,E,E2' }]);
      expect(run.all.filter((e) => e.type === 'results').map((e) => (e.type === 'results' ? e.results.rows.map((r) => r.account_code) : []))).toEqual(
        payloads.map((p) => p.portfolio.map((x) => x.account_code)),
      );
      // One poll loop per batch: 3 polls each.
      expect(fake.requests.filter((r) => r.kind === 'status')).toHaveLength(15);
    }),
  );

  it(
    'should hold a batch that shares an account with one in flight until that one has its results',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler });
      const run = record(
        m.scheduler,
        runBatches(fake.client, [payloadOf('A', 'B'), payloadOf('B', 'C'), payloadOf('D')], { ...base, concurrency: 4, scheduler: m.scheduler }),
        fake.idOf,
      );
      m.flush();
      expect(run.log.filter(([, e]) => !e.startsWith('status'))).toEqual([
        [0, 'waiting 2 for 1'],
        [1, 'submitted #1 A,B'],
        [1, 'submitted #2 D'],
        [17, 'results #1 A,B'],
        [17, 'results #2 D'],
        [18, 'submitted #3 B,C'],
        [34, 'results #3 B,C'],
        [34, 'report'],
      ]);
      // The second batch holding B is sent after the first one's results arrived: never both in flight.
      expect(fake.requests.find((r) => r.detail === 'B,C:fifo')?.at).toBe(17);
      expect(run.report().report.accounts_fetched).toBe(5);
    }),
  );

  it(
    'should refuse a batch sharing an account with one in flight when onOverlap is fail, and run the rest',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A', 'B'), payloadOf('B', 'C')], { ...base, onOverlap: 'fail', scheduler: m.scheduler }));
      m.flush();
      const refused = run.all.find((e) => e.type === 'error');
      expect(refused?.type === 'error' && refused.error).toBeInstanceOf(AccountOverlapError);
      expect(refused?.type === 'error' && refused.accountCodes).toEqual(['B', 'C']);
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail)).toEqual(['A,B:fifo']);
      const { report } = run.report();
      expect(report.batches.map((b) => b.status)).toEqual(['completed', 'not_submitted']);
      expect(report.batches[1].error).toMatch(/shares accounts with 1/);
    }),
  );

  it(
    'should report a failed batch as an error event and finish the others',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler, outcome: (i) => (i === 0 ? 'failed' : 'completed') });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('B')], { ...base, scheduler: m.scheduler }));
      m.flush();
      const errors = run.all.filter((e) => e.type === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].type === 'error' && errors[0].error).toBeInstanceOf(BatchFailedError);
      expect(run.state.done).toBe(true);
      const { report } = run.report();
      expect(report.batches.map((b) => [b.status, b.error === undefined])).toEqual([
        ['failed', false],
        ['completed', true],
      ]);
      expect(report.accounts_fetched).toBe(1);
      // No results request was made for the failed batch's accounts.
      expect(fake.requests.filter((r) => r.kind === 'results').map((r) => r.detail)).toEqual(['B']);
    }),
  );

  it(
    'should end the whole run with the error when the key is refused',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler, refuse: () => new AuthenticationError({ status: 401, body: '{"error":{"message":"Invalid or expired API key"}}' }) });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('B')], { ...base, concurrency: 1, scheduler: m.scheduler }));
      m.flush();
      expect(run.state.error).toBeInstanceOf(AuthenticationError);
      expect(fake.requests.filter((r) => r.kind === 'submit')).toHaveLength(1);
    }),
  );

  it(
    'should send no submit for a chunk waiting on a shared account when the key is refused',
    marbles((m) => {
      // The guard frees chunk 1's account as its work errors, before the error ends the run:
      // chunk 2, waiting for A, started its submit then.
      const fake = fakeC9({ scheduler: m.scheduler, refuse: () => new AuthenticationError({ status: 401, body: '{"error":{"message":"Invalid or expired API key"}}' }) });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('A')], { ...base, concurrency: 2, scheduler: m.scheduler }));
      m.flush();
      expect(run.state.error).toBeInstanceOf(AuthenticationError);
      expect(fake.requests.filter((r) => r.kind === 'submit')).toHaveLength(1);
    }),
  );

  it(
    'should run the chunks after one whose split throws (not a fatal error)',
    marbles((m) => {
      // A streamed request whose subset() throws: its chunk gets an error event and the run
      // goes on; only a fatal error may stop the chunks waiting behind it from sending.
      const fake = fakeC9({ scheduler: m.scheduler });
      const tooLarge = new PayloadTooLargeError({ status: 413, body: '' });
      const client = {
        ...fake.client,
        submitBatch: (payload: Parameters<typeof fake.client.submitBatch>[0], options?: Parameters<typeof fake.client.submitBatch>[1]) =>
          'portfolio' in payload ? fake.client.submitBatch(payload, options) : timer(1, m.scheduler).pipe(map((): never => { throw tooLarge; })),
      };
      const streamed = {
        options: {},
        accountCodes: ['A', 'B'],
        positions: async function* () {},
        subset: (): never => {
          throw new Error('the file cannot be read again');
        },
      };
      const run = record(m.scheduler, runBatches(client, [streamed, payloadOf('A'), payloadOf('C')], { ...base, concurrency: 1, scheduler: m.scheduler }));
      m.flush();
      expect(run.state.done).toBe(true);
      expect(run.all.flatMap((e) => (e.type === 'error' ? [`${e.chunk} ${e.error.message}`] : []))).toEqual(['1 the file cannot be read again']);
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail)).toEqual(['A:fifo', 'C:fifo']);
    }),
  );

  it(
    'should split a batch refused with 413 in halves by account down to single accounts, and say so',
    marbles((m) => {
      const tooLarge = () => new PayloadTooLargeError({ status: 413, body: '' });
      const fake = fakeC9({ scheduler: m.scheduler, refuse: (accounts) => (accounts.includes('BIG') ? tooLarge() : undefined) });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A', 'B', 'C', 'BIG')], { ...base, scheduler: m.scheduler }), fake.idOf);
      m.flush();
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail)).toEqual(['A,B,C,BIG:fifo', 'A,B:fifo', 'C,BIG:fifo', 'C:fifo', 'BIG:fifo']);
      expect(run.log.filter(([, e]) => /split|error|submitted|results/.test(e)).map(([, e]) => e)).toEqual([
        'split 1 into 1.1 1.2',
        'submitted #1 A,B',
        'split 1.2 into 1.2.1 1.2.2',
        'submitted #2 C',
        'error 1.2.2 PayloadTooLargeError',
        'results #1 A,B',
        'results #2 C',
      ]);
      const last = run.report();
      expect(last.splits).toEqual([
        { chunk: '1', accounts: 4, into: ['1.1', '1.2'] },
        { chunk: '1.2', accounts: 2, into: ['1.2.1', '1.2.2'] },
      ]);
      expect(last.report.accounts_fetched).toBe(3);
      expect(last.report.batches.map((b) => b.batch_id)).toEqual([fake.idOf(1), fake.idOf(2), null]);
      expect(last.report.batches[2]).toEqual({ batch_id: null, status: 'not_submitted', runtime_ms: null, accounts: 1, chunk: '1.2.2', error: expect.stringContaining('413') });
      expect(last.report.splits).toEqual(last.splits);
    }),
  );

  it(
    'should keep the halves of a 413 split within `concurrency`',
    marbles((m) => {
      // concurrency 1: each half was submitted at once beside the other, so a split chunk
      // had two (after a second split, three) batches in flight in its one slot.
      const tooLarge = () => new PayloadTooLargeError({ status: 413, body: '' });
      const fake = fakeC9({ scheduler: m.scheduler, refuse: (accounts) => (accounts.length > 1 && accounts.includes('BIG') ? tooLarge() : undefined) });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A', 'B', 'C', 'BIG'), payloadOf('D')], { ...base, concurrency: 1, scheduler: m.scheduler }), fake.idOf);
      let inFlight = 0;
      let most = 0;
      m.flush();
      for (const event of run.all) {
        if (event.type === 'submitted') most = Math.max(most, ++inFlight);
        if (event.type === 'results' || (event.type === 'error' && event.batch)) inFlight--;
      }
      expect(most).toBe(1);
      // Every account still margined once, in input order.
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail)).toEqual(['A,B,C,BIG:fifo', 'A,B:fifo', 'C,BIG:fifo', 'C:fifo', 'BIG:fifo', 'D:fifo']);
      expect(run.report().report.accounts_fetched).toBe(5);
    }),
  );

  it(
    'should run the halves of a 413 split side by side only in a free slot, and never wait for one',
    marbles((m) => {
      // concurrency 2: chunk 2 shares A with chunk 1 and holds the other slot while it waits in
      // the overlap guard, so chunk 1's halves must share its slot (waiting for one would deadlock).
      const tooLarge = () => new PayloadTooLargeError({ status: 413, body: '' });
      const fake = fakeC9({ scheduler: m.scheduler, refuse: (accounts) => (accounts.length > 1 && accounts.includes('BIG') ? tooLarge() : undefined) });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A', 'B', 'C', 'BIG'), payloadOf('A'), payloadOf('D')], { ...base, concurrency: 2, scheduler: m.scheduler }), fake.idOf);
      m.flush();
      let inFlight = 0;
      let most = 0;
      for (const event of run.all) {
        if (event.type === 'submitted') most = Math.max(most, ++inFlight);
        if (event.type === 'results' || (event.type === 'error' && event.batch)) inFlight--;
      }
      expect(run.state.done).toBe(true);
      expect(most).toBe(2);
      // The halves one after the other; chunk 2 (A) once chunk 1 is done, then D in the slot it held.
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => [r.at, r.detail])).toEqual([
        [0, 'A,B,C,BIG:fifo'],
        [1, 'A,B:fifo'],
        [18, 'C,BIG:fifo'],
        [19, 'C:fifo'],
        [36, 'BIG:fifo'],
        [53, 'A:fifo'],
        [53, 'D:fifo'],
      ]);
      expect(run.report().report.accounts_fetched).toBe(6);
    }),
  );

  it(
    'should send no submit when it is unsubscribed while chunks wait for a shared account',
    marbles((m) => {
      // The guard hands the accounts of the cancelled chunk 1 to chunk 2, then chunk 3, within
      // the run's own teardown: each started its submit before being unsubscribed in turn.
      const fake = fakeC9({ scheduler: m.scheduler });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('A'), payloadOf('A')], { ...base, concurrency: 3, scheduler: m.scheduler }));
      m.scheduler.schedule(() => run.subscription.unsubscribe(), 5);
      m.flush();
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.at)).toEqual([0]);
    }),
  );

  it(
    'should send no submit for the chunks after an event on which the subscriber leaves while the run starts',
    marbles((m) => {
      // Chunk 2's `waiting` comes while the chunks are being subscribed: the run kept
      // subscribing them for an observer that had left, and chunk 3 (B) sent its submit.
      const fake = fakeC9({ scheduler: m.scheduler });
      const seen: string[] = [];
      runBatches(fake.client, [payloadOf('A'), payloadOf('A'), payloadOf('B')], { ...base, concurrency: 3, scheduler: m.scheduler })
        .pipe(take(1))
        .subscribe((event) => seen.push(event.type));
      m.flush();
      expect(seen).toEqual(['waiting']);
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail)).toEqual(['A:fifo']);
    }),
  );

  it(
    'should not split when splitOnTooLarge is false',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler, refuse: () => new PayloadTooLargeError({ status: 413, body: '' }) });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A', 'B')], { ...base, splitOnTooLarge: false, scheduler: m.scheduler }));
      m.flush();
      expect(fake.requests).toHaveLength(1);
      expect(run.log.map(([, e]) => e)).toEqual(['error 1 PayloadTooLargeError', 'report']);
    }),
  );

  it(
    'should report a stalled batch and a falling percentage as events, and still finish it',
    marbles((m) => {
      const script = [10, 10, 10, 50, 30];
      const fake = fakeC9({
        scheduler: m.scheduler,
        durationMs: () => 0,
        status: (computed, _batch, call) => (call < script.length ? { ...computed, status: 'processing', completed_pct: script[call] } : computed),
      });
      const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A')], { ...base, stallPolls: 2, scheduler: m.scheduler }), fake.idOf);
      m.flush();
      expect(run.log.map(([, e]) => e)).toEqual([
        'submitted #1 A',
        'status #1 processing 10',
        'status #1 processing 10',
        'status #1 processing 10',
        'stalled #1 after 2',
        'status #1 processing 50',
        'status #1 processing 30',
        'regressed #1 50->30',
        'status #1 completed 100',
        'results #1 A',
        'report',
      ]);
    }),
  );

  it(
    'should not send a batch holding an account of one whose end is unknown (its polling timed out), and run the others',
    marbles((m) => {
      // Batch #1 (A) never finishes within the 50 ms deadline: it may still run on the server.
      const fake = fakeC9({ scheduler: m.scheduler, durationMs: (accounts) => (accounts.includes('A') && !accounts.includes('C') ? 1_000_000 : 10) });
      const run = record(
        m.scheduler,
        runBatches(fake.client, [payloadOf('A'), payloadOf('A', 'C'), payloadOf('B')], { ...base, poll: { ...base.poll, timeoutMs: 50 }, concurrency: 4, scheduler: m.scheduler }),
        fake.idOf,
      );
      m.flush();
      expect(run.log.filter(([, e]) => !e.startsWith('status'))).toEqual([
        [0, 'waiting 2 for 1'],
        [1, 'submitted #1 A'],
        [1, 'submitted #2 B'],
        [17, 'results #2 B'],
        [51, 'error 1 BatchTimeoutError'],
        [51, 'error 2 AccountOverlapError'],
        [51, 'report'],
      ]);
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail)).toEqual(['A:fifo', 'B:fifo']);
      const refused = run.all.find((e) => e.type === 'error' && e.chunk === '2');
      expect(refused?.type === 'error' && refused.error.message).toBe(
        `2 shares accounts with batch ${fake.idOf(1)}, whose end is unknown (BatchTimeoutError), still in flight: A`,
      );
    }),
  );

  it(
    'should not send a batch holding an account of a submit that may have reached the server, but send it after one that cannot have',
    marbles((m) => {
      for (const mayHaveReachedServer of [true, false]) {
        const lost = new ConnectionError('socket hang up', { mayHaveReachedServer });
        const fake = fakeC9({ scheduler: m.scheduler, refuse: (_accounts, i) => (i === 0 ? lost : undefined) });
        const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('A', 'C')], { ...base, concurrency: 4, scheduler: m.scheduler }), fake.idOf);
        m.flush();
        const submits = fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail);
        const errors = run.all.flatMap((e) => (e.type === 'error' ? [`${e.chunk} ${e.error.constructor.name}`] : []));
        if (mayHaveReachedServer) {
          expect(submits).toEqual(['A:fifo']);
          expect(errors).toEqual(['1 ConnectionError', '2 AccountOverlapError']);
        } else {
          expect(submits).toEqual(['A:fifo', 'A,C:fifo']);
          expect(errors).toEqual(['1 ConnectionError']);
        }
      }
    }),
  );

  it(
    'should not send a batch holding an account of a submit the server may have queued (a 5xx other than 503, a 2xx it could not read)',
    marbles((m) => {
      // The client does not resend a submit answered 500 (it "may have queued the batch before
      // failing"), nor one whose 202 it could not read: such a batch may run and write A's row.
      const cases: [Error, boolean][] = [
        [new InternalServerError({ status: 500, body: '' }), true],
        [new InternalServerError({ status: 504, body: '<html>gateway timeout</html>' }), true],
        [new InvalidResponseError({ status: 202, body: '<html>', reason: 'not JSON' }), true],
        [new DecodeError('batch accepted', ['batch_id'], ['batch_id: missing']), true],
        [new InternalServerError({ status: 503, body: '' }), false],
        [new RateLimitError({ status: 429, body: '' }), false],
        [new BadRequestError({ status: 400, body: '' }), false],
      ];
      for (const [lost, mayHaveQueued] of cases) {
        const fake = fakeC9({ scheduler: m.scheduler, refuse: (_accounts, i) => (i === 0 ? lost : undefined) });
        const run = record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('A', 'C')], { ...base, concurrency: 4, scheduler: m.scheduler }), fake.idOf);
        m.flush();
        const submits = fake.requests.filter((r) => r.kind === 'submit').map((r) => r.detail);
        const errors = run.all.flatMap((e) => (e.type === 'error' ? [`${e.chunk} ${e.error.constructor.name}`] : []));
        const name = lost.constructor.name;
        expect([name, submits]).toEqual([name, mayHaveQueued ? ['A:fifo'] : ['A:fifo', 'A,C:fifo']]);
        expect([name, errors]).toEqual([name, mayHaveQueued ? [`1 ${name}`, '2 AccountOverlapError'] : [`1 ${name}`]]);
      }
    }),
  );

  it(
    'should time polls from the progress rate by default (adaptive polling)',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler, durationMs: () => 10_000 });
      record(m.scheduler, runBatches(fake.client, [payloadOf('A')], { results: { windowMs: 2 }, scheduler: m.scheduler }));
      m.flush();
      // Poll at 1 (0 %), after the 1 s fallback at 1002 (10 %): 90 % to go at that rate is ≈ 9 s, so the
      // next poll lands right after the batch is done at 10 001, instead of every second (less half
      // of the 1 ms round trip: the wait runs from when the answer was made).
      const polls = fake.requests.filter((r) => r.kind === 'status').map((r) => r.at);
      expect(polls).toEqual([1, 1002, 10011.5]);
    }),
  );

  it(
    'should send replace_all with the first accepted submit only, the others as fifo after its answer',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler, refuse: (_a, i) => (i === 0 ? new BadRequestError({ status: 400, body: '{"error":"bad"}' }) : undefined) });
      record(m.scheduler, runBatches(fake.client, [payloadOf('A'), payloadOf('B'), payloadOf('C')], { ...base, processingMode: 'replace_all', scheduler: m.scheduler }));
      m.flush();
      // A's replace_all is refused (nothing dropped), so B carries it; C waits for B's answer.
      expect(fake.requests.filter((r) => r.kind === 'submit').map((r) => [r.at, r.detail])).toEqual([
        [0, 'A:replace_all'],
        [1, 'B:replace_all'],
        [2, 'C:fifo'],
      ]);
    }),
  );

  it(
    'should leave no timer and send nothing more once unsubscribed',
    marbles((m) => {
      const fake = fakeC9({ scheduler: m.scheduler, durationMs: () => 1000 });
      let subscription: Subscription | undefined;
      m.scheduler.schedule(() => (subscription = runBatches(fake.client, [payloadOf('A'), payloadOf('B')], { ...base, scheduler: m.scheduler }).subscribe()), 0);
      m.scheduler.schedule(() => subscription?.unsubscribe(), 30);
      m.flush();
      expect(fake.requests.every((r) => r.at <= 30)).toBe(true);
      expect(fake.requests.length).toBeGreaterThan(2);
      expect(m.scheduler.actions).toHaveLength(0);
    }),
  );

  it('should throw a TypeError at call time for invalid input or configuration', () => {
    const { client } = fakeC9({ scheduler: { now: () => 0, schedule: () => { throw new Error('unused'); } } as never });
    expect(() => runBatches(client, [payloadOf('A')], { concurrency: 0 })).toThrow(TypeError);
    expect(() => runBatches(client, [payloadOf('A')], { processingMode: 'lifo' as never })).toThrow(TypeError);
    expect(() => runBatches(client, [{ positions: [] } as never])).toThrow(TypeError);
    expect(() => runBatches(client, { payload: payloadOf('A'), maxAccounts: 0 })).toThrow(TypeError);
    expect(() => runBatches(client, [payloadOf('A')], { stallPolls: 0 })).toThrow(TypeError);
    expect(() => runBatches(client, [payloadOf('A')], { top: -1 })).toThrow(TypeError);
  });

  it(
    'should hold the requests of every batch when one of them gets a 429 with a retry delay (shared throttle)',
    marbles((m) => {
      const sent: { at: number; method: string; url: string }[] = [];
      let statusCalls = 0;
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}): Observable<TransportResponse> =>
        timer(1, m.scheduler).pipe(map(() => ({ status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })));
      let submits = 0;
      const transport = (request: TransportRequest): Observable<TransportResponse> => {
        sent.push({ at: m.scheduler.now(), method: request.method, url: request.url.replace('http://127.0.0.1:1', '') });
        if (request.method === 'POST') return reply(202, { batch_id: `00000000-0000-4000-8000-00000000000${++submits}` });
        if (request.url.endsWith('/results/accounts')) return reply(200, []);
        const id = request.url.split('/').pop() as string;
        // The very first status request is throttled for 1 s; the rest answer completed.
        if (statusCalls++ === 0) return reply(429, { error: 'Rate limit exceeded' }, { 'retry-after': '1' });
        return reply(200, { batch_id: id, status: 'completed', completed_pct: 100 });
      };
      const client = createClient({ endpoint: 'http://127.0.0.1:1', apiKey: 'sk-test-throttle-key', transport, scheduler: m.scheduler, retry: { jitter: 0 } });
      const run = record(m.scheduler, runBatches(client, [payloadOf('A'), payloadOf('B')], { ...base, scheduler: m.scheduler }));
      m.flush();
      expect(run.state.done).toBe(true);
      const statuses = sent.filter((s) => s.method === 'GET' && s.url.startsWith('/portfolios'));
      // Batch 1's first poll (sent at 1) gets a 429 asking for 1 s at 2. Batch 2's poll was already
      // on its way and says completed at 2; its results request, due at 4, is held until 1002 too.
      expect(statuses.map((s) => s.at)).toEqual([1, 1, 1002]);
      const results = sent.filter((s) => s.url.startsWith('/results'));
      // Batch 2's results at 1002; batch 1's retried poll answers at 1003, its results follow the 2 ms window.
      expect(results.map((s) => s.at)).toEqual([1002, 1005]);
      expect(sent.filter((s) => s.at > 2 && s.at < 1002)).toEqual([]);
    }),
  );
});

describe('runBatches over HTTP', () => {
  it('should stream a 200,000-position payload to the server in bounded chunks and get its results', async () => {
    const accounts = 2000;
    const portfolio = Array.from({ length: 200_000 }, (_, i) => ({
      account_code: `ACC${String(i % accounts).padStart(5, '0')}`,
      exchange_code: 'CME',
      contract_code: 'ES',
      contract_type: 'FUT',
      contract_expiry: '202512',
      net_position: (i % 7) - 3,
      position_id: `p${i}`,
    }));
    const payload: PortfolioRequest = { currency_code: 'USD', portfolio };
    const batchId = '0badf00d-0000-4000-8000-000000000001';

    let received = '';
    let receivedBytes = 0;
    let submittedCodes: string[] = [];
    const server = http.createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/portfolios/batch') {
        const parts: Buffer[] = [];
        req.on('data', (chunk: Buffer) => {
          receivedBytes += chunk.length;
          parts.push(chunk);
        });
        req.on('end', () => {
          received = Buffer.concat(parts).toString('utf8');
          submittedCodes = [...new Set((JSON.parse(received) as { portfolio: { account_code: string }[] }).portfolio.map((p) => p.account_code))];
          send(202, { batch_id: batchId });
        });
        return;
      }
      if (req.url === `/portfolios/batch/${batchId}`) return send(200, { batch_id: batchId, status: 'completed', completed_pct: 100 });
      if (req.url === '/results/accounts') {
        return send(200, submittedCodes.map((account_code) => ({ account_code, portfolio_id: `p-${account_code}`, request_id: batchId, initial_margin: 1 })));
      }
      send(404, { error: 'not found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    // Measures what the serializer hands to the socket, chunk by chunk.
    let bodyWasStreamed = false;
    let largestChunk = 0;
    let chunks = 0;
    const real = fetchTransport();
    const measuring = (request: TransportRequest) => {
      const { body } = request;
      if (typeof body !== 'function') return real(request);
      bodyWasStreamed = true;
      return real({
        ...request,
        body: async function* measured() {
          for await (const chunk of body()) {
            chunks++;
            largestChunk = Math.max(largestChunk, chunk.length);
            yield chunk;
          }
        },
      });
    };
    try {
      const client = createClient({ endpoint: `http://127.0.0.1:${port}`, apiKey: 'sk-large-payload-spec', transport: measuring });
      const events = await lastValueFrom(runBatches(client, [payload], { adaptive: false, poll: { initialIntervalMs: 1, jitter: 0 } }).pipe(toArray()));
      const last = events[events.length - 1];
      expect(last.type === 'report' && last.report.accounts_fetched).toBe(accounts);

      expect(received).toBe(JSON.stringify(payload));
      expect(receivedBytes).toBe(Buffer.byteLength(received));
      // Written incrementally: many pieces, none larger than a few hundred kB (1,000 positions each).
      expect(bodyWasStreamed).toBe(true);
      expect(chunks).toBeGreaterThan(100);
      expect(largestChunk).toBeLessThan(256 * 1024);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

import { catchError, of, take, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { marbles } from 'rxjs-marbles/jest';
import type { BatchStatus } from '../../src/codecs';
import type { BatchStatusResponse, C9Client } from '../../src/http/client';
import { BatchTimeoutError } from '../../src/http/errors';
import { pollUntilTerminal, type PollConfig } from '../../src/operators/pollUntilTerminal';
import type { SubmittedBatch } from '../../src/types';

const BATCH_ID = '8b0f3a52-1c1e-4d8e-9a35-0d6f0c1e2b7a';
const batch: SubmittedBatch = {
  batchId: BATCH_ID,
  accountCodes: ['ACC1'],
  submittedAt: '1970-01-01T00:00:00.000Z',
  processingMode: 'fifo',
  endpoint: 'http://127.0.0.1:1',
};

function status(value: string, extra: Partial<BatchStatus> = {}): BatchStatus {
  return { batch_id: BATCH_ID, status: value, ...extra };
}

function answer(value: BatchStatus, retryAfterMs?: number): BatchStatusResponse {
  return { status: value, retryAfterMs };
}

/** A client whose status endpoint answers call i with `answers(i)`; every other endpoint is a test failure. */
function fakeClient(answers: (call: number, batchId: string) => Observable<BatchStatusResponse>) {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call to ${name}`);
  };
  let calls = 0;
  const getBatchStatus = jest.fn((batchId: string): Observable<BatchStatusResponse> => answers(calls++, batchId));
  const client: C9Client = {
    endpoint: 'http://127.0.0.1:1',
    submitBatch: unexpected('submitBatch'),
    getBatchStatus,
    getAccountResults: unexpected('getAccountResults'),
    calculate: unexpected('calculate'),
    getResults: unexpected('getResults'),
    healthcheck: unexpected('healthcheck'),
  };
  return { client, getBatchStatus };
}

/** Turns the stream's error into a value, so its fields can be compared as data. */
function errorFields<T>(source: Observable<T>): Observable<T | Record<string, unknown>> {
  return source.pipe(
    catchError((error: unknown) =>
      of(
        error instanceof BatchTimeoutError
          ? { timeout: true, batchId: error.batchId, lastStatus: error.lastStatus, queuePosition: error.queuePosition, elapsedMs: error.elapsedMs }
          : { unexpected: String(error) },
      ),
    ),
  );
}

const fixed: PollConfig = { factor: 1, jitter: 0 };

describe('pollUntilTerminal', () => {
  it(
    'should poll at once on subscription and emit the terminal status before completing',
    marbles((m) => {
      const q = answer(status('queued', { queue_position: 0 }));
      const p = answer(status('processing', { completed_pct: 50 }));
      const c = answer(status('completed', { completed_pct: 100 }));
      // A client answers once and completes at its answer (the C9Client contract).
      const colds = [m.cold('(a|)', { a: q }), m.cold('(a|)', { a: p }), m.cold('(a|)', { a: c })];
      const { client } = fakeClient((i) => colds[i]);
      const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 10, timeoutMs: 1000, scheduler: m.scheduler }));
      m.expect(polled).toBeObservable('a 9ms b 9ms (c|)', { a: q.status, b: p.status, c: c.status });
      m.expect(colds[0]).toHaveSubscriptions('(^!)');
      m.expect(colds[1]).toHaveSubscriptions('10ms (^!)');
      m.expect(colds[2]).toHaveSubscriptions('20ms (^!)');
    }),
  );

  it(
    'should send no further poll and leave no wait scheduled when the subscriber unsubscribes on a status',
    marbles((m) => {
      const q = answer(status('queued', { queue_position: 3 }));
      const { client, getBatchStatus } = fakeClient(() => m.cold('5ms (a|)', { a: q }));
      // take(1) unsubscribes while the first status is being delivered, before expand asks for the next wait.
      const first = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 100, timeoutMs: 1000, scheduler: m.scheduler }), take(1));
      m.expect(first).toBeObservable('5ms (a|)', { a: q.status });
      m.flush();
      expect(getBatchStatus).toHaveBeenCalledTimes(1);
      expect(m.scheduler.now()).toBe(5);
    }),
  );

  it(
    'should keep one request in flight and count the wait from each answer when answers are slower than the interval',
    marbles((m) => {
      const q = answer(status('processing'));
      const c = answer(status('completed'));
      const colds = [m.cold('50ms (a|)', { a: q }), m.cold('50ms (a|)', { a: q }), m.cold('50ms (a|)', { a: c })];
      const { client } = fakeClient((i) => colds[i]);
      const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 10, timeoutMs: 1000, scheduler: m.scheduler }));
      m.expect(polled).toBeObservable('50ms a 59ms a 59ms (c|)', { a: q.status, c: c.status });
      m.expect(colds[0]).toHaveSubscriptions('^ 49ms !');
      m.expect(colds[1]).toHaveSubscriptions('60ms ^ 49ms !');
      m.expect(colds[2]).toHaveSubscriptions('120ms ^ 49ms !');
    }),
  );

  it(
    'should grow the wait by factor up to maxIntervalMs while nothing changes',
    marbles((m) => {
      const q = answer(status('queued', { queue_position: 3 }));
      const c = answer(status('completed'));
      const { client } = fakeClient((i) => m.cold('a|', { a: i < 5 ? q : c }));
      const polled = of(batch).pipe(
        pollUntilTerminal(client, { initialIntervalMs: 10, factor: 2, maxIntervalMs: 50, jitter: 0, timeoutMs: 1000, scheduler: m.scheduler }),
      );
      // waits: 10, 20, 40, 50 (80 capped), 50
      m.expect(polled).toBeObservable('a 9ms a 19ms a 39ms a 49ms a 49ms (c|)', { a: q.status, c: c.status });
    }),
  );

  it(
    'should reset the wait to initialIntervalMs when status, completed_pct or queue_position changes',
    marbles((m) => {
      const seq = [
        answer(status('queued', { queue_position: 3 })),
        answer(status('queued', { queue_position: 3 })),
        answer(status('queued', { queue_position: 2 })),
        answer(status('queued', { queue_position: 2 })),
        answer(status('processing', { completed_pct: 10 })),
        answer(status('processing', { completed_pct: 20 })),
        answer(status('completed', { completed_pct: 100 })),
      ];
      const { client } = fakeClient((i) => m.cold('a|', { a: seq[i] }));
      const polled = of(batch).pipe(
        pollUntilTerminal(client, { initialIntervalMs: 10, factor: 2, maxIntervalMs: 1000, jitter: 0, timeoutMs: 5000, scheduler: m.scheduler }),
      );
      // waits: 10 (first), 20 (no change), 10 (position moved), 20, 10 (status changed), 10 (pct changed)
      const values = Object.fromEntries(seq.map((a, i) => [String(i), a.status]));
      m.expect(polled).toBeObservable('0 9ms 1 19ms 2 9ms 3 19ms 4 9ms 5 9ms (6|)', values);
    }),
  );

  it(
    'should spread each wait by ±jitter using the injected random source',
    marbles((m) => {
      const q = answer(status('processing'));
      const c = answer(status('completed'));
      const draws = [0, 0.75];
      let draw = 0;
      const random = jest.fn((): number => draws[draw++]);
      const { client } = fakeClient((i) => m.cold('a|', { a: i < 2 ? q : c }));
      const polled = of(batch).pipe(
        pollUntilTerminal(client, { initialIntervalMs: 100, factor: 1, maxIntervalMs: 1000, jitter: 0.1, random, timeoutMs: 5000, scheduler: m.scheduler }),
      );
      // random 0 → 100 − 10 % = 90; random 0.75 → 100 + 5 % = 105
      m.expect(polled).toBeObservable('a 89ms a 104ms (c|)', { a: q.status, c: c.status });
      m.flush();
      expect(random).toHaveBeenCalledTimes(2);
    }),
  );

  it(
    'should wait as long as the server hint asks, even beyond maxIntervalMs',
    marbles((m) => {
      const hinted = answer(status('queued', { queue_position: 1 }), 200);
      const c = answer(status('completed'));
      const { client } = fakeClient((i) => m.cold('a|', { a: i === 0 ? hinted : c }));
      const polled = of(batch).pipe(
        pollUntilTerminal(client, { initialIntervalMs: 10, maxIntervalMs: 50, jitter: 0, timeoutMs: 1000, scheduler: m.scheduler }),
      );
      m.expect(polled).toBeObservable('a 199ms (c|)', { a: hinted.status, c: c.status });
    }),
  );

  it(
    'should error with BatchTimeoutError naming the batch, last status and queue position when the deadline passes while queued',
    marbles((m) => {
      const q = answer(status('queued', { queue_position: 4 }));
      const { client, getBatchStatus } = fakeClient(() => m.cold('a|', { a: q }));
      const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 30, timeoutMs: 100, scheduler: m.scheduler }));
      m.expect(errorFields(polled)).toBeObservable('a 29ms a 29ms a 29ms a 9ms (e|)', {
        a: q.status,
        e: { timeout: true, batchId: BATCH_ID, lastStatus: 'queued', queuePosition: 4, elapsedMs: 100 },
      });
      m.flush();
      expect(getBatchStatus).toHaveBeenCalledTimes(4);
    }),
  );

  it(
    'should cancel the request in flight when the deadline passes',
    marbles((m) => {
      const q = answer(status('queued', { queue_position: 2 }));
      const slow = m.cold('200ms a|', { a: answer(status('completed')) });
      const colds = [m.cold('a|', { a: q }), slow];
      const { client, getBatchStatus } = fakeClient((i) => colds[i]);
      const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 30, timeoutMs: 100, scheduler: m.scheduler }));
      m.expect(errorFields(polled)).toBeObservable('a 99ms (e|)', {
        a: q.status,
        e: { timeout: true, batchId: BATCH_ID, lastStatus: 'queued', queuePosition: 2, elapsedMs: 100 },
      });
      m.expect(slow).toHaveSubscriptions('30ms ^ 69ms !');
      m.flush();
      expect(getBatchStatus).toHaveBeenCalledTimes(2);
    }),
  );

  it(
    'should report that no status arrived when the very first request outlives the deadline',
    marbles((m) => {
      const slow = m.cold('500ms a|', { a: answer(status('queued')) });
      const { client } = fakeClient(() => slow);
      const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 10, timeoutMs: 100, scheduler: m.scheduler }));
      m.expect(errorFields(polled)).toBeObservable('100ms (e|)', {
        e: { timeout: true, batchId: BATCH_ID, lastStatus: undefined, queuePosition: undefined, elapsedMs: 100 },
      });
      m.expect(slow).toHaveSubscriptions('^ 99ms !');
    }),
  );

  it(
    'should keep polling through an unknown status and name it when the deadline passes',
    marbles((m) => {
      const odd = answer(status('on_hold'));
      const { client } = fakeClient(() => m.cold('a|', { a: odd }));
      const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 40, timeoutMs: 100, scheduler: m.scheduler }));
      m.expect(errorFields(polled)).toBeObservable('a 39ms a 39ms a 19ms (e|)', {
        a: odd.status,
        e: { timeout: true, batchId: BATCH_ID, lastStatus: 'on_hold', queuePosition: undefined, elapsedMs: 100 },
      });
    }),
  );

  it(
    'should leave no request open and send no further poll after unsubscription',
    marbles((m) => {
      const q = answer(status('processing'));
      const inFlight = m.cold('20ms a|', { a: q });
      const colds = [m.cold('a|', { a: q }), inFlight];
      const { client, getBatchStatus } = fakeClient((i) => colds[i] ?? m.cold('a|', { a: q }));
      const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 30, timeoutMs: 1000, scheduler: m.scheduler }));
      m.expect(polled, '^ 45ms !').toBeObservable('a', { a: q.status });
      m.expect(inFlight).toHaveSubscriptions('30ms ^ 15ms !');
      m.flush();
      expect(getBatchStatus).toHaveBeenCalledTimes(2);
    }),
  );

  for (const timeoutMs of [1000, Infinity]) {
    it(
      `should cancel the scheduled wait when unsubscribed during it (timeoutMs ${timeoutMs})`,
      marbles((m) => {
        const q = answer(status('processing'));
        const { client, getBatchStatus } = fakeClient(() => m.cold('a|', { a: q }));
        const polled = of(batch).pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 30, timeoutMs, scheduler: m.scheduler }));
        // Answers at 0 and 30; unsubscribed at 45, in the middle of the wait for the poll at 60.
        m.expect(polled, '^ 44ms !').toBeObservable('a 29ms a', { a: q.status });
        m.flush();
        expect(getBatchStatus).toHaveBeenCalledTimes(2);
        // Nothing left on the scheduler: neither the wait nor the deadline.
        expect(m.scheduler.actions).toHaveLength(0);
      }),
    );
  }

  it(
    'should keep backoff and deadline per subscription when one polling observable is subscribed twice',
    marbles((m) => {
      const q = answer(status('queued', { queue_position: 1 }));
      const { client } = fakeClient(() => m.cold('a|', { a: q }));
      const polled = of(batch).pipe(
        pollUntilTerminal(client, { initialIntervalMs: 10, factor: 2, maxIntervalMs: 1000, jitter: 0, timeoutMs: 100, scheduler: m.scheduler }),
      );
      const timedOut = { timeout: true, batchId: BATCH_ID, lastStatus: 'queued', queuePosition: 1, elapsedMs: 100 };
      // Each subscription: polls at +0, +10, +30, +70 and times out at +100 of its own clock.
      m.expect(errorFields(polled)).toBeObservable('a 9ms a 19ms a 39ms a 29ms (e|)', { a: q.status, e: timedOut });
      m.expect(errorFields(polled), '50ms ^').toBeObservable('50ms a 9ms a 19ms a 39ms a 29ms (e|)', { a: q.status, e: timedOut });
    }),
  );

  it(
    'should poll several input batches concurrently, each to its own terminal status',
    marbles((m) => {
      const other: SubmittedBatch = { ...batch, batchId: 'other' };
      const { client } = fakeClient((_, id) =>
        id === BATCH_ID ? m.cold('20ms a|', { a: answer(status('completed')) }) : m.cold('a|', { a: answer({ batch_id: 'other', status: 'failed' }) }),
      );
      const input = m.cold('a 4ms b|', { a: batch, b: other });
      const polled = input.pipe(pollUntilTerminal(client, { ...fixed, initialIntervalMs: 10, timeoutMs: 100, scheduler: m.scheduler }));
      // The second batch's answer arrives while the first batch's request is still in flight.
      m.expect(polled).toBeObservable('5ms b 14ms (a|)', { a: status('completed'), b: { batch_id: 'other', status: 'failed' } });
    }),
  );

  it('should not overflow the stack when 2,000 answers arrive synchronously with a 0 ms interval', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const busy = answer(status('processing'));
    const done = answer(status('completed'));
    const { client, getBatchStatus } = fakeClient((i) => of(i < 2000 ? busy : done));
    const seen: string[] = [];
    let failure: unknown;
    scheduler.run(({ flush }) => {
      of(batch)
        .pipe(pollUntilTerminal(client, { initialIntervalMs: 0, maxIntervalMs: 0, jitter: 0, timeoutMs: 1000, scheduler }))
        .subscribe({ next: (s) => seen.push(s.status), error: (e: unknown) => (failure = e) });
      flush();
    });
    expect(failure).toBeUndefined();
    expect(seen).toHaveLength(2001);
    expect(seen[2000]).toBe('completed');
    expect(getBatchStatus).toHaveBeenCalledTimes(2001);
  });

  it('should throw a TypeError when the operator is made with an invalid configuration', () => {
    const { client } = fakeClient(() => of(answer(status('completed'))));
    const bad: PollConfig[] = [
      { initialIntervalMs: -1 },
      { initialIntervalMs: Number.NaN },
      { factor: 0.5 },
      { maxIntervalMs: 10, initialIntervalMs: 20 },
      { maxIntervalMs: 2 ** 31 },
      { jitter: 1.5 },
      { jitter: -0.1 },
      { timeoutMs: 0 },
      { timeoutMs: 2 ** 31 },
      { random: 'x' as unknown as () => number },
      { scheduler: {} as unknown as PollConfig['scheduler'] },
    ];
    for (const config of bad) expect(() => pollUntilTerminal(client, config)).toThrow(TypeError);
    expect(() => pollUntilTerminal(client, { timeoutMs: Infinity })).not.toThrow();
    expect(() => pollUntilTerminal(client)).not.toThrow();
  });
});

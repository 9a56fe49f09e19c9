import { map, of, timer, type Observable } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { BatchStatus } from '../../src/codecs';
import type { BatchStatusResponse, C9Client } from '../../src/http/client';
import { clientWith } from '../support/clientWith';
import { adaptivePollInterval } from '../../src/operators/adaptivePollInterval';
import { pollUntilTerminal } from '../../src/operators/pollUntilTerminal';
import type { SubmittedBatch } from '../../src/types';

const BATCH_ID = '5e1f0000-0000-4000-8000-00000000ad01';
const batch: SubmittedBatch = { batchId: BATCH_ID, accountCodes: ['A'], submittedAt: new Date(0).toISOString(), processingMode: 'fifo' };

const st = (status: string, extra: Partial<BatchStatus> = {}): BatchStatus => ({ batch_id: BATCH_ID, status, ...extra });

/** A client whose status call i answers at once with `statuses[i]` (and hint i, if any); records when each call was made. */
function scripted(now: () => number, statuses: BatchStatus[], hints: (number | undefined)[] = []) {
  const at: number[] = [];
  const client: C9Client = clientWith({
    getBatchStatus: (): Observable<BatchStatusResponse> => {
      const i = at.length;
      at.push(now());
      return of({ status: statuses[i], retryAfterMs: hints[i] });
    },
  });
  return { client, at };
}

const noBackoff = { factor: 1, jitter: 0, initialIntervalMs: 10, maxIntervalMs: 10, timeoutMs: 1_000_000 };

describe('adaptivePollInterval', () => {
  it(
    'should aim the next poll at the ETA from the rate completed_pct rises',
    marbles((m) => {
      const { client, at } = scripted(() => m.scheduler.now(), [
        st('processing', { completed_pct: 0 }),
        st('processing', { completed_pct: 25 }), // 25 % in 1 000 ms → 75 % left takes 3 000 ms
        st('completed', { completed_pct: 100 }),
      ]);
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, minIntervalMs: 50, maxIntervalMs: 60_000 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(at).toEqual([0, 1000, 4000]);
    }),
  );

  it(
    'should estimate the start of a queued batch from the rate its queue position falls',
    marbles((m) => {
      const { client, at } = scripted(() => m.scheduler.now(), [
        st('queued', { queue_position: 4 }),
        st('queued', { queue_position: 2 }), // 2 places in 1 000 ms → 3 more places (2, 1, 0) take 1 500 ms
        st('processing', { completed_pct: 0 }),
        st('completed', { completed_pct: 100 }),
      ]);
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, factor: 2, maxIntervalMs: 60_000 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      // After the first processing answer nothing is known about its speed: fallback again (reset to 1 000).
      expect(at).toEqual([0, 1000, 2500, 3500]);
    }),
  );

  it(
    'should keep every wait within min and max bounds',
    marbles((m) => {
      const { client, at } = scripted(() => m.scheduler.now(), [
        st('processing', { completed_pct: 0 }),
        st('processing', { completed_pct: 99.99 }), // ETA ≈ 0.1 ms → min 200
        st('processing', { completed_pct: 99.995 }), // 0.005 % left at the measured rate: well under the min → 200
        st('completed', { completed_pct: 100 }),
      ]);
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, minIntervalMs: 200, maxIntervalMs: 5000 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(at).toEqual([0, 1000, 1200, 1400]);

      const slow = scripted(() => m.scheduler.now(), [
        st('processing', { completed_pct: 0 }),
        st('processing', { completed_pct: 1 }), // 1 % per 1 000 ms → 99 000 ms left → max 5 000
        st('completed', { completed_pct: 100 }),
      ]);
      const start = m.scheduler.now();
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(slow.client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(slow.at.map((t) => t - start)).toEqual([0, 1000, 6000]);
    }),
  );

  it(
    'should grow the fallback by factor while answers give nothing to estimate from, up to the max',
    marbles((m) => {
      const stuck = st('processing', { completed_pct: 10 });
      const { client, at } = scripted(() => m.scheduler.now(), [stuck, stuck, stuck, stuck, stuck, st('completed')]);
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, factor: 2, minIntervalMs: 0, maxIntervalMs: 5000 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(at).toEqual([0, 1000, 3000, 7000, 12000, 17000]);
    }),
  );

  it(
    'should restart the measurement when completed_pct goes backwards',
    marbles((m) => {
      const { client, at } = scripted(() => m.scheduler.now(), [
        st('processing', { completed_pct: 50 }),
        st('processing', { completed_pct: 10 }), // backwards: no rate, fallback
        st('processing', { completed_pct: 20 }), // 10 % in 1 000 ms from the restart → 80 % takes 8 000
        st('completed', { completed_pct: 100 }),
      ]);
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, factor: 1, maxIntervalMs: 60_000 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(at).toEqual([0, 1000, 2000, 10000]);
    }),
  );

  it(
    'should wait only etaFraction of the estimate',
    marbles((m) => {
      const { client, at } = scripted(() => m.scheduler.now(), [
        st('processing', { completed_pct: 0 }),
        st('processing', { completed_pct: 50 }), // 1 000 ms left, half of it waited
        st('completed', { completed_pct: 100 }),
      ]);
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, etaFraction: 0.5 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(at).toEqual([0, 1000, 1500]);
    }),
  );

  it(
    'should wait past the estimate when etaFraction is above 1',
    marbles((m) => {
      const { client, at } = scripted(() => m.scheduler.now(), [
        st('processing', { completed_pct: 0 }),
        st('processing', { completed_pct: 50 }), // 1 000 ms left, 1.2 times that waited
        st('completed', { completed_pct: 100 }),
      ]);
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, etaFraction: 1.2 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(at).toEqual([0, 1000, 2200]);
    }),
  );

  it(
    'should let a server hint win over the estimate',
    marbles((m) => {
      const { client, at } = scripted(
        () => m.scheduler.now(),
        [st('processing', { completed_pct: 0 }), st('completed')],
        [7000],
      );
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      expect(at).toEqual([0, 7000]);
    }),
  );

  // The strategy alone, told when each request was sent and its answer read (a client busy
  // elsewhere reads answers late), so the clocks can disagree as they do under load.
  const answer = (status: BatchStatus, sentAtMs: number, nowMs: number) => ({ status, sentAtMs, nowMs, startedAtMs: 0, backoffMs: 1000 });

  it('should measure the time between answers with runtime_ms when the client read one late', () => {
    const next = adaptivePollInterval({ fallbackIntervalMs: 1000, maxIntervalMs: 60_000 })();
    // Made at 0 (runtime 0), read only at 300: the client's clock would put it at 150.
    expect(next(answer(st('processing', { completed_pct: 0, runtime_ms: 0 }), 0, 300))).toBe(1000);
    // Made at 1 300, read at 1 301: 26 % in 1 300 ms by the server's clock → 74 % takes 3 700 ms,
    // less the half round trip since it was made.
    expect(next(answer(st('processing', { completed_pct: 26, runtime_ms: 1300 }), 1300, 1301))).toBeCloseTo(3699.5, 6);
  });

  it('should use the client\'s clock, between round-trip midpoints, when runtime_ms is absent or does not fit', () => {
    for (const runtimes of [[undefined, undefined], [0, 60_000], [500, 400]]) {
      const next = adaptivePollInterval({ fallbackIntervalMs: 1000, maxIntervalMs: 60_000 })();
      next(answer(st('processing', { completed_pct: 0, runtime_ms: runtimes[0] }), 0, 300));
      // Midpoints 150 and 1 300.5: 26 % in 1 150.5 ms → 74 % takes 3 275 ms (rounded), less 0.5.
      const wait = next(answer(st('processing', { completed_pct: 26, runtime_ms: runtimes[1] }), 1300, 1301));
      expect(wait).toBeCloseTo((74 / (26 / 1150.5)) - 0.5, 6);
    }
  });

  it(
    'should aim at the ETA from runtime_ms in a poll loop whose first answer is read late',
    marbles((m) => {
      const at: number[] = [];
      // Each answer is made when its request arrives (runtime_ms = that time); the first is read
      // 300 ms later (the client was busy), the others after 1 ms. The batch is done at 5 200.
      const statuses = [st('processing', { completed_pct: 0 }), st('processing', { completed_pct: 25 }), st('completed', { completed_pct: 100 })];
      const readAfter = [300, 1, 1];
      const client: C9Client = clientWith({
        getBatchStatus: (): Observable<BatchStatusResponse> => {
          const i = at.length;
          const made = m.scheduler.now();
          at.push(made);
          return timer(readAfter[i], m.scheduler).pipe(map((): BatchStatusResponse => ({ status: { ...statuses[i], runtime_ms: made }, retryAfterMs: undefined })));
        },
      });
      const nextInterval = adaptivePollInterval({ fallbackIntervalMs: 1000, minIntervalMs: 10, maxIntervalMs: 60_000 });
      m.scheduler.schedule(() => of(batch).pipe(pollUntilTerminal(client, { ...noBackoff, nextInterval, scheduler: m.scheduler })).subscribe(), 0);
      m.flush();
      // Made at 0 and 1 300: 25 % in 1 300 ms → 75 % takes 3 900 ms; read at 1 301, less half
      // that round trip: sent at 5 200.5. The client's read times alone (300 → 1 301) gave 4 304.
      expect(at).toEqual([0, 1300, 5200.5]);
    }),
  );

  it('should keep separate history per polled batch', () => {
    const make = adaptivePollInterval({ fallbackIntervalMs: 1000 });
    const first = make();
    const second = make();
    first({ status: st('processing', { completed_pct: 0 }), nowMs: 0, startedAtMs: 0, backoffMs: 0 });
    // The second batch has seen nothing yet: fallback, not the first batch's rate.
    expect(second({ status: st('processing', { completed_pct: 50 }), nowMs: 1000, startedAtMs: 0, backoffMs: 0 })).toBe(1000);
    expect(first({ status: st('processing', { completed_pct: 50 }), nowMs: 1000, startedAtMs: 0, backoffMs: 0 })).toBe(1000);
  });

  it('should throw a TypeError for invalid bounds when made', () => {
    expect(() => adaptivePollInterval({ minIntervalMs: -1 })).toThrow(TypeError);
    expect(() => adaptivePollInterval({ minIntervalMs: 500, maxIntervalMs: 100 })).toThrow(TypeError);
    expect(() => adaptivePollInterval({ factor: 0.5 })).toThrow(TypeError);
    expect(() => adaptivePollInterval({ etaFraction: 0 })).toThrow(TypeError);
    expect(() => adaptivePollInterval({ etaFraction: 2.5 })).toThrow(TypeError);
    expect(() => adaptivePollInterval({ fallbackIntervalMs: Number.NaN })).toThrow(TypeError);
  });

  it('should make pollUntilTerminal refuse a nextInterval that is not a function', () => {
    const { client } = scripted(() => 0, []);
    expect(() => pollUntilTerminal(client, { nextInterval: 5 as unknown as () => () => number })).toThrow(TypeError);
  });
});

import { of, type Observable } from 'rxjs';
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

import { take, type Observable, type Subscription } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { BatchStatus } from '../../src/codecs';
import type { BatchStatusResponse, C9Client } from '../../src/http/client';
import { clientWith } from '../support/clientWith';
import { NotFoundError } from '../../src/http/errors';
import { createBatchWatcher } from '../../src/streams/batchWatcher';
import type { SubmittedBatch } from '../../src/types';

const ID_A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const ID_B = 'bbbbbbbb-0000-4000-8000-00000000000b';
const handle = (batchId: string): SubmittedBatch => ({ batchId, accountCodes: ['X'], submittedAt: new Date(0).toISOString(), processingMode: 'fifo' });
const st = (batchId: string, status: string, pct?: number): BatchStatus => ({ batch_id: batchId, status, ...(pct === undefined ? {} : { completed_pct: pct }) });

/** A client whose status endpoint answers with `answer(batchId, call number for that id)`; counts calls per id. */
function fakeClient(answer: (batchId: string, call: number) => Observable<BatchStatusResponse>) {
  const calls = new Map<string, number>();
  const client: C9Client = clientWith({
    getBatchStatus: (batchId) => {
      const call = calls.get(batchId) ?? 0;
      calls.set(batchId, call + 1);
      return answer(batchId, call);
    },
  });
  return { client, calls };
}

const poll = { initialIntervalMs: 10, factor: 1, jitter: 0, timeoutMs: 10_000 };

describe('createBatchWatcher', () => {
  it(
    'should serve three subscribers of one batch from one poll loop, replaying the latest status to late ones',
    marbles((m) => {
      const statuses = [st(ID_A, 'queued'), st(ID_A, 'processing', 50), st(ID_A, 'completed', 100)];
      const { client, calls } = fakeClient((_id, i) => m.cold('-a|', { a: { status: statuses[i], retryAfterMs: undefined } }));
      const watcher = createBatchWatcher(client, { ...poll, scheduler: m.scheduler });
      const values = { q: statuses[0], p: statuses[1], c: statuses[2] };
      // Answers at 1, 12, 23 (each 10 ms after the previous answer, 1 ms in flight).
      m.expect(watcher.watch(handle(ID_A))).toBeObservable('-q----------p----------(c|)', values);
      const results: { at: number; status: string }[] = [];
      m.scheduler.schedule(() => {
        watcher.watch(handle(ID_A)).subscribe((s) => results.push({ at: m.scheduler.now(), status: s.status }));
      }, 5);
      m.scheduler.schedule(() => {
        watcher.watch(handle(ID_A)).subscribe((s) => results.push({ at: m.scheduler.now(), status: `third:${s.status}` }));
      }, 15);
      m.flush();
      expect(calls.get(ID_A)).toBe(3);
      expect(results).toEqual([
        { at: 5, status: 'queued' }, // replayed at once
        { at: 12, status: 'processing' },
        { at: 15, status: 'third:processing' }, // replayed at once
        { at: 23, status: 'completed' },
        { at: 23, status: 'third:completed' },
      ]);
      expect(watcher.activeBatchIds).toEqual([]);
    }),
  );

  it(
    'should send no further poll and leave no wait scheduled when the only subscriber takes one status',
    marbles((m) => {
      const { client, calls } = fakeClient(() => m.cold('5ms (a|)', { a: { status: st(ID_A, 'queued'), retryAfterMs: undefined } }));
      const watcher = createBatchWatcher(client, { ...poll, initialIntervalMs: 100, scheduler: m.scheduler });
      m.expect(watcher.watch(handle(ID_A)).pipe(take(1))).toBeObservable('5ms (q|)', { q: st(ID_A, 'queued') });
      m.flush();
      expect(calls.get(ID_A)).toBe(1);
      expect(m.scheduler.now()).toBe(5);
      expect(watcher.activeBatchIds).toEqual([]);
    }),
  );

  it(
    'should stop the loop and drop the registry entry when the last subscriber unsubscribes',
    marbles((m) => {
      const answers: Observable<BatchStatusResponse>[] = [];
      const { client, calls } = fakeClient(() => {
        const answer = m.cold('--a|', { a: { status: st(ID_A, 'processing', 10), retryAfterMs: undefined } });
        answers.push(answer);
        return answer;
      });
      const watcher = createBatchWatcher(client, { ...poll, scheduler: m.scheduler });
      let one: Subscription | undefined;
      let two: Subscription | undefined;
      const seen: string[][] = [];
      m.scheduler.schedule(() => {
        one = watcher.watch(handle(ID_A)).subscribe();
        two = watcher.watch(handle(ID_A)).subscribe();
        seen.push([...watcher.activeBatchIds]);
      }, 0);
      m.scheduler.schedule(() => {
        one?.unsubscribe();
        seen.push([...watcher.activeBatchIds]); // one subscriber left: still polling
      }, 15);
      m.scheduler.schedule(() => {
        two?.unsubscribe(); // mid-request (the poll sent at 24 would answer at 26)
        seen.push([...watcher.activeBatchIds]);
      }, 25);
      m.flush();
      expect(seen).toEqual([[ID_A], [ID_A], []]);
      expect(calls.get(ID_A)).toBe(3); // at 0, 12 and 24; nothing after the last unsubscribe
      m.expect(answers[2]).toHaveSubscriptions('24ms ^!');
    }),
  );

  it(
    'should start a new loop for a subscriber that comes after the terminal status',
    marbles((m) => {
      const { client, calls } = fakeClient(() => m.cold('-a|', { a: { status: st(ID_A, 'completed', 100), retryAfterMs: undefined } }));
      const watcher = createBatchWatcher(client, { ...poll, scheduler: m.scheduler });
      const watched = watcher.watch(handle(ID_A));
      m.expect(watched).toBeObservable('-(c|)', { c: st(ID_A, 'completed', 100) });
      m.scheduler.schedule(() => watched.subscribe(), 50);
      m.flush();
      expect(calls.get(ID_A)).toBe(2);
      expect(watcher.activeBatchIds).toEqual([]);
    }),
  );

  it(
    'should keep one loop per batch id',
    marbles((m) => {
      const { client, calls } = fakeClient((id) => m.cold('-a|', { a: { status: st(id, 'completed'), retryAfterMs: undefined } }));
      const watcher = createBatchWatcher(client, { ...poll, scheduler: m.scheduler });
      m.expect(watcher.watch(handle(ID_A))).toBeObservable('-(a|)', { a: st(ID_A, 'completed') });
      m.expect(watcher.watch(handle(ID_B))).toBeObservable('-(b|)', { b: st(ID_B, 'completed') });
      m.expect(watcher.watch(handle(ID_A))).toBeObservable('-(a|)', { a: st(ID_A, 'completed') });
      m.flush();
      expect(Object.fromEntries(calls)).toEqual({ [ID_A]: 1, [ID_B]: 1 });
    }),
  );

  it(
    'should give every subscriber the error and free the entry, so a later watch polls afresh',
    marbles((m) => {
      const error = new NotFoundError({ status: 404, body: '{"error":"batch not found"}' });
      const { client, calls } = fakeClient(() => m.cold('-#', undefined, error));
      const watcher = createBatchWatcher(client, { ...poll, scheduler: m.scheduler });
      m.expect(watcher.watch(handle(ID_A))).toBeObservable('-#', undefined, error);
      m.expect(watcher.watch(handle(ID_A))).toBeObservable('-#', undefined, error);
      m.flush();
      expect(calls.get(ID_A)).toBe(1);
      expect(watcher.activeBatchIds).toEqual([]);
      watcher.watch(handle(ID_A)).subscribe({ error: () => undefined });
      m.flush();
      expect(calls.get(ID_A)).toBe(2);
    }),
  );

  it(
    'should replay the terminal status, without a new loop, to a subscriber that arrives while the completion is delivered',
    marbles((m) => {
      const { client, calls } = fakeClient(() => m.cold('-a|', { a: { status: st(ID_A, 'completed', 100), retryAfterMs: undefined } }));
      const watcher = createBatchWatcher(client, { ...poll, scheduler: m.scheduler });
      const late: string[] = [];
      watcher.watch(handle(ID_A)).subscribe({
        complete: () => {
          watcher.watch(handle(ID_A)).subscribe({ next: (s) => late.push(s.status), complete: () => late.push('done') });
        },
      });
      m.flush();
      expect(late).toEqual(['completed', 'done']);
      expect(calls.get(ID_A)).toBe(1);
      expect(watcher.activeBatchIds).toEqual([]);
    }),
  );

  it(
    'should start a fresh loop, without replaying the old status, when a subscriber comes after the last one left',
    marbles((m) => {
      const { client, calls } = fakeClient((_id, i) => m.cold('-a|', { a: { status: st(ID_A, 'processing', 10 * (i + 1)), retryAfterMs: undefined } }));
      const watcher = createBatchWatcher(client, { ...poll, scheduler: m.scheduler });
      const seen: string[] = [];
      const first = watcher.watch(handle(ID_A)).subscribe();
      m.scheduler.schedule(() => first.unsubscribe(), 5);
      let second: Subscription | undefined;
      m.scheduler.schedule(() => {
        second = watcher.watch(handle(ID_A)).subscribe((s) => seen.push(`${m.scheduler.now()}:${String(s.completed_pct)}`));
      }, 6);
      m.scheduler.schedule(() => second?.unsubscribe(), 8);
      m.flush();
      // No replay of the 10 % the first loop saw: only the second loop's own first answer, 1 ms after it started.
      expect(seen).toEqual(['7:20']);
      expect(calls.get(ID_A)).toBe(2);
      expect(watcher.activeBatchIds).toEqual([]);
    }),
  );

  it('should throw a TypeError for an invalid poll configuration when made', () => {
    const { client } = fakeClient(() => {
      throw new Error('unused');
    });
    expect(() => createBatchWatcher(client, { initialIntervalMs: -1 })).toThrow(TypeError);
  });
});

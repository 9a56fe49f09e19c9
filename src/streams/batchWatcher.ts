/**
 * One polling loop per batch, however many parts of a program watch it.
 */
import { defer, finalize, ReplaySubject, share, type Observable } from 'rxjs';
import type { BatchStatus } from '../codecs';
import type { C9Client } from '../http/client';
import { batchPoller, type PollConfig } from '../operators/pollUntilTerminal';
import type { SubmittedBatch } from '../types';

/** A registry of shared polling loops; see {@link createBatchWatcher}. */
export interface BatchWatcher {
  /**
   * The statuses of `batch`, ending with the terminal one. Every subscriber of the same
   * batch id shares one polling loop; a subscriber that joins late first gets the latest
   * status. The loop stops when its last subscriber leaves, or at the terminal status.
   */
  watch(batch: SubmittedBatch): Observable<BatchStatus>;
  /** Batch ids with a running loop (for tests and diagnostics). */
  readonly activeBatchIds: readonly string[];
}

/**
 * Makes a registry of polling loops, one per batch id, each a {@link pollUntilTerminal}
 * with `config`. A loop starts with its first subscriber, is shared (`share` with a
 * one-status replay) by every later one, and is torn down, and its registry entry removed,
 * when the last subscriber unsubscribes or the batch reaches a terminal status. After
 * that, `watch` starts a fresh loop (whose first poll answers with the terminal status).
 * The poll deadline counts from the loop's start, i.e. from its first subscriber.
 *
 * ```
 * subscriber 1:  ^-----------------!
 * subscriber 2:        ^----------------------!
 * polls:         ^-q   (L)  ^-p        ^-p    !      one loop; L = latest status replayed to subscriber 2
 * ```
 *
 * Example:
 * ```ts
 * const watcher = createBatchWatcher(client, { initialIntervalMs: 2_000 });
 * watcher.watch(batch).subscribe(renderProgressBar);
 * watcher.watch(batch).pipe(last()).subscribe(fetchWhenDone); // same loop, no second poller
 * ```
 *
 * @param client the API client
 * @param config polling backoff, deadline, strategy and scheduler; see {@link PollConfig}
 * @throws TypeError when the poll configuration is invalid (at call time)
 */
export function createBatchWatcher(client: C9Client, config: PollConfig = {}): BatchWatcher {
  const poll = batchPoller(client, config);
  const loops = new Map<string, Observable<BatchStatus>>();

  const create = (batch: SubmittedBatch): Observable<BatchStatus> => {
    const { batchId } = batch;
    // Counts connections, so the teardown of an old connection (after an error and a
    // synchronous re-subscribe, say) never removes the entry of the one that replaced it.
    let connections = 0;
    const loop: Observable<BatchStatus> = defer(() => {
      const connection = ++connections;
      loops.set(batchId, loop);
      return poll(batch).pipe(
        finalize(() => {
          if (connection === connections && loops.get(batchId) === loop) loops.delete(batchId);
        }),
      );
    }).pipe(
      share({
        connector: () => new ReplaySubject<BatchStatus>(1),
        resetOnError: true,
        // A subscriber arriving while the completion is being delivered gets the terminal
        // status from the replay instead of starting a loop the registry no longer knows.
        resetOnComplete: false,
        resetOnRefCountZero: true,
      }),
    );
    return loop;
  };

  return {
    watch(batch: SubmittedBatch): Observable<BatchStatus> {
      if (typeof batch?.batchId !== 'string') throw new TypeError('watch: batch must be a submitted batch with a batchId');
      // Looked up per subscription: a subscriber after the loop ended starts a new one.
      return defer(() => loops.get(batch.batchId) ?? create(batch));
    },
    get activeBatchIds(): readonly string[] {
      return [...loops.keys()];
    },
  };
}

/**
 * One polling loop per batch, however many parts of a program watch it.
 */
import { defer, Observable, Subscription, type Subscriber } from 'rxjs';
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

  // The loop of one batch, shared by its subscribers. This is what
  // `defer(start).pipe(finalize(drop), share({ connector: () => new ReplaySubject(1),
  // resetOnError: true, resetOnComplete: false, resetOnRefCountZero: true }))` did, written
  // out because thousands of batches are polled at once: that chain held about 2 KB per
  // batch for the loop's life and copied its subscriber list on every status.
  const create = (batch: SubmittedBatch): Observable<BatchStatus> => {
    const { batchId } = batch;
    // Replaced, never changed in place, so a status is delivered to the list as it was when
    // the status arrived, even when a subscriber leaves or joins meanwhile.
    let subscribers: readonly Subscriber<BatchStatus>[] = [];
    // The latest status, replayed to a subscriber that joins; kept after the terminal one.
    let latest: BatchStatus | undefined;
    let completed = false;
    let connection: Subscription | undefined;
    // Counts connections, so the end of an old connection (after an error and a synchronous
    // re-subscribe, say) never removes the entry of the one that replaced it.
    let connections = 0;

    const reset = (): void => {
      connection = undefined;
      latest = undefined;
      completed = false;
    };

    const connect = (): void => {
      const id = ++connections;
      const current = new Subscription();
      connection = current;
      loops.set(batchId, loop);
      // Runs once the statuses, terminal one or error included, reached every subscriber, so
      // one arriving meanwhile still finds this loop (and gets the terminal status replayed).
      current.add(() => {
        if (id === connections && loops.get(batchId) === loop) loops.delete(batchId);
      });
      current.add(
        poll(batch).subscribe({
          next: ({ status }) => {
            if (connection !== current) return;
            latest = status;
            const list = subscribers;
            for (let i = 0; i < list.length; i++) list[i].next(status);
          },
          error: (error: unknown) => {
            if (connection !== current) return;
            // Reset first: a subscriber that re-subscribes while the error is delivered starts a fresh loop.
            const list = subscribers;
            subscribers = [];
            reset();
            for (let i = 0; i < list.length; i++) list[i].error(error);
            current.unsubscribe();
          },
          complete: () => {
            if (connection !== current) return;
            completed = true;
            const list = subscribers;
            subscribers = [];
            for (let i = 0; i < list.length; i++) list[i].complete();
            current.unsubscribe();
          },
        }),
      );
    };

    const loop: Observable<BatchStatus> = new Observable<BatchStatus>((subscriber) => {
      if (completed) {
        // Ended with its terminal status: replayed, and no new loop from this (stale) entry.
        if (latest !== undefined) subscriber.next(latest);
        subscriber.complete();
        return;
      }
      subscribers = [...subscribers, subscriber];
      subscriber.add(() => {
        subscribers = subscribers.filter((other) => other !== subscriber);
        if (subscribers.length === 0 && !completed) {
          // The last subscriber left: stop polling; the next one starts afresh, without a replay.
          const stopped = connection;
          reset();
          stopped?.unsubscribe();
        }
      });
      if (latest !== undefined) subscriber.next(latest);
      // Not when the subscriber left during the replay (take(1), say).
      if (connection === undefined && subscribers.length > 0) connect();
    });
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

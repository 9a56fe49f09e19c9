/**
 * One polling loop per batch, however many parts of a program watch it.
 */
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { BatchStatus } from '../codecs';
import type { BatchStatusResponse, C9Client } from '../http/client';
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
 * with `config`. A loop starts with its first subscriber, is shared by every later one (who
 * first gets the latest status replayed), and is torn down, and its registry entry removed,
 * when the last subscriber unsubscribes, the loop errors (every subscriber gets the error),
 * or the batch reaches a terminal status. After
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
  const loops = new Map<string, SharedLoop>();
  return {
    watch(batch: SubmittedBatch): Observable<BatchStatus> {
      if (typeof batch?.batchId !== 'string') throw new TypeError('watch: batch must be a submitted batch with a batchId');
      // Looked up per subscription: a subscriber after the loop ended starts a new one.
      return new Observable<BatchStatus>((subscriber) => {
        (loops.get(batch.batchId) ?? new SharedLoop(batch, poll, loops)).join(subscriber);
      });
    },
    get activeBatchIds(): readonly string[] {
      return [...loops.keys()];
    },
  };
}

/**
 * The loop of one batch, shared by its subscribers. This is what
 * `defer(start).pipe(finalize(drop), share({ connector: () => new ReplaySubject(1),
 * resetOnError: true, resetOnComplete: false, resetOnRefCountZero: true }))` did, written out
 * as one object because thousands of batches are polled at once: that chain held about 2 KB
 * per batch for the loop's life and copied its subscriber list on every status.
 */
class SharedLoop {
  // Replaced, never changed in place, so a status is delivered to the list as it was when
  // the status arrived, even when a subscriber leaves or joins meanwhile.
  private subscribers: readonly Subscriber<BatchStatus>[] = [];
  // The latest status, replayed to a subscriber that joins; kept after the terminal one.
  private latest: BatchStatus | undefined;
  private completed = false;
  private connection: LoopConnection | undefined;
  // Counts connections, so the end of an old connection (after an error and a synchronous
  // re-subscribe, say) never removes the entry of the one that replaced it.
  private connections = 0;

  constructor(
    private readonly batch: SubmittedBatch,
    private readonly poll: (batch: SubmittedBatch) => Observable<BatchStatusResponse>,
    private readonly loops: Map<string, SharedLoop>,
  ) {}

  join(subscriber: Subscriber<BatchStatus>): void {
    if (this.completed) {
      // Ended with its terminal status: replayed, and no new loop from this (stale) entry.
      if (this.latest !== undefined) subscriber.next(this.latest);
      subscriber.complete();
      return;
    }
    this.subscribers = [...this.subscribers, subscriber];
    subscriber.add(() => this.leave(subscriber));
    if (this.latest !== undefined) subscriber.next(this.latest);
    // Not when the subscriber left during the replay (take(1), say).
    if (this.connection === undefined && this.subscribers.length > 0) this.connect();
  }

  next(from: LoopConnection, status: BatchStatus): void {
    if (this.connection !== from) return;
    this.latest = status;
    const list = this.subscribers;
    for (let i = 0; i < list.length; i++) list[i].next(status);
  }

  error(from: LoopConnection, error: unknown): void {
    if (this.connection !== from) return;
    // Reset first: a subscriber that re-subscribes while the error is delivered starts a fresh loop.
    const list = this.subscribers;
    this.subscribers = [];
    this.reset();
    for (let i = 0; i < list.length; i++) list[i].error(error);
    from.unsubscribe();
  }

  complete(from: LoopConnection): void {
    if (this.connection !== from) return;
    this.completed = true;
    const list = this.subscribers;
    this.subscribers = [];
    for (let i = 0; i < list.length; i++) list[i].complete();
    from.unsubscribe();
  }

  /**
   * Runs once a connection's statuses, terminal one or error included, reached every
   * subscriber, so one arriving meanwhile still finds this loop (and gets the terminal status replayed).
   */
  ended(id: number): void {
    const { batchId } = this.batch;
    if (id === this.connections && this.loops.get(batchId) === this) this.loops.delete(batchId);
  }

  private connect(): void {
    const connection = new LoopConnection(this, ++this.connections);
    this.connection = connection;
    this.loops.set(this.batch.batchId, this);
    connection.start(this.poll(this.batch));
  }

  private leave(subscriber: Subscriber<BatchStatus>): void {
    this.subscribers = this.subscribers.filter((other) => other !== subscriber);
    if (this.subscribers.length === 0 && !this.completed) {
      // The last subscriber left: stop polling; the next one starts afresh, without a replay.
      const stopped = this.connection;
      this.reset();
      stopped?.unsubscribe();
    }
  }

  private reset(): void {
    this.connection = undefined;
    this.latest = undefined;
    this.completed = false;
  }
}

/** One run of a shared loop's polling: the observer of the poll and its teardown, in one object. */
class LoopConnection {
  private closed = false;
  private source: Subscription | undefined;

  constructor(
    private readonly loop: SharedLoop,
    private readonly id: number,
  ) {}

  start(polls: Observable<BatchStatusResponse>): void {
    const source = polls.subscribe(this);
    // Ended while subscribing (an answer that came synchronously was terminal, say).
    if (this.closed) source.unsubscribe();
    else this.source = source;
  }

  next(response: BatchStatusResponse): void {
    this.loop.next(this, response.status);
  }

  error(error: unknown): void {
    this.loop.error(this, error);
  }

  complete(): void {
    this.loop.complete(this);
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.loop.ended(this.id);
    this.source?.unsubscribe();
  }
}

/**
 * The polling step: one submitted batch in, its statuses out until a terminal one.
 */
import {
  asyncScheduler,
  defer,
  EMPTY,
  expand,
  map,
  mergeMap,
  Observable,
  type OperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
  takeWhile,
} from 'rxjs';
import { isTerminalStatus, type BatchStatus } from '../codecs';
import type { BatchStatusResponse, C9Client } from '../http/client';
import { BatchTimeoutError } from '../http/errors';
import type { SubmittedBatch } from '../types';

/**
 * The longest delay a timer can take: Node (and browsers) run a longer interval timer
 * after 1 ms instead, which would turn a long wait into a busy poll.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link pollUntilTerminal}. All times are in milliseconds. */
export interface PollConfig {
  /** Wait after the first answer, and after any answer that shows progress. Default 1 000. */
  readonly initialIntervalMs?: number;
  /** Growth of the wait after each answer that shows no progress. Default 1.5. */
  readonly factor?: number;
  /** Cap of the computed wait (jitter included). A server hint is not capped. Default 15 000. */
  readonly maxIntervalMs?: number;
  /** Jitter as a fraction of the wait: 0.1 spreads each wait over ±10 %. Default 0.1. */
  readonly jitter?: number;
  /** Random source in [0, 1) for the jitter; inject a fixed one in tests. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Overall deadline, counted from subscription, covering waits, retries and requests in
   * flight. `Infinity` polls without a deadline. Default 30 minutes.
   */
  readonly timeoutMs?: number;
  /** The scheduler of every wait and of the deadline. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * Replaces the backoff with a strategy of your own (e.g. {@link adaptivePollInterval}).
   * Called once per polled batch (per subscription), so the strategy it returns may keep
   * that batch's history. A server hint still wins, and the deadline still applies.
   * Default: none (the backoff above).
   */
  readonly nextInterval?: () => PollIntervalStrategy;
}

/** What a {@link PollIntervalStrategy} is told after each non-terminal answer that carries no server hint (a hint wins anyway). */
export interface PollIntervalContext {
  /** The answer just received. */
  readonly status: BatchStatus;
  /** The scheduler's clock when it arrived (ms). */
  readonly nowMs: number;
  /** When the request that brought it was sent (ms, the same clock): the answer was made in between. Always set by pollUntilTerminal; `nowMs` is assumed when absent. */
  readonly sentAtMs?: number;
  /** When polling of this batch began (ms, the same clock). */
  readonly startedAtMs: number;
  /** The wait the built-in backoff would use (jitter included): a fallback for the strategy. */
  readonly backoffMs: number;
}

/** Chooses the wait (ms) before the next poll of one batch; a value that is not a finite number >= 0 falls back to `backoffMs`. */
export type PollIntervalStrategy = (context: PollIntervalContext) => number;

interface ResolvedPollConfig {
  readonly initialIntervalMs: number;
  readonly factor: number;
  readonly maxIntervalMs: number;
  readonly jitter: number;
  readonly random: () => number;
  readonly timeoutMs: number;
  readonly scheduler: SchedulerLike;
  readonly nextInterval: (() => PollIntervalStrategy) | undefined;
}

/**
 * Polls `GET /portfolios/batch/{id}` for each submitted batch and emits every status, the
 * terminal one (`completed`, `failed`, `completed_with_errors`) included, then completes.
 *
 * - The first poll is sent at subscription. The next one is sent a wait after the previous
 *   answer arrived, so there is never more than one status request in flight per batch,
 *   however slow the server is.
 * - The wait starts at `initialIntervalMs` and grows by `factor` after every answer that
 *   shows no progress, up to `maxIntervalMs`, with ±`jitter` spread drawn from `random`.
 *   An answer whose `status`, `completed_pct` or `queue_position` changed resets it to
 *   `initialIntervalMs`: a batch that moves is likely to move again soon, and one that
 *   sits in the queue is polled less and less often.
 * - A server hint (`retryAfterMs` on a 200) replaces the computed wait and is honoured in
 *   full, even beyond `maxIntervalMs`: polling earlier than the server asked only adds
 *   load it told us to avoid. The deadline still applies.
 * - There is always an asynchronous gap between polls (at least `timer(0)`), so a client
 *   that answers synchronously cannot grow the stack poll after poll.
 * - One deadline, `timeoutMs`, runs from subscription. When it passes, the request in
 *   flight (if any) is cancelled and the stream errors with a {@link BatchTimeoutError}
 *   naming the batch, the last status seen (possibly one this library does not know:
 *   unknown statuses are non-terminal) and the queue position.
 * - Several input batches are polled concurrently (`mergeMap`), each with its own backoff
 *   and its own deadline: a batch that is still queued must not hold back the others.
 *   Tell their statuses apart by `batch_id`.
 *
 * ```
 * initialIntervalMs = 10, factor = 2, jitter = 0, each answer takes 5 ms, q = queued (no change)
 * request:  ^----!         ^----!                   ^----!
 * output:   -----q--------------q------------------------(c|)
 * wait:          |---10ms--|    |-------20ms--------|
 * deadline: ^------------------- timeoutMs from subscription ------------------># (BatchTimeoutError)
 * ```
 *
 * Example:
 * ```ts
 * of(batch).pipe(pollUntilTerminal(client, { initialIntervalMs: 2_000, timeoutMs: 10 * 60_000 }))
 *   .subscribe((status) => console.log(status.status, status.completed_pct));
 * ```
 *
 * @param client the API client; its own retry policy handles failed status requests
 * @param config backoff, jitter, deadline and scheduler; see {@link PollConfig}
 * @throws TypeError when a configuration value is out of range
 */
export function pollUntilTerminal(client: C9Client, config: PollConfig = {}): OperatorFunction<SubmittedBatch, BatchStatus> {
  const poll = batchPoller(client, config);
  return mergeMap((batch) => poll(batch).pipe(toStatus));
}

/**
 * The polling of one batch that {@link pollUntilTerminal} runs per input batch, for callers
 * that hold one batch and would otherwise wrap it in `of(batch)` and a `mergeMap` per batch
 * (the batch watcher). It emits the answers (each status with its polling hint), so a caller
 * that reads `.status` itself needs no `map` layer per batch. Not exported from the package:
 * the operator is the public form.
 *
 * Example: `batchPoller(client, { initialIntervalMs: 500 })(batch).subscribe(({ status }) => render(status))`
 *
 * @param client the API client
 * @param config as for {@link pollUntilTerminal}
 * @throws TypeError when a configuration value is out of range
 */
export function batchPoller(client: C9Client, config: PollConfig = {}): (batch: SubmittedBatch) => Observable<BatchStatusResponse> {
  const {
    initialIntervalMs = 1000,
    factor = 1.5,
    maxIntervalMs = 15_000,
    jitter = 0.1,
    random = Math.random,
    timeoutMs = 30 * 60_000,
    scheduler = asyncScheduler,
    nextInterval,
  } = config;
  const resolved: ResolvedPollConfig = { initialIntervalMs, factor, maxIntervalMs, jitter, random, timeoutMs, scheduler, nextInterval };
  validate(resolved);
  return (batch) => pollOne(client, batch, resolved);
}

function validate(c: ResolvedPollConfig): void {
  const fail = (what: string, value: unknown): never => {
    throw new TypeError(`pollUntilTerminal: ${what}; got ${typeof value === 'number' ? String(value) : typeof value}`);
  };
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!isNumber(c.initialIntervalMs) || c.initialIntervalMs < 0) fail('initialIntervalMs must be a finite number >= 0', c.initialIntervalMs);
  if (!isNumber(c.factor) || c.factor < 1) fail('factor must be a finite number >= 1', c.factor);
  if (!isNumber(c.maxIntervalMs) || c.maxIntervalMs < c.initialIntervalMs || c.maxIntervalMs > MAX_TIMER_MS) {
    fail(`maxIntervalMs must be a number between initialIntervalMs and ${MAX_TIMER_MS}`, c.maxIntervalMs);
  }
  if (!isNumber(c.jitter) || c.jitter < 0 || c.jitter > 1) fail('jitter must be a number between 0 and 1', c.jitter);
  if (typeof c.random !== 'function') fail('random must be a function returning a number in [0, 1)', c.random);
  const timeoutOk = c.timeoutMs === Infinity || (isNumber(c.timeoutMs) && c.timeoutMs > 0 && c.timeoutMs <= MAX_TIMER_MS);
  if (!timeoutOk) fail(`timeoutMs must be a number > 0 and <= ${MAX_TIMER_MS}, or Infinity`, c.timeoutMs);
  if (typeof c.scheduler?.now !== 'function' || typeof c.scheduler.schedule !== 'function') fail('scheduler must be an RxJS scheduler', c.scheduler);
  if (c.nextInterval !== undefined && typeof c.nextInterval !== 'function') fail('nextInterval must be a function returning a strategy', c.nextInterval);
}

/** True when the answer shows the batch moved since the previous one. */
function progressed(previous: BatchStatus, current: BatchStatus): boolean {
  return (
    previous.status !== current.status ||
    previous.completed_pct !== current.completed_pct ||
    previous.queue_position !== current.queue_position
  );
}

/** The statuses of the answers. Stateless, so one operator serves every loop. */
const toStatus = map((response: BatchStatusResponse) => response.status);

/** Ends at the answer with the terminal status, which it still emits. Stateless, so one operator serves every loop. */
const untilTerminal = takeWhile((response: BatchStatusResponse) => !isTerminalStatus(response.status.status), true);

/**
 * The state of one subscription to one batch's polling: its clock, backoff, strategy, last
 * status and scheduled wait. One object with methods rather than a closure per callback,
 * because thousands of batches polled at once each hold it for their whole life; the
 * scheduler gets it as its actions' state, so the actions need no closures either.
 */
class PollLoop {
  // Per subscription: a re-subscription (retry, second subscriber) starts a fresh clock and backoff.
  readonly startedAt: number;
  lastSeen: BatchStatus | undefined;
  /** When the request in flight (or last answered) was sent. */
  private sentAt: number;
  private previous: BatchStatus | undefined;
  private interval: number;
  private readonly strategy: PollIntervalStrategy | undefined;
  // The wait before the next request: its length, the subscriber it is for (cleared when it
  // fires), the scheduled action, and the action that ran the last wait, which is scheduled
  // again (the scheduler's own recursive scheduling, which keeps an interval timer when the
  // delay repeats) rather than a new action and timer per poll. expand subscribes one wait
  // at a time.
  private nextDelayMs = 0;
  private waiting: Subscriber<BatchStatusResponse> | undefined;
  private pending: Subscription | undefined;
  private lastAction: SchedulerAction<PollLoop> | undefined;
  /**
   * The wait and the next request as one Observable rather than timer → concatMap: this
   * runs once per poll, and with thousands of batches polled at once the two operator layers
   * per poll were a large share of the client's CPU and garbage. Scheduled even for a 0 ms
   * wait: the asynchronous gap is what keeps the stack flat. No teardown per wait: expand ends
   * a wait's subscription only when the whole loop ends, and then `unsubscribe` (one teardown
   * per loop) cancels it; a closure and a finalizer list per poll, kept until the next poll,
   * were a large share of what each poll left behind.
   */
  readonly requestAfterWait: Observable<BatchStatusResponse>;

  constructor(
    private readonly client: C9Client,
    readonly batch: SubmittedBatch,
    readonly c: ResolvedPollConfig,
  ) {
    this.startedAt = c.scheduler.now();
    this.sentAt = this.startedAt;
    this.interval = c.initialIntervalMs;
    this.strategy = c.nextInterval?.();
    this.requestAfterWait = new Observable<BatchStatusResponse>((subscriber) => {
      // expand emits a status before it subscribes the next wait: a consumer that unsubscribed
      // on that status (take(1), first()) has already run the loop's teardown, which found no
      // wait to cancel. Scheduling now would leave a timer and send a poll nobody reads.
      if (subscriber.closed) return;
      this.waiting = subscriber;
      this.pending =
        this.lastAction === undefined
          ? this.c.scheduler.schedule(fireWait, this.nextDelayMs, this)
          : this.lastAction.schedule(this, this.nextDelayMs);
    });
  }

  // No take(1) here: a C9Client answers each request once and completes at that answer (the
  // client guarantees it even for a transport that emits twice), and a take layer per poll
  // cost ~1.4 KB of garbage on a path that thousands of batches take every second.
  request(): Observable<BatchStatusResponse> {
    return this.client.getBatchStatus(this.batch.batchId);
  }

  /** What expand does with each answer, right after emitting it: the next wait and request, or nothing after the terminal status. */
  next(response: BatchStatusResponse): Observable<BatchStatusResponse> {
    // Here rather than in a map after expand: the map's closure would be one more per loop.
    this.lastSeen = response.status;
    if (isTerminalStatus(response.status.status)) return EMPTY;
    this.nextDelayMs = this.waitAfter(response);
    return this.requestAfterWait;
  }

  /** Runs when the wait is over: sends the next request to the subscriber that waited. */
  fire(action: SchedulerAction<PollLoop>): void {
    this.lastAction = action;
    const subscriber = this.waiting;
    this.waiting = undefined;
    this.pending = undefined;
    // Subscribing the subscriber itself chains the request's teardown onto it.
    if (subscriber === undefined) return;
    this.sentAt = this.c.scheduler.now();
    this.request().subscribe(subscriber);
  }

  /** The end of the loop: cancels a scheduled wait. */
  unsubscribe(): void {
    if (this.waiting === undefined) return;
    this.waiting = undefined;
    // A cancelled action cannot run again.
    this.pending?.unsubscribe();
    this.pending = undefined;
    this.lastAction = undefined;
  }

  timeoutError(): BatchTimeoutError {
    return new BatchTimeoutError({
      batchId: this.batch.batchId,
      lastStatus: this.lastSeen?.status,
      queuePosition: this.lastSeen?.queue_position,
      elapsedMs: this.c.scheduler.now() - this.startedAt,
    });
  }

  private waitAfter({ status, retryAfterMs }: BatchStatusResponse): number {
    const { c } = this;
    if (this.previous === undefined || progressed(this.previous, status)) this.interval = c.initialIntervalMs;
    else this.interval = Math.min(this.interval * c.factor, c.maxIntervalMs);
    this.previous = status;
    if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs)) {
      // Waiting past the deadline would only delay the timeout error, and would risk a
      // timer longer than the platform allows.
      const remaining = this.startedAt + c.timeoutMs - c.scheduler.now();
      return Math.max(0, Math.min(retryAfterMs, remaining, MAX_TIMER_MS));
    }
    const spread = this.interval * c.jitter * (2 * c.random() - 1);
    const backoffMs = Math.min(Math.max(0, this.interval + spread), c.maxIntervalMs);
    if (this.strategy === undefined) return backoffMs;
    const chosen = this.strategy({ status, nowMs: c.scheduler.now(), sentAtMs: this.sentAt, startedAtMs: this.startedAt, backoffMs });
    return typeof chosen === 'number' && Number.isFinite(chosen) && chosen >= 0 ? Math.min(chosen, MAX_TIMER_MS) : backoffMs;
  }
}

/** The action of a loop's wait; the loop is its state. */
function fireWait(this: SchedulerAction<PollLoop>, loop?: PollLoop): void {
  loop?.fire(this);
}

interface DeadlineState {
  readonly subscriber: Subscriber<unknown>;
  readonly loop: PollLoop;
}

/** The action of a loop's deadline. */
function failAtDeadline(state?: DeadlineState): void {
  state?.subscriber.error(state.loop.timeoutError());
}

/**
 * The expand step of `loop`. Made outside pollOne's closures: the expand function lives as
 * long as the loop, and a closure that shared their scope would keep the operator chain,
 * first request included, alive with it.
 */
function nextOf(loop: PollLoop): (response: BatchStatusResponse) => Observable<BatchStatusResponse> {
  return (response) => loop.next(response);
}

function pollOne(client: C9Client, batch: SubmittedBatch, c: ResolvedPollConfig): Observable<BatchStatusResponse> {
  return defer(() => {
    const loop = new PollLoop(client, batch, c);
    const polls = loop.request().pipe(expand(nextOf(loop)), untilTerminal);
    // The deadline is one scheduled action beside the polls, not a timer → mergeMap →
    // throwError stream merged in: thousands of batches polled at once each hold it for their
    // whole life. Its error unsubscribes the polls (and so the request in flight); the end of
    // the polls cancels the deadline and any scheduled wait.
    return new Observable<BatchStatusResponse>((subscriber) => {
      if (c.timeoutMs !== Infinity) subscriber.add(c.scheduler.schedule<DeadlineState>(failAtDeadline, c.timeoutMs, { subscriber, loop }));
      // Subscribing the subscriber itself ties the polls' teardown to it.
      polls.subscribe(subscriber);
      return loop;
    });
  });
}

/**
 * The one retry policy of the library: which failures are worth another attempt, how long
 * to wait before it, and a throttle that makes every request of a client honour a 429.
 */
import { asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscriber, Subscription, TeardownLogic } from 'rxjs';
import { ApiError, ConnectionError, DecodeError, InternalServerError, InvalidResponseError, RateLimitError, ResponseTooLargeError } from './errors';

/** Configuration of the one retry policy used by every request. */
export interface RetryConfig {
  /** Consecutive failures allowed before giving up; the count resets after a success. Default 4. */
  readonly maxRetries?: number;
  /** First backoff delay in ms. Default 500. */
  readonly initialDelayMs?: number;
  /** Backoff growth factor. Default 2. */
  readonly factor?: number;
  /** Cap of one backoff or Retry-After wait, in ms. Default 30 000. */
  readonly maxDelayMs?: number;
  /** Jitter as a fraction of the delay (0 = none, 0.2 = ±20 %). Default 0.2. */
  readonly jitter?: number;
  /** Random source in [0, 1) for jitter; inject a fixed one in tests. */
  readonly random?: () => number;
  /** Scheduler for the waits. */
  readonly scheduler?: SchedulerLike;
}

/** The numeric defaults of {@link RetryConfig}. */
export const DEFAULT_RETRY: Readonly<Required<Omit<RetryConfig, 'random' | 'scheduler'>>> = Object.freeze({
  maxRetries: 4,
  initialDelayMs: 500,
  factor: 2,
  maxDelayMs: 30_000,
  jitter: 0.2,
});

const DAYS = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAYS = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// The three HTTP-date forms of RFC 9110 §5.6.7. Date.parse alone is not used: it accepts
// "1" or "soon 5" as dates, and junk must fall back to backoff, not to a made-up instant.
const IMF_FIXDATE = new RegExp(`^${DAYS}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
const RFC850_DATE = new RegExp(`^${LONG_DAYS}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^${DAYS} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');
const DELAY_SECONDS = /^\d+(\.\d+)?$/;

function utc(year: number, month: string, day: number, h: number, m: number, s: number): number | undefined {
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  if (monthIndex < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return undefined;
  const ms = Date.UTC(year, monthIndex, day, h, m, Math.min(s, 59));
  // Date.UTC rolls "31 Feb" over into March: refuse what does not round-trip.
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}

function parseHttpDate(value: string, nowMs: number): number | undefined {
  let match = IMF_FIXDATE.exec(value);
  if (match) return utc(Number(match[3]), match[2], Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  match = RFC850_DATE.exec(value);
  if (match) {
    // RFC 9110: a two-digit year more than 50 years in the future means the past century.
    const yy = Number(match[3]);
    const year = 2000 + yy > new Date(nowMs).getUTCFullYear() + 50 ? 1900 + yy : 2000 + yy;
    return utc(year, match[2], Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
  }
  match = ASCTIME_DATE.exec(value);
  if (match) return utc(Number(match[6]), match[1], Number(match[2].trim()), Number(match[3]), Number(match[4]), Number(match[5]));
  return undefined;
}

/**
 * Reads a `Retry-After` header as a wait in ms: delay-seconds (`"5"`, `"1.5"`) or an
 * HTTP date (a past date means "now", 0). Anything else, negative numbers included, is
 * `undefined`, never NaN. The caller caps the result.
 *
 * Example: `parseRetryAfter('2', now)` → `2000`; `parseRetryAfter('soon', now)` → `undefined`
 *
 * @param value the header value, if the server sent one
 * @param nowMs the current time on the caller's scheduler clock (epoch ms)
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (DELAY_SECONDS.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const at = parseHttpDate(text, nowMs);
  if (at === undefined || !Number.isFinite(at)) return undefined;
  return Math.max(0, Math.ceil(at - nowMs));
}

/**
 * Decides whether a failed request may be sent again. Retries 408, 429, 5xx and connection
 * failures; never 400/401/404/413, an invalid response or a decode error. A request that is
 * not idempotent (a batch submit) is retried only when the server cannot have acted on it:
 * 429, 503, or a connection failure before any byte was sent.
 *
 * Example: `isRetryable(new RateLimitError({ status: 429 }), { idempotent: false })` → `true`
 *
 * @param error the error the request ended with
 * @param options.idempotent true when sending the request twice does no harm (GETs)
 */
export function isRetryable(error: unknown, options: { readonly idempotent: boolean }): boolean {
  if (error instanceof ConnectionError) return options.idempotent || !error.mayHaveReachedServer;
  if (!(error instanceof ApiError)) return false;
  const { status } = error;
  if (options.idempotent) return status === 408 || status === 429 || status >= 500;
  // A 500 on a submit may have queued the batch before failing: sending it again could run it twice.
  return status === 429 || status === 503;
}

/**
 * A submit that failed this way may still have queued its batch: the body may have reached the
 * server (a lost connection, no answer in time), the server failed after taking it (a 5xx but
 * 503, which the client does not resend for that reason), or it answered 2xx with a body that
 * could not be read (the batch exists, its id is lost). A 4xx, a 503 or an unsent request queued nothing.
 * Beside {@link isRetryable}: both read a submit's failure the same way.
 *
 * Example: `submitMayHaveQueued(new InternalServerError({ status: 500, body: '' }))` → `true`
 *
 * @param error the error a batch submit ended with
 */
export function submitMayHaveQueued(error: unknown): boolean {
  if (error instanceof ConnectionError) return error.mayHaveReachedServer;
  if (error instanceof InternalServerError) return error.status !== 503;
  return error instanceof InvalidResponseError || error instanceof DecodeError || error instanceof ResponseTooLargeError;
}

/** The wait the server asked for, on the errors that carry one. */
function serverHint(error: unknown): number | undefined {
  if (error instanceof RateLimitError || error instanceof InternalServerError) return error.retryAfterMs;
  return undefined;
}

function assertConfig(name: string, value: number, ok: boolean, rule: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok) {
    throw new TypeError(`retry ${name} must be ${rule}, got ${String(value)}`);
  }
}

/** The resolved policy: numbers checked, defaults applied. */
export interface ResolvedRetryConfig {
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly random: () => number;
  readonly scheduler: SchedulerLike;
}

/**
 * Applies the defaults to a retry config and throws a TypeError for any invalid number.
 *
 * Example: `resolveRetryConfig({ maxRetries: -1 })` throws.
 *
 * @param config the caller's partial config
 */
export function resolveRetryConfig(config: RetryConfig = {}): ResolvedRetryConfig {
  const {
    maxRetries = DEFAULT_RETRY.maxRetries,
    initialDelayMs = DEFAULT_RETRY.initialDelayMs,
    factor = DEFAULT_RETRY.factor,
    maxDelayMs = DEFAULT_RETRY.maxDelayMs,
    jitter = DEFAULT_RETRY.jitter,
    random = Math.random,
    scheduler = asyncScheduler,
  } = config;
  assertConfig('maxRetries', maxRetries, Number.isInteger(maxRetries) && maxRetries >= 0, 'an integer ≥ 0');
  assertConfig('initialDelayMs', initialDelayMs, Number.isFinite(initialDelayMs) && initialDelayMs >= 0, 'a finite number ≥ 0');
  assertConfig('factor', factor, Number.isFinite(factor) && factor >= 1, 'a finite number ≥ 1');
  assertConfig('maxDelayMs', maxDelayMs, Number.isFinite(maxDelayMs) && maxDelayMs >= 0, 'a finite number ≥ 0');
  assertConfig('jitter', jitter, jitter >= 0 && jitter <= 1, 'between 0 and 1');
  if (typeof random !== 'function') throw new TypeError('retry random must be a function');
  return { maxRetries, initialDelayMs, factor, maxDelayMs, jitter, random, scheduler };
}

/**
 * The wait before retry number `attempt` (1-based): the server's hint when it gave one,
 * otherwise exponential backoff with jitter; both capped at `maxDelayMs`.
 *
 * Example: with the defaults and no jitter, attempts 1, 2, 3 wait 500, 1000, 2000 ms.
 *
 * @param config a resolved config
 * @param attempt which retry this is, from 1
 * @param error the failure being retried (its `retryAfterMs` wins over backoff)
 */
export function retryDelay(config: ResolvedRetryConfig, attempt: number, error?: unknown): number {
  const hint = serverHint(error);
  if (hint !== undefined && Number.isFinite(hint) && hint >= 0) return Math.min(hint, config.maxDelayMs);
  const base = Math.min(config.initialDelayMs * config.factor ** (attempt - 1), config.maxDelayMs);
  // random() in [0, 1) maps to a factor in [1 - jitter, 1 + jitter).
  const jittered = base * (1 + config.jitter * (2 * config.random() - 1));
  return Math.round(Math.min(Math.max(jittered, 0), config.maxDelayMs));
}

/** A resolved retry policy and whether its requests may be sent twice: made once, used by every request. */
export interface RetryPolicy extends ResolvedRetryConfig {
  /** True when sending the request twice does no harm (GETs); see {@link isRetryable}. */
  readonly idempotent: boolean;
}

/**
 * Applies the defaults to a retry config, as {@link resolveRetryConfig} does, and adds
 * whether the requests it governs are idempotent (default true).
 *
 * Example: `resolveRetryPolicy({ maxRetries: 2, idempotent: false })`
 *
 * @param config the caller's partial config, plus `idempotent`
 * @throws TypeError for an invalid number (see {@link resolveRetryConfig})
 */
export function resolveRetryPolicy(config: RetryConfig & { readonly idempotent?: boolean } = {}): RetryPolicy {
  const { idempotent = true } = config;
  return { ...resolveRetryConfig(config), idempotent };
}

/** Ends what an attempt returned: a function, a subscription, or nothing. */
function finalize(teardown: TeardownLogic): void {
  if (typeof teardown === 'function') teardown();
  else if (teardown) teardown.unsubscribe();
}

/**
 * The one retry loop. The client calls it inside each request rather than through a retry
 * operator, so that a request carries no operator layer for its retries (it runs on every
 * status poll).
 *
 * Starts `attempt`. When the attempt calls `fail` with an error the policy retries (see
 * {@link isRetryable}) and fewer than `maxRetries` failures came in a row, it is torn down
 * and a new one starts after {@link retryDelay} on the policy's scheduler; any other failure
 * is passed to `subscriber.error`. `succeeded` resets the count of failures in a row (call it
 * when a value arrives). The attempt delivers values and completion to `subscriber` itself.
 *
 * ```
 * initialDelayMs 10, factor 2, no jitter, maxRetries 2; every attempt fails with a 503:
 * attempts: -#          -#                   -#
 * waits:      <-10ms->    <------20ms------>
 * result:   ---------------------------------#   (the third failure is passed on)
 * ```
 *
 * Example: `new Observable((subscriber) => subscribeWithRetry(subscriber, policy, (fail) => send(subscriber, fail)))`
 *
 * @param subscriber where the final failure goes
 * @param policy the resolved policy
 * @param attempt starts one attempt and returns its teardown
 * @returns the teardown of the whole: cancels the wait or tears down the running attempt
 */
export function subscribeWithRetry<T>(
  subscriber: Subscriber<T>,
  policy: RetryPolicy,
  attempt: (fail: (error: unknown) => void, succeeded: () => void) => TeardownLogic,
): () => void {
  let failures = 0;
  // The number of the attempt that may still fail: a failure or a teardown moves it on, so a
  // late call of an older attempt's `fail` does nothing.
  let current = 0;
  let running: TeardownLogic;
  let wait: Subscription | undefined;
  const succeeded = (): void => {
    failures = 0;
  };
  const run = (): void => {
    wait = undefined;
    const self = ++current;
    const teardown = attempt((error: unknown): void => {
      if (self !== current) return;
      current++;
      const failed = running;
      running = undefined;
      if (failures < policy.maxRetries && isRetryable(error, policy)) {
        failures++;
        wait = policy.scheduler.schedule(run, retryDelay(policy, failures, error));
        finalize(failed);
      } else {
        // The error first, then the failed attempt's end, in the order the retry operator had.
        subscriber.error(error);
        finalize(failed);
      }
    }, succeeded);
    // An attempt that failed (or was torn down) before it returned is ended at once.
    if (self === current) running = teardown;
    else finalize(teardown);
  };
  run();
  return () => {
    current++;
    wait?.unsubscribe();
    wait = undefined;
    const last = running;
    running = undefined;
    finalize(last);
  };
}

/** A pause shared by every request of one client; see {@link createThrottle}. */
export interface Throttle {
  /** Holds every gated request until `atMs` (scheduler clock); an earlier time than the current pause is ignored. */
  pauseUntil(atMs: number): void;
  /**
   * Runs `start(arg)` now, or, while a pause lasts, once it is over (checked again then:
   * another 429 may have pushed it further). Returns the teardown: cancels the wait, or ends
   * what `start` returned. Costs nothing when there is no pause (the client's path per
   * request); `arg` lets a caller pass a module-level `start` instead of a closure.
   */
  whenOpen<A>(start: (arg: A) => TeardownLogic, arg: A): TeardownLogic;
}

/**
 * Makes a throttle: once any request is told to wait (a 429 with `Retry-After`), every
 * request that starts before that time waits too, instead of spending its own 429.
 *
 * ```
 * pauseUntil(50) at 10
 * request subscribed at 20:  ------------------------------(subscribed at 50)--a|
 * ```
 *
 * Example: `const throttle = createThrottle(asyncScheduler); throttle.whenOpen((req) => send(req), req)`
 *
 * @param scheduler the clock and timer of the waits
 */
export function createThrottle(scheduler: SchedulerLike = asyncScheduler): Throttle {
  let resumeAt = Number.NEGATIVE_INFINITY;
  const whenOpen = <A>(start: (arg: A) => TeardownLogic, arg: A): TeardownLogic => {
    // No clock read for a client that was never paused (every request of most clients).
    if (resumeAt === Number.NEGATIVE_INFINITY || resumeAt - scheduler.now() <= 0) return start(arg);
    let wait: Subscription | undefined;
    let started: TeardownLogic;
    const check = (): void => {
      const ms = resumeAt - scheduler.now();
      if (ms > 0) wait = scheduler.schedule(check, ms);
      else {
        wait = undefined;
        started = start(arg);
      }
    };
    check();
    return () => {
      wait?.unsubscribe();
      finalize(started);
    };
  };
  return {
    pauseUntil(atMs: number): void {
      if (Number.isFinite(atMs) && atMs > resumeAt) resumeAt = atMs;
    },
    whenOpen,
  };
}

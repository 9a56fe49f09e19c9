/**
 * A poll interval strategy that aims each poll at the moment the batch is expected to be done.
 */
import type { BatchStatus } from '../codecs';
import type { PollIntervalContext, PollIntervalStrategy } from './pollUntilTerminal';

/** Options of {@link adaptivePollInterval}. All times are in milliseconds. */
export interface AdaptivePollIntervalConfig {
  /** Shortest wait: the lag between the server finishing and us seeing it is at most about this. Default 100. */
  readonly minIntervalMs?: number;
  /** Longest wait, whatever the estimate. Default 15 000. */
  readonly maxIntervalMs?: number;
  /** Wait while there is nothing to estimate from (first answers, no movement). Default 1 000. */
  readonly fallbackIntervalMs?: number;
  /** Growth of the fallback wait after each answer that still gives no estimate. Default 1.5. */
  readonly factor?: number;
  /**
   * Share of the estimated remaining time to wait (0 < x <= 2). Below 1 the poll lands
   * before the estimate, so a batch that speeds up is seen sooner, at the cost of a poll.
   * Above 1 it lands after it: a server that reports its percentage in steps (each step
   * reached a little after the rate says) is then usually done when the poll arrives,
   * which saves the extra poll an early landing costs, at the price of that much detection
   * lag. Default 1.
   */
  readonly etaFraction?: number;
}

/** One observation of a number (queue position or percentage). */
interface Sample {
  /** When the request was sent and the answer read, on the client's clock. */
  readonly sentMs: number;
  readonly readMs: number;
  /** The answer's `runtime_ms`, when it has one: when the server made it, on the server's clock. */
  readonly serverMs: number | undefined;
  readonly value: number;
}

/**
 * Time between two answers. Each was made somewhere between its request and its arrival, so
 * the client's own estimate is the span between midpoints, off by up to half of each round
 * trip, and a busy client reads answers late, which skews it further. The difference of the
 * answers' `runtime_ms` is exact when it measures elapsed time on the server (queue time
 * included or not: a difference cancels it), so it is used whenever it fits the window the
 * client saw (a server whose `runtime_ms` means something else falls back to the client's clock).
 */
function elapsedMs(from: Sample, to: Sample): number {
  const client = (to.sentMs + to.readMs - from.sentMs - from.readMs) / 2;
  if (from.serverMs === undefined || to.serverMs === undefined) return client;
  const server = to.serverMs - from.serverMs;
  // ±2 ms: runtime_ms is rounded, and the two clocks tick separately.
  const fits = server > 0 && server >= to.sentMs - from.readMs - 2 && server <= to.readMs - from.sentMs + 2;
  return fits ? server : client;
}

const asNumber = (value: number | null | undefined): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/**
 * Makes a `PollConfig.nextInterval` that estimates when the batch will be done and polls
 * then, within `[minIntervalMs, maxIntervalMs]`:
 * - while `processing`, from the rate `completed_pct` rose since polling first saw it
 *   processing: remaining = (100 − pct) ÷ rate;
 * - while `queued`, from the rate `queue_position` fell: time to start = (position + 1) ÷ rate;
 * - with nothing to go on yet (first answer, or no movement since), `fallbackIntervalMs`,
 *   growing by `factor` for each such answer in a row, so a stuck batch is polled less and less.
 * Time between two answers is the difference of their `runtime_ms` (the server's clock, so
 * a busy client that reads an answer late does not skew the rate) when that difference fits
 * what the client saw (request sent → answer read), else the client's own clock, between the
 * midpoints of the round trips. The wait runs from when the answer was made: half its round
 * trip is taken off. A percentage that goes backwards restarts the measurement.
 *
 * ```
 * processing at 0 % (t=0), 25 % (t=500): rate 0.05 %/ms → remaining 1 500 ms
 * polls:  ^0%      ^25%                          ^done
 *         |-500ms-||----------- 1 500 ms ---------|
 * ```
 *
 * Example:
 * ```ts
 * of(batch).pipe(pollUntilTerminal(client, { nextInterval: adaptivePollInterval({ minIntervalMs: 50 }) }))
 * ```
 *
 * @param config bounds, fallback and ETA share; see {@link AdaptivePollIntervalConfig}
 * @throws TypeError when a value is out of range (at call time)
 */
export function adaptivePollInterval(config: AdaptivePollIntervalConfig = {}): () => PollIntervalStrategy {
  const { minIntervalMs = 100, maxIntervalMs = 15_000, fallbackIntervalMs = 1000, factor = 1.5, etaFraction = 1 } = config;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const fail = (rule: string, value: unknown): never => {
    throw new TypeError(`adaptivePollInterval: ${rule}; got ${String(value)}`);
  };
  if (!finite(minIntervalMs) || minIntervalMs < 0) fail('minIntervalMs must be a finite number >= 0', minIntervalMs);
  if (!finite(maxIntervalMs) || maxIntervalMs < minIntervalMs) fail('maxIntervalMs must be a finite number >= minIntervalMs', maxIntervalMs);
  if (!finite(fallbackIntervalMs) || fallbackIntervalMs < 0) fail('fallbackIntervalMs must be a finite number >= 0', fallbackIntervalMs);
  if (!finite(factor) || factor < 1) fail('factor must be a finite number >= 1', factor);
  if (!finite(etaFraction) || etaFraction <= 0 || etaFraction > 2) fail('etaFraction must be a number in (0, 2]', etaFraction);

  const clamp = (ms: number): number => Math.min(Math.max(ms, minIntervalMs), maxIntervalMs);

  return () => {
    // Per polled batch: where its percentage and queue position were when we started measuring.
    let pctFrom: Sample | undefined;
    let queueFrom: Sample | undefined;
    let fallback = fallbackIntervalMs;

    const estimate = (status: BatchStatus, sample: (value: number) => Sample): number | undefined => {
      const queue = asNumber(status.queue_position);
      if (status.status === 'queued' && queue !== undefined) {
        pctFrom = undefined;
        const now = sample(queue);
        if (queueFrom === undefined || queue > queueFrom.value) {
          // A position that grew (priority batches jumped ahead) invalidates the old rate.
          queueFrom = now;
          return undefined;
        }
        const rate = (queueFrom.value - queue) / elapsedMs(queueFrom, now);
        return rate > 0 && Number.isFinite(rate) ? (queue + 1) / rate : undefined;
      }
      queueFrom = undefined;
      const pct = asNumber(status.completed_pct);
      if (pct === undefined) return undefined;
      const now = sample(pct);
      if (pctFrom === undefined || pct < pctFrom.value) {
        pctFrom = now;
        return undefined;
      }
      const rate = (pct - pctFrom.value) / elapsedMs(pctFrom, now);
      return rate > 0 && Number.isFinite(rate) ? Math.max(0, 100 - pct) / rate : undefined;
    };

    return ({ status, nowMs, sentAtMs = nowMs }: PollIntervalContext): number => {
      const serverMs = asNumber(status.runtime_ms);
      const eta = estimate(status, (value) => ({ sentMs: sentAtMs, readMs: nowMs, serverMs, value }));
      if (eta !== undefined) {
        fallback = fallbackIntervalMs;
        // The estimate runs from when the answer was made, on average half its round trip ago.
        return clamp(eta * etaFraction - (nowMs - sentAtMs) / 2);
      }
      const wait = fallback;
      fallback = Math.min(fallback * factor, maxIntervalMs);
      return clamp(wait);
    };
  };
}

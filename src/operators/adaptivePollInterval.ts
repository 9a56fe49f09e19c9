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

/** One observation of a number (queue position or percentage) at a time. */
interface Sample {
  readonly atMs: number;
  readonly value: number;
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
 * The rate is measured on the scheduler's clock from this client's own observations, not
 * from `runtime_ms`, whose meaning (queue time included or not) differs between servers.
 * A percentage that goes backwards restarts the measurement.
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

    const estimate = (status: BatchStatus, nowMs: number): number | undefined => {
      const queue = asNumber(status.queue_position);
      if (status.status === 'queued' && queue !== undefined) {
        pctFrom = undefined;
        if (queueFrom === undefined || queue > queueFrom.value) {
          // A position that grew (priority batches jumped ahead) invalidates the old rate.
          queueFrom = { atMs: nowMs, value: queue };
          return undefined;
        }
        const rate = (queueFrom.value - queue) / (nowMs - queueFrom.atMs);
        return rate > 0 && Number.isFinite(rate) ? (queue + 1) / rate : undefined;
      }
      queueFrom = undefined;
      const pct = asNumber(status.completed_pct);
      if (pct === undefined) return undefined;
      if (pctFrom === undefined || pct < pctFrom.value) {
        pctFrom = { atMs: nowMs, value: pct };
        return undefined;
      }
      const rate = (pct - pctFrom.value) / (nowMs - pctFrom.atMs);
      return rate > 0 && Number.isFinite(rate) ? Math.max(0, 100 - pct) / rate : undefined;
    };

    return ({ status, nowMs }: PollIntervalContext): number => {
      const eta = estimate(status, nowMs);
      if (eta !== undefined) {
        fallback = fallbackIntervalMs;
        return clamp(eta * etaFraction);
      }
      const wait = fallback;
      fallback = Math.min(fallback * factor, maxIntervalMs);
      return clamp(wait);
    };
  };
}

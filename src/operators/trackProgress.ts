/**
 * Watches a batch's statuses for trouble worth telling a person about: no progress, or progress lost.
 */
import { defer, map, type OperatorFunction } from 'rxjs';
import { isTerminalStatus, type BatchStatus } from '../codecs';

/** Options of {@link trackProgress}. */
export interface TrackProgressConfig {
  /** Answers in a row that each show no change from the answer before (status, `completed_pct`, `queue_position`) before the batch is reported stalled. Default 10. */
  readonly stallPolls?: number;
}

/** Something unusual about a batch's progress: reported, never thrown. */
export type ProgressAnomaly =
  /** `polls` answers in a row showed no change from the one before. */
  | { readonly kind: 'stalled'; readonly polls: number }
  /** `completed_pct` went down, from the highest value seen so far. */
  | { readonly kind: 'regressed'; readonly fromPct: number; readonly toPct: number };

/** A status and, when it shows one, the anomaly it reveals. */
export interface ProgressReport {
  readonly status: BatchStatus;
  readonly anomaly?: ProgressAnomaly;
}

/**
 * Pairs each status with the anomaly it reveals, if any. A batch is `stalled` when
 * `stallPolls` answers in a row each showed no change from the one before; it is reported
 * once per stall (again only after it moved and stalled anew). It is `regressed` when `completed_pct` is below the
 * highest value seen, reported each time that happens. Neither stops anything: a stuck
 * batch is ended by the poll deadline, not here.
 *
 * ```
 * stallPolls = 2, answers p(10%) p(10%) p(10%) p(40%) p(20%)
 * input:   a---a---a---b---c
 * output:  A---A---S---B---R      S = {status, anomaly: {kind:'stalled', polls: 2}}, R = regressed 40 → 20
 * ```
 *
 * Example:
 * ```ts
 * of(batch).pipe(pollUntilTerminal(client), trackProgress({ stallPolls: 20 }))
 *   .subscribe(({ status, anomaly }) => anomaly && console.warn(status.batch_id, anomaly.kind));
 * ```
 *
 * @param config `stallPolls`, an integer >= 1 (default 10)
 * @throws TypeError when `stallPolls` is not an integer >= 1
 */
export function trackProgress(config: TrackProgressConfig = {}): OperatorFunction<BatchStatus, ProgressReport> {
  const { stallPolls = 10 } = config;
  if (typeof stallPolls !== 'number' || !Number.isInteger(stallPolls) || stallPolls < 1) {
    throw new TypeError(`trackProgress: stallPolls must be an integer >= 1; got ${String(stallPolls)}`);
  }
  return (source) =>
    defer(() => {
      let previous: BatchStatus | undefined;
      let unchanged = 0; // answers in a row equal to the one before
      let highestPct: number | undefined;
      return source.pipe(
        map((status): ProgressReport => {
          const same =
            previous !== undefined &&
            previous.status === status.status &&
            previous.completed_pct === status.completed_pct &&
            previous.queue_position === status.queue_position;
          previous = status;
          unchanged = same ? unchanged + 1 : 0;
          const pct = typeof status.completed_pct === 'number' && Number.isFinite(status.completed_pct) ? status.completed_pct : undefined;
          if (pct !== undefined && highestPct !== undefined && pct < highestPct) {
            const fromPct = highestPct;
            // Measured from the new value on, so one step back is reported once, not on every later answer.
            highestPct = pct;
            return { status, anomaly: { kind: 'regressed', fromPct, toPct: pct } };
          }
          if (pct !== undefined) highestPct = Math.max(highestPct ?? pct, pct);
          if (unchanged === stallPolls && !isTerminalStatus(status.status)) {
            return { status, anomaly: { kind: 'stalled', polls: stallPolls } };
          }
          return { status };
        }),
      );
    });
}

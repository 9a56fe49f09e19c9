/**
 * Data types that flow between the operators and streams.
 */
import type { AccountResult, BatchStatus, PositionNote } from './codecs';
import type { ProcessingMode } from './codecs/portfolio';

/** A batch the server accepted: everything needed to poll it and to pick its results. Serialisable (it is the resume handle). */
export interface SubmittedBatch {
  readonly batchId: string;
  /** Distinct account codes of the submitted portfolio, in input order. */
  readonly accountCodes: readonly string[];
  /**
   * When the submit was sent (its first attempt), ISO 8601 from the client's scheduler clock.
   * The send time, not the answer time, because it is the lower bound the batch's fresh
   * result rows are compared with when the server gives no `created_at`.
   */
  readonly submittedAt: string;
  readonly processingMode: ProcessingMode;
  /** The endpoint the batch was submitted to (never the key). */
  readonly endpoint?: string;
  /** The payload's own `request_id`, when the caller set one: result rows may carry it instead of the batch id. */
  readonly requestId?: string;
}

/** A batch together with the terminal status that ended its polling. */
export interface TerminalBatch {
  readonly batch: SubmittedBatch;
  readonly status: BatchStatus;
}

/** A per-account problem reported by the server, tagged with its account. */
export interface AccountException extends PositionNote {
  readonly account_code: string;
  readonly kind: 'exception' | 'closest_match';
}

/** The rows of one batch, picked out of the caller's live result store. */
export interface BatchResults {
  readonly batchId: string;
  readonly status: string;
  /** True after `completed_with_errors`: some accounts have no fresh row or carry exceptions. */
  readonly partial: boolean;
  /** Fresh master-account rows of the submitted accounts, in submission order. */
  readonly rows: readonly AccountResult[];
  /** Fresh sub-account rows whose master row is in `rows`. */
  readonly subAccountRows: readonly AccountResult[];
  /** Submitted accounts with no row at all. */
  readonly missing: readonly string[];
  /** Submitted accounts whose row is older than the batch (left from an earlier calculation). */
  readonly stale: readonly AccountResult[];
  /** Sum of `initial_margin` over `rows` (fresh master rows only). */
  readonly totalInitialMargin: number;
  /** The currency of the rows' figures, when they agree; undefined when there are no rows or they disagree (sums of mixed currencies mean nothing). */
  readonly currencyCode: string | undefined;
  /** Every `exceptions` and `closest_matches` entry of the kept rows. */
  readonly exceptions: readonly AccountException[];
}

/** One step of {@link runBatch}: the batch was accepted, a status arrived, or its results were picked. */
export type BatchEvent =
  | { readonly type: 'submitted'; readonly batch: SubmittedBatch }
  | { readonly type: 'status'; readonly batch: SubmittedBatch; readonly status: BatchStatus }
  | { readonly type: 'results'; readonly batch: SubmittedBatch; readonly results: BatchResults };

/**
 * One step of a fan-out run (`runBatches`, `resumeBatches`): the three {@link BatchEvent}s
 * plus what can happen between them when many batches run at once. `chunk` names a part of
 * the input: `"3"` is the third payload, `"3.1"` and `"3.2"` its halves after a 413.
 */
export type BatchRunEvent =
  | BatchEvent
  /** The chunk shares accounts with chunks still in flight (named in `blockedBy`) and waits for them. */
  | { readonly type: 'waiting'; readonly chunk: string; readonly accountCodes: readonly string[]; readonly blockedBy: readonly string[] }
  /** The server refused the chunk as too large (413): it is resubmitted as two halves by account. */
  | {
      readonly type: 'split';
      readonly chunk: string;
      readonly accountCodes: readonly string[];
      readonly into: readonly [string, string];
      readonly error: Error;
    }
  /** `polls` answers in a row showed no change: reported, polling goes on until the deadline. */
  | { readonly type: 'stalled'; readonly batch: SubmittedBatch; readonly status: BatchStatus; readonly polls: number }
  /** `completed_pct` went down (from `fromPct` to `toPct`): reported, polling goes on. */
  | { readonly type: 'regressed'; readonly batch: SubmittedBatch; readonly status: BatchStatus; readonly fromPct: number; readonly toPct: number }
  /**
   * This chunk or batch stopped without results (submit refused, batch failed, timed out,
   * results request failed); the other batches go on. `batch` is absent when it was never accepted.
   */
  | {
      readonly type: 'error';
      readonly chunk: string;
      readonly accountCodes: readonly string[];
      readonly batch?: SubmittedBatch;
      readonly error: Error;
    };

/**
 * The results step: one terminal batch in, the rows that belong to it out.
 */
import { concatMap, map, take, throwError, type OperatorFunction } from 'rxjs';
import { isTerminalStatus } from '../codecs';
import type { C9Client } from '../http/client';
import { BatchFailedError } from '../http/errors';
import type { BatchResults, TerminalBatch } from '../types';
import { selectBatchResults } from './selectBatchResults';

/** Options of {@link fetchBatchResults}. */
export interface FetchBatchResultsConfig {
  /**
   * How far (ms) a row's `submitted_time` may be earlier than the batch's start and still
   * count as fresh. Only matters when the server sent no `created_at`, so the start comes
   * from the client's clock, which may run ahead of the server's. Default 0.
   */
  readonly clockSkewMs?: number;
}

/**
 * Fetches `GET /results/accounts` for each terminal batch and keeps the rows of its accounts.
 *
 * The result store is not scoped to a batch, so the rows are picked here:
 * - master rows (no `parent_portfolio_id`) of the submitted accounts, in submission order;
 *   a row is fresh when its `request_id` is the batch id (or the payload's `request_id`),
 *   otherwise when its `submitted_time` is not earlier than the batch's start (the status'
 *   `created_at`, the server's clock, else the batch's `submittedAt`). A row without either
 *   cannot be shown to be fresh and counts as stale. Non-fresh master rows go to `stale`.
 *   When an account has several master rows, the newest decides.
 * - sub-account rows whose `parent_portfolio_id` is the `portfolio_id` of a kept fresh
 *   master row; they are a breakdown of it and are never added to the totals;
 * - `missing`: submitted accounts without any master row;
 * - `totalInitialMargin` over fresh master rows only; `currencyCode` when those rows agree
 *   (a sum over mixed currencies is not a figure, so then it is undefined);
 * - `exceptions`: each kept row's `exceptions` and `closest_matches`, tagged.
 *
 * After `failed` nothing is requested: the stream errors with {@link BatchFailedError}.
 * Batches are handled one at a time (`concatMap`): each fetch reads the caller's whole
 * result store, and results come out in input order.
 *
 * ```
 * input:    c--------f-----|          c = completed, f = failed
 * request:  ^--r                      (none for f)
 * output:   ---R-----#                R = BatchResults, # = BatchFailedError
 * ```
 *
 * Example:
 * ```ts
 * of({ batch, status }).pipe(fetchBatchResults(client))
 *   .subscribe((r) => console.log(r.rows.length, r.totalInitialMargin, r.missing));
 * ```
 *
 * @param client the API client
 * @param config `clockSkewMs`, the tolerance of the freshness test against the client's clock
 * @throws TypeError when `clockSkewMs` is not a finite number >= 0
 */
export function fetchBatchResults(client: C9Client, config: FetchBatchResultsConfig = {}): OperatorFunction<TerminalBatch, BatchResults> {
  const { clockSkewMs = 0 } = config;
  if (typeof clockSkewMs !== 'number' || !Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
    throw new TypeError(`fetchBatchResults: clockSkewMs must be a finite number >= 0; got ${String(clockSkewMs)}`);
  }
  return concatMap(({ batch, status }) => {
    if (status.status === 'failed') return throwError(() => new BatchFailedError(batch.batchId, status.error));
    if (!isTerminalStatus(status.status)) {
      // The store would answer with whatever ran before this batch: refuse rather than mislead.
      return throwError(() => new TypeError(`fetchBatchResults: batch ${batch.batchId} is not terminal (status ${status.status})`));
    }
    return client
      .getAccountResults({ accountCodes: new Set(batch.accountCodes) })
      .pipe(take(1), map((rows) => selectBatchResults(batch, status, rows, { clockSkewMs })));
  });
}

/**
 * The results step: one terminal batch in, the rows that belong to it out.
 */
import { concatMap, map, take, throwError, type OperatorFunction } from 'rxjs';
import { isTerminalStatus, type AccountResult, type BatchStatus } from '../codecs';
import type { C9Client } from '../http/client';
import { BatchFailedError } from '../http/errors';
import type { AccountException, BatchResults, SubmittedBatch, TerminalBatch } from '../types';

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
      .pipe(take(1), map((rows) => pickBatchResults(batch, status, rows, clockSkewMs)));
  });
}

/** Ids compare without dashes and case: the API writes UUIDs both ways. */
function normaliseId(id: string): string {
  return id.replace(/-/g, '').toLowerCase();
}

/** Parses an ISO 8601 time; one without a zone is read as UTC, the server's clock. */
function parseInstant(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const zoned = /(?:[zZ]|[+-]\d{2}:?\d{2})$/.test(text) || !/\d{2}:\d{2}/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

function pickBatchResults(batch: SubmittedBatch, status: BatchStatus, all: readonly AccountResult[], clockSkewMs: number): BatchResults {
  const ownIds = new Set([normaliseId(batch.batchId)]);
  if (batch.requestId !== undefined) ownIds.add(normaliseId(batch.requestId));
  const start = parseInstant(status.created_at ?? undefined) ?? parseInstant(batch.submittedAt);
  const earliest = start === undefined ? undefined : start - (status.created_at ? 0 : clockSkewMs);

  const isFresh = (row: AccountResult): boolean => {
    if (row.request_id && ownIds.has(normaliseId(row.request_id))) return true;
    const at = parseInstant(row.submitted_time);
    return at !== undefined && earliest !== undefined && at >= earliest;
  };
  const rank = (row: AccountResult): [number, number] => [isFresh(row) ? 1 : 0, parseInstant(row.submitted_time) ?? -Infinity];

  const submitted = new Set(batch.accountCodes);
  const masterOf = new Map<string, AccountResult>();
  for (const row of all) {
    if (row.parent_portfolio_id || !submitted.has(row.account_code)) continue;
    const held = masterOf.get(row.account_code);
    if (held === undefined) {
      masterOf.set(row.account_code, row);
      continue;
    }
    const [heldFresh, heldAt] = rank(held);
    const [rowFresh, rowAt] = rank(row);
    if (rowFresh > heldFresh || (rowFresh === heldFresh && rowAt > heldAt)) masterOf.set(row.account_code, row);
  }

  const rows: AccountResult[] = [];
  const stale: AccountResult[] = [];
  const missing: string[] = [];
  for (const code of batch.accountCodes) {
    const row = masterOf.get(code);
    if (row === undefined) missing.push(code);
    else if (isFresh(row)) rows.push(row);
    else stale.push(row);
  }

  const childrenOf = new Map<string, AccountResult[]>();
  for (const row of all) {
    if (!row.parent_portfolio_id) continue;
    const siblings = childrenOf.get(row.parent_portfolio_id);
    if (siblings) siblings.push(row);
    else childrenOf.set(row.parent_portfolio_id, [row]);
  }
  const subAccountRows = rows.flatMap((master) => (master.portfolio_id ? (childrenOf.get(master.portfolio_id) ?? []) : []));

  const currencies = new Set(rows.map((row) => row.currency_code).filter((code): code is string => typeof code === 'string' && code !== ''));
  const exceptions: AccountException[] = [];
  for (const row of [...rows, ...subAccountRows]) {
    for (const note of row.exceptions ?? []) exceptions.push({ ...note, account_code: row.account_code, kind: 'exception' });
    for (const note of row.closest_matches ?? []) exceptions.push({ ...note, account_code: row.account_code, kind: 'closest_match' });
  }

  return {
    batchId: batch.batchId,
    status: status.status,
    partial: status.status === 'completed_with_errors',
    rows,
    subAccountRows,
    missing,
    stale,
    totalInitialMargin: rows.reduce((sum, row) => sum + (row.initial_margin ?? 0), 0),
    currencyCode: currencies.size === 1 ? [...currencies][0] : undefined,
    exceptions,
  };
}

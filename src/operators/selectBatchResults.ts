/**
 * Picking one batch's rows out of the caller's live result store, as a pure function.
 */
import type { AccountResult, BatchStatus } from '../codecs';
import type { AccountException, BatchResults, SubmittedBatch } from '../types';

/** Options of {@link selectBatchResults}. */
export interface SelectBatchResultsConfig {
  /**
   * How far (ms) a row's `submitted_time` may be earlier than the batch's `submittedAt` and
   * still count as fresh; used only when the status has no `created_at`. Default 0.
   */
  readonly clockSkewMs?: number;
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

/**
 * Picks one batch's rows out of `GET /results/accounts` rows: the pure core of
 * {@link fetchBatchResults}, shared by every caller that already holds the rows (one
 * fetch serving several batches, a re-fetch after a late store).
 *
 * - master rows (no `parent_portfolio_id`) of the submitted accounts, in submission order;
 *   a row is fresh when its `request_id` is the batch id (or the payload's `request_id`),
 *   otherwise when its `submitted_time` is not earlier than the batch's start (the status'
 *   `created_at`, else `submittedAt` minus `clockSkewMs`). Non-fresh master rows go to
 *   `stale`; when an account has several master rows, the newest fresh one wins.
 * - sub-account rows whose parent is a kept fresh master row;
 * - `missing`: submitted accounts without any master row;
 * - totals over fresh master rows only; `currencyCode` when they agree.
 *
 * Rows of other accounts are ignored, so the same array can serve many batches.
 *
 * Example:
 * ```ts
 * const rows = await firstValueFrom(client.getAccountResults());
 * const mine = selectBatchResults(batch, terminalStatus, rows);
 * console.log(mine.rows.length, mine.missing, mine.stale.length);
 * ```
 *
 * @param batch the submitted batch (its account codes, id, request id and send time)
 * @param status its terminal status (`created_at` is the preferred freshness bound)
 * @param all rows of the caller's live store, possibly holding other batches' accounts
 * @param config `clockSkewMs` (default 0): tolerance of the freshness test against the client's clock
 * @throws TypeError when `clockSkewMs` is not a finite number >= 0
 */
export function selectBatchResults(
  batch: SubmittedBatch,
  status: BatchStatus,
  all: readonly AccountResult[],
  config: SelectBatchResultsConfig = {},
): BatchResults {
  const { clockSkewMs = 0 } = config;
  if (typeof clockSkewMs !== 'number' || !Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
    throw new TypeError(`selectBatchResults: clockSkewMs must be a finite number >= 0; got ${String(clockSkewMs)}`);
  }
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

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

/** Whose a row's `request_id` is: the batch's (its id), the payload's (the caller's own `request_id`), or neither. */
type Own = 'batch' | 'payload' | 'no';

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
 *   a row is fresh when its `request_id` is the batch id, otherwise when its
 *   `submitted_time` is not earlier than the batch's start (the status' `created_at`, else
 *   `submittedAt` minus `clockSkewMs`), or, with no time to compare, when its `request_id` is
 *   the payload's own `request_id` (chosen by the caller, so the same file run twice sends
 *   the same one: it never outweighs a time that says the row is older). Non-fresh master rows go to
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
  const batchId = normaliseId(batch.batchId);
  const payloadId = batch.requestId === undefined ? undefined : normaliseId(batch.requestId);
  const start = parseInstant(status.created_at ?? undefined) ?? parseInstant(batch.submittedAt);
  const earliest = start === undefined ? undefined : start - (status.created_at ? 0 : clockSkewMs);

  // A batch's rows repeat a few request ids and times (a batch of 100,000 accounts may have
  // one of each), and each test normalises or parses its string: every distinct string is
  // worked out once per call. Rows of one batch come together, so the last string is
  // checked first: comparing it costs less than hashing it for the memo.
  const ownIdMemo = new Map<string, Own>();
  let lastId: string | undefined;
  let lastOwn: Own = 'no';
  const ownerOf = (id: string): Own => {
    if (id === lastId) return lastOwn;
    let own = ownIdMemo.get(id);
    if (own === undefined) {
      const normal = normaliseId(id);
      own = normal === batchId ? 'batch' : normal === payloadId ? 'payload' : 'no';
      ownIdMemo.set(id, own);
    }
    lastId = id;
    lastOwn = own;
    return own;
  };
  // NaN stands for "no instant" in the memo, so that a miss (undefined) is told apart.
  const instantMemo = new Map<string, number>();
  let lastText: string | undefined;
  let lastMs = Number.NaN;
  const instantOf = (text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (text !== lastText) {
      let ms = instantMemo.get(text);
      if (ms === undefined) {
        ms = parseInstant(text) ?? Number.NaN;
        instantMemo.set(text, ms);
      }
      lastText = text;
      lastMs = ms;
    }
    return Number.isNaN(lastMs) ? undefined : lastMs;
  };
  const isFresh = (row: AccountResult): boolean => {
    const own = row.request_id ? ownerOf(row.request_id) : 'no';
    if (own === 'batch') return true;
    const at = instantOf(row.submitted_time);
    if (at !== undefined && earliest !== undefined) return at >= earliest;
    return own === 'payload';
  };
  const rank = (row: AccountResult): [number, number] => [isFresh(row) ? 1 : 0, instantOf(row.submitted_time) ?? -Infinity];

  // Each submitted account's slot: where it first appears in the submission. Rows are held
  // by slot, so a store row costs one lookup and the submission none.
  const codes = batch.accountCodes;
  const slotOfCode = new Map<string, number>();
  const slots = new Array<number>(codes.length);
  for (let i = 0; i < codes.length; i++) {
    let slot = slotOfCode.get(codes[i]);
    if (slot === undefined) {
      slot = i;
      slotOfCode.set(codes[i], slot);
    }
    slots[i] = slot;
  }
  // One pass over the store (it may hold far more rows than the batch): masters of the
  // submitted accounts, and every sub-account row by its parent.
  const masters = new Array<AccountResult | undefined>(codes.length).fill(undefined);
  const childrenOf = new Map<string, AccountResult[]>();
  for (const row of all) {
    const parent = row.parent_portfolio_id;
    if (parent) {
      const siblings = childrenOf.get(parent);
      if (siblings) siblings.push(row);
      else childrenOf.set(parent, [row]);
      continue;
    }
    const slot = slotOfCode.get(row.account_code);
    if (slot === undefined) continue;
    const held = masters[slot];
    if (held === undefined) {
      masters[slot] = row;
      continue;
    }
    const [heldFresh, heldAt] = rank(held);
    const [rowFresh, rowAt] = rank(row);
    if (rowFresh > heldFresh || (rowFresh === heldFresh && rowAt > heldAt)) masters[slot] = row;
  }

  const rows: AccountResult[] = [];
  const stale: AccountResult[] = [];
  const missing: string[] = [];
  for (let i = 0; i < codes.length; i++) {
    const row = masters[slots[i]];
    if (row === undefined) missing.push(codes[i]);
    else if (isFresh(row)) rows.push(row);
    else stale.push(row);
  }

  const subAccountRows: AccountResult[] = [];
  if (childrenOf.size > 0) {
    for (const master of rows) {
      const children = master.portfolio_id ? childrenOf.get(master.portfolio_id) : undefined;
      if (children !== undefined) for (const child of children) subAccountRows.push(child);
    }
  }

  const currencies = new Set<string>();
  let totalInitialMargin = 0;
  for (const row of rows) {
    const code = row.currency_code;
    if (typeof code === 'string' && code !== '') currencies.add(code);
    totalInitialMargin += row.initial_margin ?? 0;
  }
  const exceptions: AccountException[] = [];
  const noteExceptions = (row: AccountResult): void => {
    for (const note of row.exceptions ?? []) exceptions.push({ ...note, account_code: row.account_code, kind: 'exception' });
    for (const note of row.closest_matches ?? []) exceptions.push({ ...note, account_code: row.account_code, kind: 'closest_match' });
  };
  for (const row of rows) noteExceptions(row);
  for (const row of subAccountRows) noteExceptions(row);

  return {
    batchId: batch.batchId,
    status: status.status,
    partial: status.status === 'completed_with_errors',
    rows,
    subAccountRows,
    missing,
    stale,
    totalInitialMargin,
    currencyCode: currencies.size === 1 ? [...currencies][0] : undefined,
    exceptions,
  };
}

/**
 * The run report: what the CLI prints, as data (`--format json`) and as text.
 */
import type { BatchStatus } from '../codecs';
import { formatMs } from '../http/errors';
import { redact } from '../http/redact';
import type { AccountException, BatchResults, SubmittedBatch } from '../types';

/** How one batch ended: its last status, its results when they were fetched, or the error that stopped it. */
export interface BatchOutcome {
  readonly batch: SubmittedBatch;
  /** The last status seen; undefined when no poll answered. */
  readonly status?: BatchStatus;
  readonly results?: BatchResults;
  readonly error?: Error;
}

/**
 * A part of the input the server never accepted: its submit was refused (e.g. a single
 * account still too large after 413 splits) or the run ended before it was sent. There is
 * no batch id to report, so the chunk's label names it instead.
 */
export interface UnsubmittedOutcome {
  /** The chunk's label in the run: `"3"` is the third payload, `"3.2"` the second half of it after a 413. */
  readonly chunk: string;
  /** Distinct accounts of the chunk. */
  readonly accountCodes: readonly string[];
  /** Why it was not accepted. */
  readonly error: Error;
}

/** How one part of a run ended: an accepted batch, or a chunk that never was. */
export type RunOutcome = BatchOutcome | UnsubmittedOutcome;

/** The `status` of a report entry whose chunk the server never accepted. */
export const NOT_SUBMITTED = 'not_submitted';

/** One batch of the report. */
export interface ReportBatch {
  /** The server's batch id; null when the chunk was never accepted (see `chunk`). */
  readonly batch_id: string | null;
  /** The last status seen (`completed`, `failed`, …), `unknown` when none arrived, `not_submitted` when never accepted. */
  readonly status: string;
  readonly runtime_ms: number | null;
  /** Number of distinct accounts submitted in this batch. */
  readonly accounts: number;
  /** Only for a chunk never accepted: its label in the run (`"3"`, `"3.2"` after a 413 split). */
  readonly chunk?: string;
  /** Why the batch did not finish normally (one line, redacted). */
  readonly error?: string;
}

/** A batch the server refused as too large (413) and that was resubmitted as two halves by account. */
export interface ReportSplit {
  /** The label of the refused chunk. */
  readonly chunk: string;
  /** Its number of distinct accounts. */
  readonly accounts: number;
  /** The labels of its halves. */
  readonly into: readonly [string, string];
}

/** One of the largest accounts. */
export interface ReportTopAccount {
  readonly account_code: string;
  readonly initial_margin: number | null;
  readonly status: string | null;
}

/** A per-account exception or closest match, as the server reported it. */
export type ReportException = AccountException;

/** The report of a run; the shape `c9-batch run --format json` prints. */
export interface RunReport {
  readonly batches: readonly ReportBatch[];
  /** Fresh master-account rows fetched (sub-account, stale and foreign rows not counted). */
  readonly accounts_fetched: number;
  /** Sum of `initial_margin` over the fresh master rows. */
  readonly total_initial_margin: number;
  /** The rows' currency; null when there are no rows or they disagree. */
  readonly currency_code: string | null;
  readonly top: readonly ReportTopAccount[];
  /** Submitted accounts with no row at all. */
  readonly missing_accounts: readonly string[];
  /** Submitted accounts whose only row is older than their batch. */
  readonly stale_accounts: readonly string[];
  /**
   * Submitted accounts of batches that produced no results at all (failed, timed out,
   * stopped on an error, or never accepted), in input order: no account leaves a run unaccounted for.
   */
  readonly accounts_without_results: readonly string[];
  readonly exceptions: readonly ReportException[];
  /** The 413 splits of the run, in the order they happened; present only when there was one. */
  readonly splits?: readonly ReportSplit[];
}

/** Options of {@link buildReport}. */
export interface BuildReportConfig {
  /** How many of the largest accounts to list. Default 5. */
  readonly top?: number;
  /** The 413 splits of the run (the `splits` of `runBatches`' report event). Default none. */
  readonly splits?: readonly ReportSplit[];
}

/**
 * True for a chunk the server never accepted (an outcome without a batch).
 *
 * Example: `outcomes.filter(isUnsubmitted).map((o) => o.chunk)` → `['3.2']`
 *
 * @param outcome one outcome of a run
 */
export function isUnsubmitted(outcome: RunOutcome): outcome is UnsubmittedOutcome {
  return (outcome as Partial<BatchOutcome>).batch === undefined;
}

/**
 * Builds the run report from each batch's outcome. Counts and totals use fresh
 * master-account rows only (`BatchResults.rows`): sub-account rows are a breakdown of
 * their master and stale rows are not this run's figures. A chunk never accepted is an
 * entry with `batch_id: null`, `status: "not_submitted"`, its `chunk` label and the error;
 * the 413 splits, when there were any, are listed under `splits`.
 *
 * Example:
 * ```ts
 * const report = buildReport([{ batch, status, results }, { chunk: '2', accountCodes: ['B'], error }], { top: 5 });
 * console.log(report.total_initial_margin, report.currency_code);
 * ```
 *
 * @param outcomes one entry per batch or never-accepted chunk, in input order
 * @param config `top`: how many accounts to list (default 5); `splits`: the run's 413 splits
 * @throws TypeError when `top` is not an integer >= 0 or `splits` is not an array
 */
export function buildReport(outcomes: readonly RunOutcome[], config: BuildReportConfig = {}): RunReport {
  const { top = 5, splits = [] } = config;
  if (!Number.isInteger(top) || top < 0) throw new TypeError(`buildReport: top must be an integer >= 0; got ${String(top)}`);
  if (!Array.isArray(splits)) throw new TypeError('buildReport: splits must be an array');

  const batches: ReportBatch[] = outcomes.map((outcome) => {
    if (isUnsubmitted(outcome)) {
      return { batch_id: null, status: NOT_SUBMITTED, runtime_ms: null, accounts: outcome.accountCodes.length, chunk: outcome.chunk, error: oneLine(outcome.error) };
    }
    const { batch, status, error } = outcome;
    return {
      batch_id: batch.batchId,
      status: status?.status ?? 'unknown',
      runtime_ms: status?.runtime_ms ?? null,
      accounts: batch.accountCodes.length,
      ...(error === undefined ? {} : { error: oneLine(error) }),
    };
  });

  const rows: { account_code: string; initial_margin: number | null; status: string | null }[] = [];
  const currencies = new Set<string>();
  let total = 0;
  const missing: string[] = [];
  const stale: string[] = [];
  const exceptions: ReportException[] = [];
  const withoutResults: string[] = [];
  for (const outcome of outcomes) {
    const results = isUnsubmitted(outcome) ? undefined : outcome.results;
    if (results === undefined) {
      withoutResults.push(...(isUnsubmitted(outcome) ? outcome.accountCodes : outcome.batch.accountCodes));
      continue;
    }
    for (const row of results.rows) {
      const margin = row.initial_margin ?? null;
      rows.push({ account_code: row.account_code, initial_margin: margin, status: row.status ?? null });
      if (margin !== null) total += margin;
      if (row.currency_code) currencies.add(row.currency_code);
    }
    missing.push(...results.missing);
    stale.push(...results.stale.map((row) => row.account_code));
    exceptions.push(...results.exceptions);
  }

  // Stable sort: equal margins keep submission order. Rows without a figure go last.
  const largest = [...rows].sort((a, b) => (b.initial_margin ?? -Infinity) - (a.initial_margin ?? -Infinity) || 0).slice(0, top);

  return {
    batches,
    accounts_fetched: rows.length,
    total_initial_margin: total,
    currency_code: currencies.size === 1 ? [...currencies][0] : null,
    top: largest,
    missing_accounts: missing,
    stale_accounts: stale,
    accounts_without_results: withoutResults,
    exceptions,
    ...(splits.length === 0 ? {} : { splits: splits.map(({ chunk, accounts, into }) => ({ chunk, accounts, into: [into[0], into[1]] as const })) }),
  };
}

/**
 * The exit code of a run: 0 when every batch completed; 2 when any completed with errors
 * or an account has no fresh row (missing or stale); 1 when any batch failed, ended
 * without a terminal status, stopped on an error, or was never accepted. A 413 split
 * alone changes nothing: its halves are judged like any batch.
 *
 * Example: `process.exitCode = exitCodeFor(report)`
 *
 * @param report the run report
 */
export function exitCodeFor(report: RunReport): 0 | 1 | 2 {
  let code: 0 | 1 | 2 = 0;
  for (const batch of report.batches) {
    if (batch.error !== undefined) return 1;
    if (batch.status === 'completed') continue;
    if (batch.status === 'completed_with_errors') code = 2;
    else return 1;
  }
  if (report.missing_accounts.length > 0 || report.stale_accounts.length > 0) code = 2;
  return code;
}

/** Options of {@link formatReportText}. */
export interface FormatReportConfig {
  /** How many exceptions to show before summarising the rest. Default 10. */
  readonly maxExceptions?: number;
}

/**
 * Renders the report for a terminal: batches (chunks never accepted by their label), the
 * 413 splits, results fetched, total initial margin with its currency, the largest
 * accounts, missing and stale accounts, and the first few exceptions with a count.
 *
 * Example: `process.stdout.write(formatReportText(report))`
 *
 * @param report the run report
 * @param config `maxExceptions` (default 10)
 */
export function formatReportText(report: RunReport, config: FormatReportConfig = {}): string {
  const { maxExceptions = 10 } = config;
  const out: string[] = [];
  out.push(`Batches: ${report.batches.length}`);
  for (const b of report.batches) {
    const runtime = b.runtime_ms === null ? '' : `  runtime ${formatMs(b.runtime_ms)}`;
    const error = b.error === undefined ? '' : `  error: ${b.error}`;
    const name = b.batch_id ?? `chunk ${b.chunk ?? '?'}`;
    out.push(`  ${name}  ${b.status}  ${b.accounts} account${b.accounts === 1 ? '' : 's'}${runtime}${error}`);
  }
  if (report.splits !== undefined && report.splits.length > 0) {
    out.push(`Split after HTTP 413 (payload too large): ${report.splits.length}`);
    for (const s of report.splits) out.push(`  chunk ${s.chunk} (${s.accounts} accounts) into ${s.into[0]} and ${s.into[1]}`);
  }
  out.push(`Results fetched: ${report.accounts_fetched} account${report.accounts_fetched === 1 ? '' : 's'}`);
  const currency = report.currency_code ?? (report.accounts_fetched > 0 ? '(mixed currencies)' : '');
  out.push(`Total initial margin: ${formatAmount(report.total_initial_margin)} ${currency}`.trimEnd());
  if (report.top.length > 0) {
    out.push(`Top ${report.top.length} account${report.top.length === 1 ? '' : 's'} by initial margin:`);
    const width = Math.max(...report.top.map((t) => t.account_code.length));
    const amounts = report.top.map((t) => (t.initial_margin === null ? '-' : formatAmount(t.initial_margin)));
    const amountWidth = Math.max(...amounts.map((a) => a.length));
    report.top.forEach((t, i) => {
      out.push(`  ${String(i + 1).padStart(2)}. ${t.account_code.padEnd(width)}  ${amounts[i].padStart(amountWidth)}  ${t.status ?? ''}`.trimEnd());
    });
  }
  out.push(`Missing accounts: ${listOrNone(report.missing_accounts)}`);
  out.push(`Stale accounts: ${listOrNone(report.stale_accounts)}`);
  if (report.accounts_without_results.length > 0) {
    out.push(`Accounts without results (their batch failed or never ran): ${listOrNone(report.accounts_without_results)}`);
  }
  out.push(`Exceptions: ${report.exceptions.length}`);
  for (const e of report.exceptions.slice(0, maxExceptions)) {
    const position = e.position_id === undefined ? '' : ` position ${e.position_id}`;
    const kind = e.kind === 'closest_match' ? ' (closest match)' : '';
    out.push(`  ${e.account_code}${position}${kind}: ${e.exception ?? 'no reason given'}`);
  }
  if (report.exceptions.length > maxExceptions) out.push(`  … and ${report.exceptions.length - maxExceptions} more`);
  return redact(`${out.join('\n')}\n`);
}

function listOrNone(items: readonly string[]): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, 20).join(', ');
  return items.length > 20 ? `${items.length} (${shown}, …)` : `${items.length} (${shown})`;
}

function formatAmount(value: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function oneLine(error: Error): string {
  return redact(error.message.replace(/\s*\n\s*/g, '; '));
}

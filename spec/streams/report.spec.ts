import type { AccountResult, BatchStatus } from '../../src/codecs';
import { BatchFailedError, BatchTimeoutError, PayloadTooLargeError } from '../../src/http/errors';
import { buildReport, exitCodeFor, formatReportText, isUnsubmitted, type BatchOutcome, type UnsubmittedOutcome } from '../../src/streams/report';
import type { BatchResults, SubmittedBatch } from '../../src/types';

function batch(id: string, accountCodes: string[]): SubmittedBatch {
  return { batchId: id, accountCodes, submittedAt: '2026-01-01T00:00:00.000Z', processingMode: 'fifo' };
}

function status(id: string, value: string, runtime?: number): BatchStatus {
  return { batch_id: id, status: value, runtime_ms: runtime };
}

function row(account: string, margin: number, extra: Partial<AccountResult> = {}): AccountResult {
  return { account_code: account, portfolio_id: `p-${account}`, initial_margin: margin, currency_code: 'USD', status: 'ok', ...extra };
}

function results(id: string, rows: AccountResult[], extra: Partial<BatchResults> = {}): BatchResults {
  return {
    batchId: id,
    status: 'completed',
    partial: false,
    rows,
    subAccountRows: [],
    missing: [],
    stale: [],
    totalInitialMargin: rows.reduce((s, r) => s + (r.initial_margin ?? 0), 0),
    currencyCode: 'USD',
    exceptions: [],
    ...extra,
  };
}

describe('buildReport', () => {
  const one: BatchOutcome = {
    batch: batch('b1', ['A', 'B', 'C', 'S']),
    status: status('b1', 'completed', 1500),
    results: results('b1', [row('A', 100), row('B', 300), row('C', 200)], {
      subAccountRows: [row('A-sub', 5000, { parent_portfolio_id: 'p-A' })],
      stale: [row('S', 9000, { submitted_time: '2020-01-01T00:00:00Z' })],
      exceptions: [{ account_code: 'C', kind: 'exception', position_id: 7, exception: 'unknown contract' }],
    }),
  };
  const two: BatchOutcome = {
    batch: batch('b2', ['D', 'E', 'M']),
    status: status('b2', 'completed_with_errors', 900),
    results: results('b2', [row('D', 250), row('E', 50, { status: 'partial' })], { missing: ['M'], partial: true }),
  };

  it('should have the documented shape', () => {
    const report = buildReport([one, two]);

    expect(report).toEqual({
      batches: [
        { batch_id: 'b1', status: 'completed', runtime_ms: 1500, accounts: 4 },
        { batch_id: 'b2', status: 'completed_with_errors', runtime_ms: 900, accounts: 3 },
      ],
      accounts_fetched: 5,
      total_initial_margin: 900,
      currency_code: 'USD',
      top: [
        { account_code: 'B', initial_margin: 300, status: 'ok' },
        { account_code: 'D', initial_margin: 250, status: 'ok' },
        { account_code: 'C', initial_margin: 200, status: 'ok' },
        { account_code: 'A', initial_margin: 100, status: 'ok' },
        { account_code: 'E', initial_margin: 50, status: 'partial' },
      ],
      missing_accounts: ['M'],
      stale_accounts: ['S'],
      accounts_without_results: [],
      exceptions: [{ account_code: 'C', kind: 'exception', position_id: 7, exception: 'unknown contract' }],
    });
  });

  it('should list every account of a batch that produced no results, never losing one', () => {
    const failed: BatchOutcome = { batch: batch('f', ['F1', 'F2']), status: status('f', 'failed'), error: new BatchFailedError('f') };
    const timedOut: BatchOutcome = { batch: batch('t', ['T1']), error: new BatchTimeoutError({ batchId: 't', lastStatus: 'queued', elapsedMs: 1000 }) };
    const refused: UnsubmittedOutcome = { chunk: '4', accountCodes: ['N1', 'N2'], error: new PayloadTooLargeError({ status: 413 }) };

    const report = buildReport([one, failed, timedOut, refused]);

    expect(report.accounts_without_results).toEqual(['F1', 'F2', 'T1', 'N1', 'N2']);
    expect(formatReportText(report)).toContain('Accounts without results (their batch failed or never ran): 5 (F1, F2, T1, N1, N2)');
    expect(formatReportText(buildReport([one]))).not.toContain('Accounts without results');
  });

  it('should count fresh master rows only, never sub-account or stale rows', () => {
    const report = buildReport([one]);

    expect(report.accounts_fetched).toBe(3);
    expect(report.total_initial_margin).toBe(600);
    expect(report.top.map((t) => t.account_code)).not.toContain('A-sub');
    expect(report.top.map((t) => t.account_code)).not.toContain('S');
  });

  it('should list as many top accounts as asked, keeping submission order on ties', () => {
    const tied: BatchOutcome = { batch: batch('b', ['X', 'Y', 'Z']), status: status('b', 'completed'), results: results('b', [row('X', 1), row('Y', 2), row('Z', 2)]) };

    expect(buildReport([tied], { top: 2 }).top.map((t) => t.account_code)).toEqual(['Y', 'Z']);
    expect(buildReport([tied], { top: 0 }).top).toEqual([]);
    expect(() => buildReport([tied], { top: -1 })).toThrow(TypeError);
  });

  it('should report mixed currencies as no currency', () => {
    const eur: BatchOutcome = { batch: batch('e', ['E']), status: status('e', 'completed'), results: results('e', [row('E', 1, { currency_code: 'EUR' })]) };

    expect(buildReport([one, eur]).currency_code).toBeNull();
    expect(buildReport([]).currency_code).toBeNull();
  });

  it('should carry a batch error as one redacted line', () => {
    const failed: BatchOutcome = {
      batch: batch('f', ['A']),
      status: status('f', 'failed'),
      error: new BatchFailedError('f', 'replaced by a later replace_all batch\nkey sk-secret-123456'),
    };

    const [entry] = buildReport([failed]).batches;

    expect(entry).toEqual({ batch_id: 'f', status: 'failed', runtime_ms: null, accounts: 1, error: expect.stringContaining('replaced by a later') });
    expect(entry.error).not.toContain('\n');
    expect(entry.error).not.toContain('sk-secret-123456');
  });
  it('should list a chunk never accepted by its label, with no batch id and its error', () => {
    const refused: UnsubmittedOutcome = { chunk: '1.2', accountCodes: ['BIG'], error: new PayloadTooLargeError({ status: 413, body: 'too large' }) };

    const report = buildReport([one, refused]);

    expect(report.batches[1]).toEqual({ batch_id: null, status: 'not_submitted', runtime_ms: null, accounts: 1, chunk: '1.2', error: expect.stringContaining('413') });
    expect(report.accounts_fetched).toBe(3);
    expect(isUnsubmitted(refused)).toBe(true);
    expect(isUnsubmitted(one)).toBe(false);
  });

  it('should add the 413 splits only when there were some', () => {
    const splits = [{ chunk: '1', accounts: 4, into: ['1.1', '1.2'] as const }];

    expect(buildReport([one], { splits }).splits).toEqual([{ chunk: '1', accounts: 4, into: ['1.1', '1.2'] }]);
    expect(Object.keys(buildReport([one], { splits: [] }))).not.toContain('splits');
    expect(Object.keys(buildReport([one]))).not.toContain('splits');
  });
});

describe('exitCodeFor', () => {
  const done = (id: string, value: string, extra: Partial<BatchResults> = {}): BatchOutcome => ({
    batch: batch(id, ['A']),
    status: status(id, value),
    results: results(id, [row('A', 1)], extra),
  });

  it('should be 0 when every batch completed with every account', () => {
    expect(exitCodeFor(buildReport([done('a', 'completed'), done('b', 'completed')]))).toBe(0);
  });

  it('should be 2 for completed_with_errors, a missing or a stale account', () => {
    expect(exitCodeFor(buildReport([done('a', 'completed'), done('b', 'completed_with_errors')]))).toBe(2);
    expect(exitCodeFor(buildReport([done('a', 'completed', { missing: ['Q'] })]))).toBe(2);
    expect(exitCodeFor(buildReport([done('a', 'completed', { stale: [row('Q', 1)] })]))).toBe(2);
  });

  it('should be 1 for a failed batch, a batch error or a batch without terminal status', () => {
    const failed: BatchOutcome = { batch: batch('f', ['A']), status: status('f', 'failed'), error: new BatchFailedError('f') };
    const timedOut: BatchOutcome = {
      batch: batch('t', ['A']),
      status: status('t', 'queued'),
      error: new BatchTimeoutError({ batchId: 't', lastStatus: 'queued', elapsedMs: 30_000 }),
    };
    const noStatus: BatchOutcome = { batch: batch('n', ['A']) };

    expect(exitCodeFor(buildReport([done('a', 'completed_with_errors'), failed]))).toBe(1);
    expect(exitCodeFor(buildReport([timedOut]))).toBe(1);
    expect(exitCodeFor(buildReport([noStatus]))).toBe(1);
  });

  it('should be 1 for a chunk never accepted, and not changed by a split alone', () => {
    const refused: UnsubmittedOutcome = { chunk: '2', accountCodes: ['B'], error: new Error('the run ended before it was accepted') };
    const splits = [{ chunk: '1', accounts: 2, into: ['1.1', '1.2'] as const }];

    expect(exitCodeFor(buildReport([done('a', 'completed'), refused]))).toBe(1);
    expect(exitCodeFor(buildReport([done('a', 'completed'), done('b', 'completed')], { splits }))).toBe(0);
  });
});

describe('formatReportText', () => {
  it('should show results, total with currency, top accounts, missing, stale and exceptions with a count', () => {
    const outcome: BatchOutcome = {
      batch: batch('b1', ['A', 'B', 'M']),
      status: status('b1', 'completed_with_errors', 2500),
      results: results('b1', [row('A', 1234567.891), row('B', 10)], {
        missing: ['M'],
        exceptions: Array.from({ length: 12 }, (_, i) => ({ account_code: 'A', kind: 'exception' as const, position_id: i, exception: `bad ${i}` })),
      }),
    };

    const text = formatReportText(buildReport([outcome]), { maxExceptions: 3 });

    expect(text).toContain('b1  completed_with_errors  3 accounts  runtime 2.5s');
    expect(text).toContain('Results fetched: 2 accounts');
    expect(text).toContain('Total initial margin: 1,234,577.89 USD');
    expect(text).toMatch(/ 1\. A +1,234,567\.89 +ok\n +2\. B +10\.00 +ok/);
    expect(text).toContain('Missing accounts: 1 (M)');
    expect(text).toContain('Stale accounts: none');
    expect(text).toContain('Exceptions: 12');
    expect(text).toContain('A position 2: bad 2');
    expect(text).not.toContain('bad 3');
    expect(text).toContain('… and 9 more');
    expect(text).not.toContain('Split');
  });

  it('should name a chunk never accepted and list the 413 splits', () => {
    const refused: UnsubmittedOutcome = { chunk: '1.2', accountCodes: ['BIG'], error: new Error('HTTP 413 Payload Too Large') };
    const ok: BatchOutcome = { batch: batch('b1', ['A']), status: status('b1', 'completed', 10), results: results('b1', [row('A', 1)]) };

    const text = formatReportText(buildReport([ok, refused], { splits: [{ chunk: '1', accounts: 2, into: ['1.1', '1.2'] }] }));

    expect(text).toContain('  chunk 1.2  not_submitted  1 account  error: HTTP 413 Payload Too Large');
    expect(text).toContain('Split after HTTP 413 (payload too large): 1\n  chunk 1 (2 accounts) into 1.1 and 1.2\n');
  });
});

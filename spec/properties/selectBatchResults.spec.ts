/**
 * Property spec of selectBatchResults: on any rows, it picks exactly what the plain
 * definition (below, written as the function first was: one test per row, no memo, one pass
 * per question) picks. The function remembers each request id and time it has worked out and
 * reads the store in one pass, so rows here repeat, interleave and vary those strings (case,
 * dashes, zones, unparsable times, empty strings), sub-account rows come before and after
 * their parents, accounts repeat, and the status has or lacks `created_at`.
 * Seed and runs: see spec/support/fastCheck.ts.
 */
import fc from 'fast-check';
import type { AccountResult, BatchStatus } from '../../src/codecs';
import { selectBatchResults } from '../../src/operators/selectBatchResults';
import type { AccountException, BatchResults, SubmittedBatch } from '../../src/types';
import { announceSeed, checkProperty, describeRuns, propertySettings, timeoutFor } from '../support/fastCheck';

const settings = propertySettings();
const RUNS = 300;

const BATCH_ID = 'aaaaaaaa-0000-4000-8000-000000000001';
const REQUEST_ID = 'bbbbbbbb-0000-4000-8000-000000000002';

/** The definition: what selectBatchResults must return, written the straightforward way. */
function reference(batch: SubmittedBatch, status: BatchStatus, all: readonly AccountResult[], clockSkewMs: number): BatchResults {
  const normaliseId = (id: string): string => id.replace(/-/g, '').toLowerCase();
  const parseInstant = (text: string | undefined): number | undefined => {
    if (text === undefined || text === '') return undefined;
    const zoned = /(?:[zZ]|[+-]\d{2}:?\d{2})$/.test(text) || !/\d{2}:\d{2}/.test(text) ? text : `${text}Z`;
    const ms = Date.parse(zoned);
    return Number.isNaN(ms) ? undefined : ms;
  };
  const start = parseInstant(status.created_at ?? undefined) ?? parseInstant(batch.submittedAt);
  const earliest = start === undefined ? undefined : start - (status.created_at ? 0 : clockSkewMs);
  // The batch id makes a row fresh; else its time does; with no time, the payload's own request id.
  const isFresh = (row: AccountResult): boolean => {
    const id = row.request_id ? normaliseId(row.request_id) : undefined;
    if (id === normaliseId(batch.batchId)) return true;
    const at = parseInstant(row.submitted_time);
    if (at !== undefined && earliest !== undefined) return at >= earliest;
    return batch.requestId !== undefined && id === normaliseId(batch.requestId);
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

const CODES = ['A1', 'A2', 'A3', 'S1', '__proto__', ''];
const PORTFOLIOS = ['p1', 'p2', 'p3', ''];
/** The batch's own ids as the API may write them, and others. */
const REQUEST_IDS = [BATCH_ID, BATCH_ID.toUpperCase(), BATCH_ID.replace(/-/g, ''), REQUEST_ID, 'cccccccc-0000-4000-8000-000000000003', 'old', ''];
/** Times around the batch's start (10:00:00 UTC), with and without zone, and unparsable ones. */
const TIMES = [
  '2024-01-01T10:00:00.000Z',
  '2024-01-01T09:59:59.500Z',
  '2024-01-01T10:00:00',
  '2024-01-01T10:00:01+00:00',
  '2024-01-01T11:00:00+02:00',
  '2024-01-01T09:00:00Z',
  '2024-01-01',
  'yesterday',
  '',
];

const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const note = fc.record({ position_id: maybe(fc.constantFrom('1', 2)), exception: maybe(fc.constantFrom('no price', 'unknown')) });
const row: fc.Arbitrary<AccountResult> = fc
  .record({
    account_code: fc.constantFrom(...CODES),
    portfolio_id: maybe(fc.constantFrom(...PORTFOLIOS)),
    parent_portfolio_id: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.constantFrom(...PORTFOLIOS), weight: 1 }),
    request_id: maybe(fc.constantFrom(...REQUEST_IDS)),
    // Copied so that equal times are also different string objects, as JSON.parse makes them.
    submitted_time: maybe(fc.constantFrom(...TIMES).map((text) => [...text].join(''))),
    currency_code: maybe(fc.constantFrom('USD', 'EUR', '')),
    initial_margin: maybe(fc.constantFrom(0, 1.5, 10, 1e-9, 3e12)),
    exceptions: maybe(fc.array(note, { maxLength: 2 })),
    closest_matches: maybe(fc.array(note, { maxLength: 2 })),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as AccountResult);

const batch: fc.Arbitrary<SubmittedBatch> = fc.record({
  batchId: fc.constantFrom(BATCH_ID, BATCH_ID.toUpperCase()),
  requestId: maybe(fc.constantFrom(REQUEST_ID, 'old')),
  accountCodes: fc.array(fc.constantFrom(...CODES, 'NOT-THERE'), { maxLength: 6 }),
  submittedAt: fc.constantFrom('2024-01-01T10:00:00.000Z', '2024-01-01T10:00:00', 'not a time'),
  processingMode: fc.constant('fifo' as const),
}).map((b) => (b.requestId === undefined ? { ...b, requestId: undefined } : b) as SubmittedBatch);

const status: fc.Arbitrary<BatchStatus> = fc.record({
  batch_id: fc.constant(BATCH_ID),
  status: fc.constantFrom('completed' as const, 'completed_with_errors' as const),
  created_at: maybe(fc.constantFrom('2024-01-01T10:00:00.000Z', '2024-01-01T09:59:59Z', 'garbled')),
});

describe('selectBatchResults', () => {
  beforeAll(() => announceSeed(settings, 'spec/properties/selectBatchResults.spec.ts'));

  it(
    `should pick exactly the rows, totals and exceptions of the plain definition (${describeRuns(settings, RUNS)})`,
    async () => {
      await checkProperty(
        settings,
        RUNS,
        fc.property(batch, status, fc.array(row, { maxLength: 14 }), fc.constantFrom(0, 1000), (b, s, rows, clockSkewMs) => {
          expect(selectBatchResults(b, s, rows, { clockSkewMs })).toEqual(reference(b, s, rows, clockSkewMs));
        }),
      );
    },
    timeoutFor(settings, RUNS, 5),
  );
});

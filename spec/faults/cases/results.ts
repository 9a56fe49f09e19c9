/**
 * Results: the live store is the user's, not the batch's. Rows that lag behind completion,
 * stale rows, foreign rows of the same user, sub-account rows and missing accounts must never
 * be reported as this batch's numbers.
 */
import { concatMap, lastValueFrom, of } from 'rxjs';
import { pollUntilTerminal } from '../../../src/operators/pollUntilTerminal';
import { submitBatch } from '../../../src/operators/submitBatch';
import { createResultsFetcher } from '../../../src/streams/resultsFetcher';
import { isTerminalStatus } from '../../../src/codecs';
import type { FaultCase } from '../support/matrix';
import { book, brent, describeError, describeRun, FAST_POLL, OTHER_KEY, rowAccounts, seedStore, unknownContract } from '../support/rig';

const kind = 'results';

/** Sum of initial margin over rows, rounded to cents, as text. */
function total(rows: readonly { initial_margin?: number | null }[]): string {
  return (Math.round(rows.reduce((sum, r) => sum + (r.initial_margin ?? 0), 0) * 100) / 100).toFixed(2);
}

export const resultCases: readonly FaultCase[] = [
  {
    kind,
    name: 'results lag completion by 1 request, empty store before',
    expected: 'completed rows=0 missing=RS-A|RS-B',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.lagResults(1);
      return describeRun(await rig.run(book('RS-A', 'RS-B')));
    },
  },
  {
    kind,
    name: 'results lag completion by 1, earlier rows of the same accounts',
    expected: 'completed rows=0 stale=RS-A|RS-B',
    async run(ctx) {
      const rig = await ctx.rig();
      await seedStore(rig.emu, book('RS-A', 'RS-B'));
      rig.emu.faults.lagResults(1);
      return describeRun(await rig.run(book('RS-A', 'RS-B')));
    },
  },
  {
    kind,
    name: 'results lag by 2, re-fetching results fetcher (3 tries)',
    expected: 'completed rows=2; results requests=3',
    async run(ctx) {
      const rig = await ctx.rig();
      await seedStore(rig.emu, book('RS-A', 'RS-B'));
      rig.emu.faults.lagResults(2);
      const fetcher = createResultsFetcher(rig.client, { windowMs: 0, refetchAttempts: 3, refetchDelayMs: 5 });
      const results = await lastValueFrom(
        of(book('RS-A', 'RS-B')).pipe(
          submitBatch(rig.client),
          concatMap((batch) =>
            of(batch).pipe(
              pollUntilTerminal(rig.client, FAST_POLL),
              concatMap((status) => (isTerminalStatus(status.status) ? fetcher.fetch({ batch, status }) : [])),
            ),
          ),
        ),
      );
      return `${describeRun({ events: [], results, error: undefined, cancelled: false })}; results requests=${rig.proxy.count('results')}`;
    },
  },
  {
    kind,
    name: 'stale row: an account that fails now keeps its old row',
    expected: 'completed_with_errors rows=2 stale=RS-C',
    async run(ctx) {
      const rig = await ctx.rig();
      await seedStore(rig.emu, book('RS-C'));
      return describeRun(await rig.run({ portfolio: [brent('RS-A'), brent('RS-B'), unknownContract('RS-C')] }));
    },
  },
  {
    kind,
    name: 'foreign rows of the same user (other accounts) are left out',
    expected: 'completed rows=2 (RS-A|RS-B); total = these two rows only',
    async run(ctx) {
      const rig = await ctx.rig();
      await seedStore(rig.emu, { portfolio: [brent('RS-X', 900), brent('RS-Y', -700)] });
      const r = await rig.run(book('RS-A', 'RS-B'));
      const rows = r.results?.rows ?? [];
      const sums = r.results !== undefined && total(rows) === r.results.totalInitialMargin.toFixed(2) ? 'total = these two rows only' : `total ${r.results?.totalInitialMargin}`;
      return `${describeRun(r)} (${rowAccounts(r)}); ${sums}`;
    },
  },
  {
    kind,
    name: 'foreign master row named like one of our sub-accounts',
    expected: 'completed rows=1 subs=1; foreign RS-S1 master not kept',
    async run(ctx) {
      const rig = await ctx.rig();
      await seedStore(rig.emu, book('RS-S1'));
      const r = await rig.run({ portfolio: [brent('RS-A', 5, { sub_account_code: 'RS-S1' })] });
      const subs = r.results?.subAccountRows ?? [];
      const foreignKept = [...(r.results?.rows ?? []), ...subs].some((row) => row.account_code === 'RS-S1' && !row.parent_portfolio_id);
      return `${describeRun(r)}; foreign RS-S1 master ${foreignKept ? 'KEPT' : 'not kept'}`;
    },
  },
  {
    kind,
    name: 'sub-account rows: kept as breakdown, not added to the total',
    expected: 'completed rows=2 subs=2; total = master rows only',
    async run(ctx) {
      const rig = await ctx.rig();
      const r = await rig.run({
        portfolio: [brent('RS-A', 5, { sub_account_code: 'RS-A1' }), brent('RS-A', -2, { sub_account_code: 'RS-A2' }), brent('RS-B')],
      });
      const ok = r.results !== undefined && total(r.results.rows) === r.results.totalInitialMargin.toFixed(2);
      return `${describeRun(r)}; ${ok ? 'total = master rows only' : `total ${r.results?.totalInitialMargin}`}`;
    },
  },
  {
    kind,
    name: 'missing account: never margined, no row at all',
    expected: 'completed_with_errors rows=2 missing=RS-C',
    async run(ctx) {
      const rig = await ctx.rig();
      return describeRun(await rig.run({ portfolio: [brent('RS-A'), brent('RS-B'), unknownContract('RS-C')] }));
    },
  },
  {
    kind,
    name: "another user's rows for the same accounts never show (lag 1)",
    expected: 'completed rows=0 missing=RS-A|RS-B',
    async run(ctx) {
      const rig = await ctx.rig();
      await seedStore(rig.emu, book('RS-A', 'RS-B'), OTHER_KEY);
      rig.emu.faults.lagResults(1);
      return describeRun(await rig.run(book('RS-A', 'RS-B')));
    },
  },
  {
    kind,
    name: 'results answer is a JSON object, not an array',
    expected: 'DecodeError((root))',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('results', { status: 200, format: 'json', body: { data: [] } });
      const r = await rig.run(book('RS-A'));
      return r.error === undefined ? describeRun(r) : describeError(r.error);
    },
  },
];

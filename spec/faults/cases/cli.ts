/**
 * The CLI (`c9-batch run`, in-process) against the same faults: exit codes, one clear line
 * per error, and Ctrl-C (the `signal` of runCommand) at several points → 130 with nothing
 * left behind, including no listener on the caller's signal. The CLI uses the library's
 * default retry policy (500 ms first wait), so these cases keep to one retry at most.
 */
import { HEADER } from '../../cli/support/io';
import { waitUntil } from '../support/leaks';
import type { CaseContext, CliResult, FaultCase } from '../support/matrix';
import { closedPortUrl } from '../support/rawServers';
import { manyAccounts, seedStore, book, type Rig } from '../support/rig';

const kind = 'cli';
const FAST = ['--poll-interval', '20', '--quiet'];

/** A CSV of Brent positions; `NOPE` rows are a contract the emulator does not know. */
function csv(ctx: CaseContext, name: string, rows: ReadonlyArray<readonly [string, string?]>): string {
  const lines = rows.map(([account, contract = 'B']) => `${account},ICE.EU,${contract},FUT,202612,,5`);
  return ctx.file(name, `${HEADER}\n${lines.join('\n')}\n`);
}

/** The first line of stderr that matches, or a note that none did. */
function line(r: CliResult, pattern: RegExp): string {
  const found = r.stderr.split('\n').find((l) => pattern.test(l));
  return found === undefined ? `no line matching ${pattern} in: ${r.stderr.slice(0, 120)}` : 'says so';
}

/** Runs the CLI on `file` through the rig's proxy, and aborts the signal when `abortWhen` becomes true. */
async function interrupted(
  ctx: CaseContext,
  rig: Rig,
  file: string,
  abortWhen: () => boolean,
  reason = 'SIGINT',
): Promise<CliResult> {
  const controller = new AbortController();
  const running = ctx.cli(['run', file, '--endpoint', rig.proxy.url, ...FAST], { signal: controller.signal });
  await waitUntil(abortWhen, 3000);
  controller.abort(reason);
  ctx.cancelled();
  return running;
}

export const cliCases: readonly FaultCase[] = [
  {
    kind,
    name: 'run: 502 HTML once on status, then OK',
    expected: 'exit 0; report: 2 accounts',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 502 });
      const r = await ctx.cli(['run', csv(ctx, 'ok.csv', [['CL-A'], ['CL-B']]), '--endpoint', rig.proxy.url, ...FAST]);
      return `exit ${r.code}; report: ${/Results fetched: (\d+) accounts/.exec(r.stdout)?.[1] ?? '?'} accounts`;
    },
  },
  {
    kind,
    name: 'run: batch failed',
    expected: 'exit 1; says so',
    async run(ctx) {
      const rig = await ctx.rig();
      const r = await ctx.cli(['run', csv(ctx, 'failed.csv', [['CL-F', 'NOPE']]), '--endpoint', rig.proxy.url, ...FAST]);
      return `exit ${r.code}; ${line(r, /^error: batch \S+ failed: no account could be margined$/)}`;
    },
  },
  {
    kind,
    name: 'run: completed_with_errors',
    expected: 'exit 2',
    async run(ctx) {
      const rig = await ctx.rig();
      const r = await ctx.cli(['run', csv(ctx, 'partial.csv', [['CL-A'], ['CL-A', 'NOPE']]), '--endpoint', rig.proxy.url, ...FAST]);
      return `exit ${r.code}`;
    },
  },
  {
    kind,
    name: 'run: held queued, --timeout 300ms',
    expected: 'exit 1; says so',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'queued');
      const r = await ctx.cli(['run', csv(ctx, 'stuck.csv', [['CL-A']]), '--endpoint', rig.proxy.url, '--timeout', '300ms', ...FAST]);
      return `exit ${r.code}; ${line(r, /^error: batch \S+ timed out after \d+ms \(last status: queued, queue position 0\)/)}`;
    },
  },
  {
    kind,
    name: 'run: key refused (401)',
    expected: 'exit 1; says so; submits=1',
    async run(ctx) {
      const rig = await ctx.rig();
      const file = csv(ctx, 'key.csv', [['CL-A']]);
      const r = await ctx.cli(['run', file, '--endpoint', rig.proxy.url, ...FAST], { env: { C9_API_SECRET: 'sk-not-a-key-of-this-server' } });
      return `exit ${r.code}; ${line(r, /^error: the API key was refused \(HTTP 401\)/)}; submits=${rig.proxy.count('submit')}`;
    },
  },
  {
    kind,
    name: 'run: 500 on submit',
    expected: 'exit 1; says so',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('submit', { status: 500 });
      const r = await ctx.cli(['run', csv(ctx, 's500.csv', [['CL-A']]), '--endpoint', rig.proxy.url, ...FAST]);
      return `exit ${r.code}; ${line(r, /^error: .*HTTP 500 \(POST \/portfolios\/batch\): Internal Server Error$/)}`;
    },
  },
  {
    kind,
    name: 'run: connection refused, --timeout 300ms',
    expected: 'exit 1; says so',
    async run(ctx) {
      const r = await ctx.cli(['run', csv(ctx, 'refused.csv', [['CL-A']]), '--endpoint', await closedPortUrl(), '--timeout', '300ms', ...FAST]);
      return `exit ${r.code}; ${line(r, /^error: the run timed out after 300ms .*not .*accepted$/)}`;
    },
  },
  {
    kind,
    name: 'run --format json: stale and foreign rows not counted',
    expected: 'exit 2; accounts_fetched=2 stale=CL-C',
    async run(ctx) {
      const rig = await ctx.rig();
      await seedStore(rig.emu, book('CL-C', 'CL-X'));
      const file = csv(ctx, 'json.csv', [['CL-A'], ['CL-B'], ['CL-C', 'NOPE']]);
      const r = await ctx.cli(['run', file, '--endpoint', rig.proxy.url, '--format', 'json', ...FAST]);
      const report = JSON.parse(r.stdout) as { accounts_fetched: number; stale_accounts: string[] };
      return `exit ${r.code}; accounts_fetched=${report.accounts_fetched} stale=${report.stale_accounts.join('|')}`;
    },
  },
  {
    kind,
    name: 'Ctrl-C while queued',
    expected: 'exit 130; names the running batch',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'queued');
      const r = await interrupted(ctx, rig, csv(ctx, 'c1.csv', [['CL-A']]), () => rig.proxy.count('status') >= 2);
      return `exit ${r.code}; ${/^interrupted: 1 batch still running on the server: [0-9a-f-]{36}$/m.test(r.stderr) ? 'names the running batch' : r.stderr.slice(0, 120)}`;
    },
  },
  {
    kind,
    name: 'Ctrl-C before the submit answers',
    expected: 'exit 130; no batch was running',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.setLatency('submit', 400);
      const r = await interrupted(ctx, rig, csv(ctx, 'c2.csv', [['CL-A']]), () => rig.proxy.activeRequests > 0);
      return `exit ${r.code}; ${/^interrupted: no batch was running$/m.test(r.stderr) ? 'no batch was running' : r.stderr.slice(0, 120)}`;
    },
  },
  {
    kind,
    name: 'Ctrl-C during a retry wait (503 on status)',
    expected: 'exit 130; status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 503, count: 10 });
      const r = await interrupted(ctx, rig, csv(ctx, 'c3.csv', [['CL-A']]), () => rig.proxy.log.some((e) => e.status === 503));
      return `exit ${r.code}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: 'Ctrl-C mid-body of a large results answer',
    expected: 'exit 130; results body partly sent',
    async run(ctx) {
      const rig = await ctx.rig({ emulator: { msPerAccount: 0, chunkAccounts: 1000 } });
      await seedStore(rig.emu, book(...manyAccounts('CL-BIG-', 1500)));
      rig.emu.faults.slowBody('results', { chunkBytes: 32 * 1024, delayMs: 15 });
      const results = (): number => rig.proxy.log.find((e) => e.route === 'results')?.bytes ?? 0;
      const r = await interrupted(ctx, rig, csv(ctx, 'c4.csv', [['CL-A']]), () => results() > 100_000);
      const sent = results();
      return `exit ${r.code}; results body ${sent > 0 && sent < 1_500_000 ? 'partly sent' : `${sent} bytes sent`}`;
    },
  },
  {
    kind,
    name: 'SIGTERM while processing',
    expected: 'exit 143',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      const r = await interrupted(ctx, rig, csv(ctx, 'c5.csv', [['CL-A']]), () => rig.proxy.count('status') >= 1, 'SIGTERM');
      return `exit ${r.code}`;
    },
  },
  {
    kind,
    name: 'signal already aborted when the run starts',
    expected: 'exit 130; requests=0',
    async run(ctx) {
      const rig = await ctx.rig();
      const controller = new AbortController();
      controller.abort('SIGINT');
      const r = await ctx.cli(['run', csv(ctx, 'c6.csv', [['CL-A']]), '--endpoint', rig.proxy.url, ...FAST], { signal: controller.signal });
      return `exit ${r.code}; requests=${rig.proxy.log.length}`;
    },
  },
];

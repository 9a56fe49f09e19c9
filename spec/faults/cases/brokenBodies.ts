/**
 * Broken bodies: empty, truncated, byte-order marks, wrong content types, wrong shapes, and
 * very large ones. A body that is not the JSON expected is a typed error, never a bare
 * SyntaxError, and it is not retried (the server answered; asking again gives the same page).
 * A JSON body under a wrong label is read by its bytes: the label is a proxy's mistake.
 */
import type { FaultCase } from '../support/matrix';
import type { ProxyAction, ProxyRoute } from '../support/proxy';
import { book, describeRun, manyAccounts, seedStore, type Rig } from '../support/rig';

const kind = 'broken bodies';
const BOOK = book('BB-A', 'BB-B');

/** Rewrites every answer of the given routes. */
function rewriteRoutes(rig: Rig, routes: readonly ProxyRoute[], action: ProxyAction): void {
  rig.proxy.setRule((req) => (routes.includes(req.route) ? action : undefined));
}

/** Rewrites only the first answer of `route`. */
function rewriteFirst(rig: Rig, route: ProxyRoute, action: ProxyAction): void {
  rig.proxy.setRule((req) => (req.route === route && req.nth === 1 ? action : undefined));
}

const mb = (bytes: number): string => `${Math.floor(bytes / 1e6)} MB`;

export const brokenBodyCases: readonly FaultCase[] = [
  {
    kind,
    name: 'empty 200 on status',
    expected: 'InvalidResponseError(200, empty body); status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 200, format: 'json', body: '' });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: 'empty 200 on results',
    expected: 'InvalidResponseError(200, empty body)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('results', { status: 200, format: 'json', body: '   \n' });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: '204 No Content on status',
    expected: 'InvalidResponseError(204, empty body)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 204, format: 'json', body: '' });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'status JSON cut in half (length matches the cut)',
    expected: 'InvalidResponseError(200, malformed or truncated JSON)',
    async run(ctx) {
      const rig = await ctx.rig();
      rewriteFirst(rig, 'status', { kind: 'rewrite', body: (b) => b.slice(0, Math.floor(b.length / 2)) });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'results JSON missing its last byte',
    expected: 'InvalidResponseError(200, malformed or truncated JSON)',
    async run(ctx) {
      const rig = await ctx.rig();
      rewriteFirst(rig, 'results', { kind: 'rewrite', body: (b) => b.slice(0, -1) });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'byte-order mark before every status and results body',
    expected: 'completed rows=2',
    async run(ctx) {
      const rig = await ctx.rig();
      rewriteRoutes(rig, ['submit', 'status', 'results'], { kind: 'rewrite', body: (b) => `\uFEFF${b}` });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'two byte-order marks (only one is stripped)',
    expected: 'InvalidResponseError(200, malformed or truncated JSON)',
    async run(ctx) {
      const rig = await ctx.rig();
      rewriteFirst(rig, 'status', { kind: 'rewrite', body: (b) => `\uFEFF\uFEFF${b}` });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'JSON labelled text/html on every answer (read by its bytes)',
    expected: 'completed rows=2',
    async run(ctx) {
      const rig = await ctx.rig();
      rewriteRoutes(rig, ['submit', 'status', 'results'], { kind: 'rewrite', contentType: 'text/html; charset=utf-8' });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'JSON labelled application/octet-stream on results',
    expected: 'completed rows=2',
    async run(ctx) {
      const rig = await ctx.rig();
      rewriteRoutes(rig, ['results'], { kind: 'rewrite', contentType: 'application/octet-stream' });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'HTML login page labelled application/json, 200, on status',
    expected: 'InvalidResponseError(200, an HTML page); status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rewriteFirst(rig, 'status', { kind: 'rewrite', body: () => '<!DOCTYPE html><html><body><form>Sign in</form></body></html>' });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: 'HTML page as a 200 text/html on results',
    expected: 'InvalidResponseError(200, an HTML page)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('results', { status: 200, format: 'html', body: '<html><h1>Maintenance</h1></html>' });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'status JSON of the wrong shape',
    expected: 'DecodeError(batch_id status)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 200, format: 'json', body: { batch_id: 7, state: 'done' } });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'results body trickled out 512 bytes every 2 ms',
    expected: 'completed rows=2',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.slowBody('results', { chunkBytes: 512, delayMs: 2 });
      return describeRun(await rig.run(BOOK));
    },
  },
  {
    kind,
    name: 'many-MB results body (4,000 other rows of the user): 2 kept',
    expected: 'completed rows=2; results body ≥ 5 MB',
    async run(ctx) {
      const rig = await ctx.rig({ emulator: { msPerAccount: 0, chunkAccounts: 1000 } });
      await seedStore(rig.emu, book(...manyAccounts('BIG-', 4000)));
      const r = await rig.run(BOOK);
      const bytes = Math.max(...rig.proxy.log.filter((e) => e.route === 'results').map((e) => e.bytes));
      return `${describeRun(r)}; results body ${bytes >= 5e6 ? '≥ 5 MB' : mb(bytes)}`;
    },
  },
  {
    kind,
    name: 'many-MB results body, all of it this batch (4,000 accounts)',
    expected: 'completed rows=4000; results body ≥ 5 MB',
    async run(ctx) {
      const rig = await ctx.rig({ emulator: { msPerAccount: 0, chunkAccounts: 1000 } });
      const r = await rig.run(book(...manyAccounts('ALL-', 4000)));
      const bytes = Math.max(...rig.proxy.log.filter((e) => e.route === 'results').map((e) => e.bytes));
      return `${describeRun(r)}; results body ${bytes >= 5e6 ? '≥ 5 MB' : mb(bytes)}`;
    },
  },
];

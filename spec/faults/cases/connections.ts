/**
 * Connections: refused, reset before the answer, reset mid-body, a server that never
 * answers, and keep-alive sockets the server closes between polls. GETs are retried on any
 * connection failure; a submit only when no byte can have left (refused): a batch queued
 * twice is worse than an error, so the emulator's batch count is part of every outcome.
 */
import { createClient } from '../../../src/http/client';
import { runBatch } from '../../../src/streams/runBatch';
import type { FaultCase } from '../support/matrix';
import { closedPortUrl } from '../support/rawServers';
import { book, describeError, describeRun, FAST_POLL, FAST_RETRY, KEY } from '../support/rig';

const kind = 'connections';
const BOOK = book('CN-A', 'CN-B');

/** Settles with the error (or 'completed') of an observable. */
function outcomeOf(source: { subscribe(o: { error(e: unknown): void; complete(): void }): unknown }): Promise<string> {
  return new Promise((resolve) => {
    source.subscribe({ error: (e: unknown) => resolve(describeError(e)), complete: () => resolve('completed') });
  });
}

const onCrossFetch: readonly FaultCase[] = [
  {
    kind,
    name: 'connection refused (closed port): submit retried, then error',
    expected: 'ConnectionError(not sent)',
    async run() {
      const client = createClient({ endpoint: await closedPortUrl(), apiKey: KEY, retry: FAST_RETRY });
      return outcomeOf(runBatch(client, BOOK, { poll: FAST_POLL }));
    },
  },
  {
    kind,
    name: 'reset before the answer on submit (batch was created)',
    expected: 'ConnectionError(may have reached); submit attempts=1; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.dropNext('submit', { when: 'beforeHeaders' });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; submit attempts=${rig.proxy.count('submit')}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: 'reset before forwarding the submit (nothing reached the server)',
    expected: 'ConnectionError(may have reached); submit attempts=1; batches=0',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.proxy.setRule((req) => (req.route === 'submit' ? { kind: 'reset' } : undefined));
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; submit attempts=${rig.proxy.count('submit')}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: 'reset before the answer on status ×2',
    expected: 'completed rows=2; status: - - 200; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.dropNext('status', { when: 'beforeHeaders', count: 2 });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; status: ${rig.proxy.statuses('status').split(' ').slice(0, 3).join(' ')}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: 'reset before the answer on results ×3',
    expected: 'completed rows=2; results attempts=4',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.dropNext('results', { when: 'beforeHeaders', count: 3 });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; results attempts=${rig.proxy.count('results')}`;
    },
  },
  {
    kind,
    name: 'reset mid-body on status',
    expected: 'completed rows=2; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.dropNext('status', { when: 'afterHeaders' });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: 'reset mid-body on results ×2 (declared length not reached)',
    expected: 'completed rows=2; results attempts=3',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.dropNext('results', { when: 'afterHeaders', count: 2 });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; results attempts=${rig.proxy.count('results')}`;
    },
  },
  {
    kind,
    name: 'reset mid-body on submit (batch was created)',
    expected: 'ConnectionError(may have reached); submit attempts=1; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.dropNext('submit', { when: 'afterHeaders' });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; submit attempts=${rig.proxy.count('submit')}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: 'status accepted and never answered: poll deadline (250 ms)',
    expected: 'BatchTimeoutError(no status); status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.proxy.setRule((req) => (req.route === 'status' ? { kind: 'hang' } : undefined));
      const r = await rig.run(BOOK, { poll: { timeoutMs: 250 } });
      return `${describeRun(r)}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: 'status never answered after two good polls: deadline with last state',
    expected: 'BatchTimeoutError(processing)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      rig.proxy.setRule((req) => (req.route === 'status' && req.nth > 2 ? { kind: 'hang' } : undefined));
      return describeRun(await rig.run(BOOK, { poll: { timeoutMs: 250 } }));
    },
  },
  {
    kind,
    name: 'raw server accepts the submit and never answers: client submit time limit (200 ms)',
    expected: 'ResponseTimeoutError(may have reached); connections=1',
    async run(ctx) {
      const silent = await ctx.silentServer();
      const client = createClient({ endpoint: silent.url, apiKey: KEY, retry: FAST_RETRY, submitTimeoutMs: 200 });
      const got = await outcomeOf(runBatch(client, BOOK, { poll: FAST_POLL }));
      return `${got.split(':')[0]}; connections=${silent.totalConnections}`;
    },
  },
  {
    kind,
    name: 'server closes keep-alive sockets right after every answer',
    expected: 'completed rows=2; new connection per request; submits=1; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.proxy.setRule(() => ({ kind: 'closeAfter' }));
      const r = await rig.run(BOOK);
      const perRequest = rig.proxy.totalConnections === rig.proxy.log.length ? 'new connection per request' : `${rig.proxy.totalConnections} connections for ${rig.proxy.log.length} requests`;
      return `${describeRun(r)}; ${perRequest}; submits=${rig.proxy.count('submit')}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: 'keep-alive race: every GET on a reused socket is reset',
    expected: 'completed rows=2; GETs reset and retried; submits=1; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.proxy.setRule((req) => (req.method === 'GET' && req.reused ? { kind: 'reset' } : undefined));
      const r = await rig.run(BOOK);
      const resets = rig.proxy.log.filter((e) => e.action === 'reset').length;
      return `${describeRun(r)}; ${resets > 0 ? 'GETs reset and retried' : 'no reset happened'}; submits=${rig.proxy.count('submit')}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: 'keep-alive race on a second submit (reused socket reset): not resent',
    expected: 'first: completed rows=2; second: ConnectionError(may have reached); submits=2; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      const first = await rig.run(BOOK);
      rig.proxy.setRule((req) => (req.route === 'submit' && req.reused ? { kind: 'reset' } : undefined));
      const second = await rig.run(book('CN-C'));
      return `first: ${describeRun(first)}; second: ${describeRun(second)}; submits=${rig.proxy.count('submit')}; batches=${rig.batchesStarted()}`;
    },
  },
];

// Rows run again on the opt-in nodeHttpTransport: a failure it sees must be classified (and
// retried, or not) exactly as the default transport's is.
const ON_NODE_HTTP: ReadonlySet<string> = new Set([
  'reset before the answer on submit (batch was created)',
  'reset before the answer on status ×2',
  'reset mid-body on results ×2 (declared length not reached)',
  'reset mid-body on submit (batch was created)',
  'keep-alive race: every GET on a reused socket is reset',
  'keep-alive race on a second submit (reused socket reset): not resent',
]);

const onNodeHttp = onCrossFetch
  .filter((c) => ON_NODE_HTTP.has(c.name))
  .map((c): FaultCase => ({
    ...c,
    name: `${c.name} [nodeHttpTransport]`,
    run: (ctx) => c.run({ ...ctx, rig: (options) => ctx.rig({ ...options, transport: 'node' }) }),
  }));
// A renamed row must not drop out of this list unnoticed.
if (onNodeHttp.length !== ON_NODE_HTTP.size) throw new Error('connections: a row named in ON_NODE_HTTP does not exist');

export const connectionCases: readonly FaultCase[] = [...onCrossFetch, ...onNodeHttp];

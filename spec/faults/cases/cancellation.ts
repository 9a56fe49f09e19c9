/**
 * Cancellation: unsubscribing from runBatch at every kind of point. After each, the case's
 * leak checks require: no request reaching the server afterwards, no request still in flight
 * and no connection left at the server, no timer or socket left in the process, no unhandled
 * rejection and no warning.
 */
import { createClient } from '../../../src/http/client';
import { waitUntil } from '../support/leaks';
import type { FaultCase } from '../support/matrix';
import { book, FAST_POLL, FAST_RETRY, KEY, manyAccounts, seedStore, startRun, type RunningBatch } from '../support/rig';
import { seeded } from '../../support/seeded';

const kind = 'cancellation';
const BOOK = book('CX-A', 'CX-B');

/** The seed of the random cancellation points; change it to explore, the table shows it. */
export const CANCEL_SEED = 20_260_611;


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Cancels a run; says so unless it had ended by itself first (then the case did not test what it claims). */
async function cancel(running: RunningBatch): Promise<string> {
  running.cancel();
  const r = await running.done;
  return r.cancelled ? 'cancelled' : 'ended before the cancellation';
}

const randomPoints = ((): number[] => {
  const random = seeded(CANCEL_SEED);
  return [0, 1, 2, 3].map(() => Math.round(random() * 180));
})();

export const cancellationCases: readonly FaultCase[] = [
  {
    kind,
    name: 'before the submit answers (submit in flight)',
    expected: 'cancelled; submit in flight: 1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.setLatency('submit', 400);
      const running = rig.start(BOOK);
      await waitUntil(() => rig.proxy.activeRequests > 0, 1000);
      const inFlight = rig.proxy.activeRequests;
      const got = await cancel(running);
      ctx.cancelled();
      return `${got}; submit in flight: ${inFlight}`;
    },
  },
  {
    kind,
    name: 'while queued, after 2 polls',
    expected: 'cancelled; last status queued',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'queued');
      const running = rig.start(BOOK);
      await waitUntil(() => running.events.filter((e) => e.type === 'status').length >= 2, 1000);
      const got = await cancel(running);
      ctx.cancelled();
      const last = running.events.filter((e) => e.type === 'status').pop();
      return `${got}; last status ${last?.type === 'status' ? last.status.status : 'none'}`;
    },
  },
  {
    kind,
    name: 'while processing, in the wait between two polls',
    expected: 'cancelled; nothing in flight',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      const running = rig.start(BOOK, { poll: { initialIntervalMs: 300, maxIntervalMs: 300 } });
      await waitUntil(() => running.events.some((e) => e.type === 'status'), 1000);
      await sleep(10);
      const inFlight = rig.proxy.activeRequests;
      const got = await cancel(running);
      ctx.cancelled();
      return `${got}; ${inFlight === 0 ? 'nothing in flight' : `${inFlight} in flight`}`;
    },
  },
  {
    kind,
    name: 'while a status request is in flight (200 ms latency)',
    expected: 'cancelled; status in flight: 1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.setLatency('status', 200);
      const running = rig.start(BOOK);
      await waitUntil(() => rig.proxy.count('status') > 0 && rig.proxy.activeRequests > 0, 1000);
      await sleep(20);
      const inFlight = rig.proxy.activeRequests;
      const got = await cancel(running);
      ctx.cancelled();
      return `${got}; status in flight: ${inFlight}`;
    },
  },
  {
    kind,
    name: 'mid-body of a 4 MB results answer (slow body)',
    expected: 'cancelled; results body partly sent',
    async run(ctx) {
      const rig = await ctx.rig({ emulator: { msPerAccount: 0, chunkAccounts: 1000 } });
      await seedStore(rig.emu, book(...manyAccounts('CX-BIG-', 3000)));
      rig.emu.faults.slowBody('results', { chunkBytes: 64 * 1024, delayMs: 15 });
      const running = rig.start(BOOK);
      const entry = (): { bytes: number } | undefined => rig.proxy.log.find((e) => e.route === 'results');
      await waitUntil(() => (entry()?.bytes ?? 0) > 200_000, 2000);
      const got = await cancel(running);
      ctx.cancelled();
      const sent = entry()?.bytes ?? 0;
      return `${got}; results body ${sent > 0 && sent < 3_000_000 ? 'partly sent' : `${sent} bytes sent`}`;
    },
  },
  {
    kind,
    name: 'during a retry wait (503, next try in 250 ms)',
    expected: 'cancelled; status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig({ retry: { initialDelayMs: 250 } });
      rig.emu.faults.failNext('status', { status: 503, count: 10 });
      const running = rig.start(BOOK);
      await waitUntil(() => rig.proxy.log.some((e) => e.status === 503), 1000);
      await sleep(20);
      const got = await cancel(running);
      ctx.cancelled();
      return `${got}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: 'during a shared throttle pause (429, Retry-After 0.3)',
    expected: 'cancelled; status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 429, headers: { 'retry-after': '0.3' } });
      const running = rig.start(BOOK);
      await waitUntil(() => rig.proxy.log.some((e) => e.status === 429), 1000);
      await sleep(30);
      const got = await cancel(running);
      ctx.cancelled();
      return `${got}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: 'while the server holds a status request unanswered',
    expected: 'cancelled; status in flight: 1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.proxy.setRule((req) => (req.route === 'status' ? { kind: 'hang' } : undefined));
      const running = rig.start(BOOK);
      await waitUntil(() => rig.proxy.count('status') > 0, 1000);
      await sleep(30);
      const inFlight = rig.proxy.activeRequests;
      const got = await cancel(running);
      ctx.cancelled();
      return `${got}; status in flight: ${inFlight}`;
    },
  },
  {
    kind,
    name: 'submit to a raw server that never answers',
    expected: 'cancelled; connections=1',
    async run(ctx) {
      const silent = await ctx.silentServer();
      const client = createClient({ endpoint: silent.url, apiKey: KEY, retry: FAST_RETRY });
      const running = startRun(client, BOOK, { poll: FAST_POLL });
      await waitUntil(() => silent.openConnections > 0, 1000);
      await sleep(30);
      const got = await cancel(running);
      ctx.cancelled();
      return `${got}; connections=${silent.totalConnections}`;
    },
  },
  ...randomPoints.map(
    (ms, i): FaultCase => ({
      kind,
      name: `random point ${i + 1} of 4 (seed ${CANCEL_SEED}): at ${ms} ms of a ~250 ms run`,
      expected: 'cancelled',
      async run(ctx) {
        // 10 accounts, 1 per 20 ms step, 10 ms of latency on every route: about 250 ms end to end.
        const rig = await ctx.rig({ emulator: { msPerAccount: 20, chunkAccounts: 1 } });
        for (const route of ['submit', 'status', 'results'] as const) rig.emu.faults.setLatency(route, 10);
        const running = rig.start(book(...manyAccounts('CX-R', 10)));
        await sleep(ms);
        const got = await cancel(running);
        ctx.cancelled();
        return got;
      },
    }),
  ),
];

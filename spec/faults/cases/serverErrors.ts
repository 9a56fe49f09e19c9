/**
 * Proxy and server errors: 5xx pages and JSON bodies, bursts that end and bursts that do not.
 * The client retries 3 times (4 attempts in all) with 5 ms doubling waits.
 */
import type { FaultCase } from '../support/matrix';
import { book, describeError, describeRun, type Rig } from '../support/rig';

const kind = 'server errors';
const BOOK = book('SE-A', 'SE-B');

/** The first `n` statuses a route answered. */
function first(rig: Rig, route: 'submit' | 'status' | 'results', n: number): string {
  return rig.proxy.statuses(route).split(' ').slice(0, n).join(' ');
}

/** `HTTP 503` when the error's message names the status, else what it says. */
function namesStatus(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /HTTP \d{3}/.exec(message)?.[0] ?? `message without status: ${message.slice(0, 60)}`;
}

/** A burst of `count` replaced answers on `route`, then the real ones. */
function burst(
  name: string,
  route: 'submit' | 'status' | 'results',
  status: number,
  format: 'html' | 'json',
  count: number,
  expected: string,
  body?: string,
): FaultCase {
  return {
    kind,
    name,
    expected,
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext(route, { status, format, count, ...(body === undefined ? {} : { body }) });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; ${route}: ${first(rig, route, count + 1)}; batches=${rig.batchesStarted()}`;
    },
  };
}

/** `route` answers `status` until the case ends: the run must give up after 4 attempts with an error naming the status. */
function never(name: string, route: 'submit' | 'status' | 'results', status: number, format: 'html' | 'json', expected: string): FaultCase {
  return {
    kind,
    name,
    expected,
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext(route, { status, format, count: 1000 });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; ${route} attempts=${rig.proxy.count(route)}; message names ${namesStatus(r.error)}`;
    },
  };
}

export const serverErrorCases: readonly FaultCase[] = [
  burst('502 nginx HTML page ×2 on status, then OK', 'status', 502, 'html', 2, 'completed rows=2; status: 502 502 200; batches=1'),
  burst('503 HTML ×2 on submit (server said no), then OK', 'submit', 503, 'html', 2, 'completed rows=2; submit: 503 503 202; batches=1'),
  burst('504 HTML ×3 on results, then OK', 'results', 504, 'html', 3, 'completed rows=2; results: 504 504 504 200; batches=1'),
  burst('500 JSON ×2 on status, then OK', 'status', 500, 'json', 2, 'completed rows=2; status: 500 500 200; batches=1'),
  burst('502 JSON body ×1 on results, then OK', 'results', 502, 'json', 1, 'completed rows=2; results: 502 200; batches=1'),
  burst('503 JSON {"error":"maintenance"} ×3 on status (= retry limit)', 'status', 503, 'json', 3, 'completed rows=2; status: 503 503 503 200; batches=1', '{"error":"maintenance"}'),
  burst('408 request timeout ×2 on status, then OK', 'status', 408, 'json', 2, 'completed rows=2; status: 408 408 200; batches=1'),
  burst('500 JSON on submit: may have queued, not resent', 'submit', 500, 'json', 1, 'InternalServerError(500); submit: 500; batches=0'),
  burst('502 HTML on submit: may have queued, not resent', 'submit', 502, 'html', 1, 'InternalServerError(502); submit: 502; batches=0'),
  never('503 HTML on status, never recovers', 'status', 503, 'html', 'InternalServerError(503); status attempts=4; message names HTTP 503'),
  never('500 JSON on status until the retries run out', 'status', 500, 'json', 'InternalServerError(500); status attempts=4; message names HTTP 500'),
  never('502 JSON on results, never recovers', 'results', 502, 'json', 'InternalServerError(502); results attempts=4; message names HTTP 502'),
  never('503 HTML on submit, never recovers', 'submit', 503, 'html', 'InternalServerError(503); submit attempts=4; message names HTTP 503'),
  {
    kind,
    name: '503 with Retry-After 0.1 s on status: hint honoured, then OK',
    expected: 'completed rows=2; waited as told',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 503, format: 'html', headers: { 'retry-after': '0.1' } });
      const r = await rig.run(BOOK);
      const log = rig.proxy.log.filter((e) => e.route === 'status');
      const gap = log.length > 1 ? log[1].at - log[0].at : -1;
      return `${describeRun(r)}; ${gap >= 95 && gap < 600 ? 'waited as told' : `waited ${Math.round(gap)} ms`}`;
    },
  },
  {
    kind,
    name: '401 on status mid-run (key revoked): not retried',
    expected: 'AuthenticationError(401); status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 401 });
      const r = await rig.run(BOOK);
      return `${describeError(r.error)}; status attempts=${rig.proxy.count('status')}`;
    },
  },
];

/**
 * Throttling: 429 with Retry-After in every form, and many batches throttled at once.
 * The cases' policy caps any wait at 300 ms and backs off from 5 ms, so "honoured" and
 * "fell back to backoff" are told apart by the gap between the 429 and the next request.
 */
import type { FaultCase } from '../support/matrix';
import { book, describeRun, type Rig, type RunResult } from '../support/rig';
import { waitUntil } from '../support/leaks';

const kind = 'throttling';
const BOOK = book('TH-A', 'TH-B');

/** ms from the first 429 to the request after it (any route). */
function gapAfter429(rig: Rig): number {
  const log = rig.proxy.log;
  const i = log.findIndex((e) => e.status === 429);
  return i < 0 || i + 1 >= log.length ? -1 : log[i + 1].at - log[i].at;
}

/** Words for a wait: within [min, max) ms or not. */
function waited(gap: number, min: number, max: number, words: string): string {
  return gap >= min && gap < max ? words : `waited ${Math.round(gap)} ms`;
}

/** A 429 on status with this Retry-After, judged by the gap before the next request. */
function hinted(name: string, value: string | (() => string) | undefined, expected: string, judge: (gap: number) => string): FaultCase {
  return {
    kind,
    name,
    expected,
    async run(ctx) {
      const rig = await ctx.rig();
      const header = value === undefined ? undefined : typeof value === 'function' ? value() : value;
      rig.emu.faults.failNext('status', { status: 429, ...(header === undefined ? {} : { headers: { 'retry-after': header } }) });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; ${judge(gapAfter429(rig))}`;
    },
  };
}

const BACKOFF = (gap: number): string => waited(gap, 0, 100, 'backoff (5 ms)');
const AT_CAP = (gap: number): string => waited(gap, 290, 700, 'waited the 300 ms cap');

export const throttlingCases: readonly FaultCase[] = [
  hinted('429 Retry-After: 0.2 (seconds)', '0.2', 'completed rows=2; waited 200 ms as told', (g) => waited(g, 195, 600, 'waited 200 ms as told')),
  hinted('429 Retry-After: 120 (seconds, above the cap)', '120', 'completed rows=2; waited the 300 ms cap', AT_CAP),
  hinted('429 Retry-After: HTTP date 3 s ahead', () => new Date(Date.now() + 3000).toUTCString(), 'completed rows=2; waited the 300 ms cap', AT_CAP),
  hinted('429 Retry-After: HTTP date in the past (= now)', () => new Date(Date.now() - 60_000).toUTCString(), 'completed rows=2; at once', (g) => waited(g, 0, 100, 'at once')),
  hinted('429 Retry-After: junk ("soon")', 'soon', 'completed rows=2; backoff (5 ms)', BACKOFF),
  hinted('429 Retry-After: negative (-30)', '-30', 'completed rows=2; backoff (5 ms)', BACKOFF),
  hinted('429 Retry-After: "1.5.2"', '1.5.2', 'completed rows=2; backoff (5 ms)', BACKOFF),
  hinted('429 without Retry-After', undefined, 'completed rows=2; backoff (5 ms)', BACKOFF),
  {
    kind,
    name: '429 ×2 on submit (server said no), Retry-After 0.05',
    expected: 'completed rows=2; submit: 429 429 202; batches=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('submit', { status: 429, count: 2, headers: { 'retry-after': '0.05' } });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; submit: ${rig.proxy.statuses('submit')}; batches=${rig.batchesStarted()}`;
    },
  },
  {
    kind,
    name: '429 on status that never stops',
    expected: 'RateLimitError(429); status attempts=4',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 429, count: 1000, headers: { 'retry-after': '0' } });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: '6 batches polling, one 429 (Retry-After 0.25): all pause',
    expected: '6/6 completed; requests during the pause=0',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      const runs = Array.from({ length: 6 }, (_, i) => rig.start(book(`TH-M${i}`)));
      const polling = (): boolean => runs.every((r) => r.events.some((e) => e.type === 'status'));
      await waitUntil(polling, 2000);
      rig.emu.faults.failNext('status', { status: 429, headers: { 'retry-after': '0.25' } });
      await waitUntil(() => rig.sent.some((e) => e.status === 429), 2000);
      rig.emu.faults.releaseBatch('*');
      const results: RunResult[] = await Promise.all(runs.map((r) => r.done));
      // Measured on the client's side: from when the 429 reached it (plus the few ms its body
      // takes to be read and parsed) to the end of the pause, no request may be sent. Without
      // a shared pause the 5 other batches would send about 100 requests in this window.
      const at = rig.sent.find((e) => e.status === 429)?.answeredAt ?? Number.NaN;
      const during = rig.sent.filter((e) => e.sentAt > at + 10 && e.sentAt < at + 240);
      const completed = results.filter((r) => r.results?.status === 'completed').length;
      const detail = during.map((e) => `+${Math.round(e.sentAt - at)} ms`).join(', ');
      return `${completed}/6 completed; requests during the pause=${during.length}${detail ? ` (${detail})` : ''}`;
    },
  },
];

/**
 * Batch states: stuck queued or processing past the deadline, statuses this library does not
 * know, `completed_pct` going backwards, `failed`, `completed_with_errors`, a batch dropped by
 * a later `replace_all`, and 404s (an unknown id, another user's batch).
 */
import { lastValueFrom, of, toArray } from 'rxjs';
import { REPLACED_ERROR } from '../../../src/emulator';
import { pollUntilTerminal } from '../../../src/operators/pollUntilTerminal';
import type { BatchEvent } from '../../../src/types';
import { waitUntil } from '../support/leaks';
import type { FaultCase } from '../support/matrix';
import { book, brent, describeError, describeRun, FAST_POLL, OTHER_KEY, submitDirect, unknownContract } from '../support/rig';

const kind = 'batch states';
const BOOK = book('BS-A', 'BS-B');

function statuses(events: readonly BatchEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'status' ? [e.status.status] : []));
}

export const batchStateCases: readonly FaultCase[] = [
  {
    kind,
    name: 'held queued past the deadline (250 ms)',
    expected: 'BatchTimeoutError(queued q=0)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'queued');
      return describeRun(await rig.run(BOOK, { poll: { timeoutMs: 250 } }));
    },
  },
  {
    kind,
    name: 'queued behind two held batches of the same user',
    expected: 'BatchTimeoutError(queued q=2)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'queued');
      await submitDirect(rig.emu, book('BS-X'));
      await submitDirect(rig.emu, book('BS-Y'));
      return describeRun(await rig.run(BOOK, { poll: { timeoutMs: 250 } }));
    },
  },
  {
    kind,
    name: 'held processing past the deadline (250 ms)',
    expected: 'BatchTimeoutError(processing)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      return describeRun(await rig.run(BOOK, { poll: { timeoutMs: 250 } }));
    },
  },
  {
    kind,
    name: 'unknown status "paused" until the deadline',
    expected: 'BatchTimeoutError(paused)',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      const r = await rig.run(BOOK, { poll: { timeoutMs: 250 } }, (e) => {
        if (e.type === 'submitted') rig.emu.faults.overrideStatus(e.batch.batchId, 'paused');
      });
      return describeRun(r);
    },
  },
  {
    kind,
    name: 'unknown status "validating" for 3 polls, then real ones',
    expected: 'completed rows=2; validating polled 3×, kept polling',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      let validating = 0;
      const r = await rig.run(BOOK, {}, (e) => {
        if (e.type === 'submitted') rig.emu.faults.overrideStatus(e.batch.batchId, 'validating');
        if (e.type === 'status' && e.status.status === 'validating' && ++validating === 3) {
          rig.emu.faults.overrideStatus(e.batch.batchId, undefined);
          rig.emu.faults.releaseBatch('*');
        }
      });
      const seen = statuses(r.events).filter((s) => s === 'validating').length;
      return `${describeRun(r)}; validating polled ${seen}×, kept polling`;
    },
  },
  {
    kind,
    name: 'completed_pct reported 60 then 40 (backwards), then done',
    expected: 'completed rows=2; pct 60 → 40 passed on as sent',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      const r = await rig.run(BOOK, {}, (e) => {
        if (e.type === 'submitted') rig.emu.faults.reportPct(e.batch.batchId, [60, 40]);
        if (e.type === 'status' && e.status.completed_pct === 40) rig.emu.faults.releaseBatch('*');
      });
      const pcts = r.events.flatMap((e) => (e.type === 'status' && (e.status.completed_pct === 60 || e.status.completed_pct === 40) ? [e.status.completed_pct] : []));
      return `${describeRun(r)}; pct ${pcts.join(' → ')} passed on as sent`;
    },
  },
  {
    kind,
    name: 'failed: no account could be margined',
    expected: 'BatchFailedError(no account could be margined); results requests=0',
    async run(ctx) {
      const rig = await ctx.rig();
      const r = await rig.run({ portfolio: [unknownContract('BS-F1'), unknownContract('BS-F2')] });
      return `${describeRun(r)}; results requests=${rig.proxy.count('results')}`;
    },
  },
  {
    kind,
    name: '"failed" with no reason given',
    expected: 'BatchFailedError(no reason); results requests=0',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'processing');
      const r = await rig.run(BOOK, {}, (e) => {
        if (e.type === 'submitted') rig.emu.faults.overrideStatus(e.batch.batchId, 'failed');
      });
      return `${describeRun(r)}; results requests=${rig.proxy.count('results')}`;
    },
  },
  {
    kind,
    name: 'completed_with_errors: one unknown contract in one account',
    expected: 'completed_with_errors rows=2 exceptions=1',
    async run(ctx) {
      const rig = await ctx.rig();
      return describeRun(await rig.run({ portfolio: [brent('BS-W1'), unknownContract('BS-W1'), brent('BS-W2')] }));
    },
  },
  {
    kind,
    name: 'dropped from the queue by a later replace_all',
    expected: `BatchFailedError(${REPLACED_ERROR}); results requests=0`,
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.holdBatch('*', 'queued');
      const running = rig.start(BOOK);
      await waitUntil(() => running.events.some((e) => e.type === 'status'), 2000);
      await submitDirect(rig.emu, book('BS-R'), 'replace_all');
      rig.emu.faults.releaseBatch('*');
      const r = await running.done;
      return `${describeRun(r)}; results requests=${rig.proxy.count('results')}`;
    },
  },
  {
    kind,
    name: '404 on status (batch unknown to the server)',
    expected: 'NotFoundError(404); status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig();
      rig.emu.faults.failNext('status', { status: 404 });
      const r = await rig.run(BOOK);
      return `${describeRun(r)}; status attempts=${rig.proxy.count('status')}`;
    },
  },
  {
    kind,
    name: "another user's batch id is 404",
    expected: 'NotFoundError(404); status attempts=1',
    async run(ctx) {
      const rig = await ctx.rig({ apiKey: OTHER_KEY });
      const batchId = await submitDirect(rig.emu, BOOK);
      const batch = { batchId, accountCodes: ['BS-A', 'BS-B'], submittedAt: new Date().toISOString(), processingMode: 'fifo' as const };
      const got = await lastValueFrom(of(batch).pipe(pollUntilTerminal(rig.client, FAST_POLL), toArray())).then(
        () => 'polled to the end',
        (error: unknown) => describeError(error),
      );
      return `${got}; status attempts=${rig.proxy.count('status')}`;
    },
  },
];

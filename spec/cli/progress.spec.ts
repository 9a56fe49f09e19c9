import { batchLabel, createProgress } from '../../src/cli/progress';
import { BatchFailedError, PayloadTooLargeError } from '../../src/http/errors';
import type { RunBatchesEvent } from '../../src/streams/runBatches';
import type { SubmittedBatch } from '../../src/types';
import { sink } from './support/io';

const batch: SubmittedBatch = { batchId: 'b-1', accountCodes: ['A', 'B'], submittedAt: '2026-01-01T00:00:00Z', processingMode: 'fifo' };
const status = (value: string, pct: number, queue?: number): RunBatchesEvent => ({
  type: 'status',
  batch,
  status: { batch_id: 'b-1', status: value, completed_pct: pct, queue_position: queue },
});
const stalled: RunBatchesEvent = { type: 'stalled', batch, status: { batch_id: 'b-1', status: 'queued', completed_pct: 0, queue_position: 4 }, polls: 10 };
const regressed: RunBatchesEvent = { type: 'regressed', batch, status: { batch_id: 'b-1', status: 'processing', completed_pct: 40 }, fromPct: 60, toPct: 40 };

describe('batchLabel', () => {
  it('should name a one-batch run plainly, and number chunks and their 413 halves', () => {
    expect(batchLabel('1', 1)).toBe('batch');
    expect(batchLabel('2', 5)).toBe('batch 2/5');
    expect(batchLabel('3.1.2', 5)).toBe('batch 3/5 (part 1.2)');
    expect(batchLabel('1.2', 1)).toBe('batch (part 2)');
  });
});

describe('createProgress', () => {
  it('should write one plain line per change when the stream is not a terminal', () => {
    const stream = sink(false);
    let now = 1000;
    const progress = createProgress(stream, { total: 2, now: () => now });

    progress.event('1', { type: 'waiting', chunk: '1', accountCodes: ['A'], blockedBy: ['2'] });
    progress.event('2', { type: 'submitted', batch });
    now += 1500;
    progress.event('2', status('queued', 0, 3));
    progress.event('2', status('queued', 0, 3));
    progress.event('2', status('processing', 40));
    progress.event('2', { type: 'error', chunk: '2', accountCodes: ['A', 'B'], batch, error: new BatchFailedError('b-1', 'no margin') });
    progress.event('1', { type: 'split', chunk: '1', accountCodes: ['A', 'C', 'D'], into: ['1.1', '1.2'], error: new PayloadTooLargeError({ status: 413, body: '' }) });
    progress.event('1.2', { type: 'error', chunk: '1.2', accountCodes: ['D'], error: new Error('HTTP 413 again') });
    progress.stop();

    expect(stream.text()).toBe(
      [
        'batch 1/2: waiting for batch 2/2 (shared accounts)',
        'batch 2/2: submitted b-1 (2 accounts)',
        'batch 2/2: b-1 queued, queue position 3, 0% (1.5s)',
        'batch 2/2: b-1 processing, 40% (1.5s)',
        'error: batch b-1 failed: no margin',
        'batch 1/2: refused as too large (HTTP 413): split into batch 1/2 (part 1) and batch 1/2 (part 2) (3 accounts)',
        'error: batch 1/2 (part 2) was not accepted: HTTP 413 again',
        '',
      ].join('\n'),
    );
  });

  it('should say resuming, not submitted, for saved batches being followed again', () => {
    const stream = sink(false);

    createProgress(stream, { total: 1, resuming: true }).event('1', { type: 'submitted', batch });

    expect(stream.text()).toBe('batch: resuming b-1 (2 accounts)\n');
  });

  it('should show warnings for a stalled or regressed batch', () => {
    const stream = sink(false);
    const progress = createProgress(stream, { total: 1 });

    progress.event('1', stalled);
    progress.event('1', regressed);

    expect(stream.text()).toBe(
      'warning: batch b-1: no change in 10 polls (queued, queue position 4, 0%)\nwarning: batch b-1: completed_pct went back from 60% to 40%\n',
    );
  });

  it('should show only warnings and errors when quiet, redacted', () => {
    const stream = sink(true);
    const progress = createProgress(stream, { total: 1, quiet: true });

    progress.event('1', { type: 'submitted', batch });
    progress.event('1', status('processing', 10));
    progress.event('1', regressed);
    progress.log('info');
    progress.error('error: key sk-abcdef-123456 refused');
    progress.stop();

    expect(stream.text()).toBe('warning: batch b-1: completed_pct went back from 60% to 40%\nerror: key [redacted] refused\n');
  });

  it('should draw bars on a terminal and end them on stop', () => {
    const stream = sink(true);
    const progress = createProgress(stream, { total: 1 });

    progress.event('1', { type: 'submitted', batch });
    progress.event('1', status('processing', 50));
    progress.stop();
    progress.log('after the bars');

    expect(stream.text()).toContain('50%');
    expect(stream.text()).toContain('processing');
    expect(stream.text()).toMatch(/after the bars\n$/);
  });
});

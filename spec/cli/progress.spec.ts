import { createProgress } from '../../src/cli/progress';
import type { BatchEvent, SubmittedBatch } from '../../src/types';
import { sink } from './support/io';

const batch: SubmittedBatch = { batchId: 'b-1', accountCodes: ['A', 'B'], submittedAt: '2026-01-01T00:00:00Z', processingMode: 'fifo' };
const status = (value: string, pct: number, queue?: number): BatchEvent => ({
  type: 'status',
  batch,
  status: { batch_id: 'b-1', status: value, completed_pct: pct, queue_position: queue },
});

describe('createProgress', () => {
  it('should write one plain line per change when the stream is not a terminal', () => {
    const stream = sink(false);
    let now = 1000;
    const progress = createProgress(stream, { total: 2, now: () => now });

    progress.started(1);
    progress.event(1, { type: 'submitted', batch });
    now += 1500;
    progress.event(1, status('queued', 0, 3));
    progress.event(1, status('queued', 0, 3));
    progress.event(1, status('processing', 40));
    progress.failed(1, new Error('boom'));
    progress.stop();

    expect(stream.text()).toBe(
      [
        'batch 2/2: submitted b-1 (2 accounts)',
        'batch 2/2: b-1 queued, queue position 3, 0% (1.5s)',
        'batch 2/2: b-1 processing, 40% (1.5s)',
        'batch 2/2: stopped',
        '',
      ].join('\n'),
    );
  });

  it('should show nothing but errors when quiet', () => {
    const stream = sink(true);
    const progress = createProgress(stream, { total: 1, quiet: true });

    progress.started(0);
    progress.event(0, status('processing', 10));
    progress.log('info');
    progress.error('error: key sk-abcdef-123456 refused');
    progress.stop();

    expect(stream.text()).toBe('error: key [redacted] refused\n');
  });

  it('should draw bars on a terminal and end them on stop', () => {
    const stream = sink(true);
    const progress = createProgress(stream, { total: 1 });

    progress.started(0);
    progress.event(0, { type: 'submitted', batch });
    progress.event(0, status('processing', 50));
    progress.stop();

    expect(stream.text()).toContain('50%');
    expect(stream.text()).toContain('processing');
  });
});

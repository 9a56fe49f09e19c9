import { compareChunks, DeadlineError, RunTally } from '../../src/cli/runTally';
import type { AccountResult } from '../../src/codecs';
import { BatchTimeoutError, PayloadTooLargeError } from '../../src/http/errors';
import type { BatchResults, SubmittedBatch } from '../../src/types';

const batch = (id: string, accountCodes: string[]): SubmittedBatch => ({ batchId: id, accountCodes, submittedAt: '2026-01-01T00:00:00Z', processingMode: 'fifo' });
const row = (account: string): AccountResult => ({ account_code: account, initial_margin: 1 });
const results = (id: string, accounts: string[]): BatchResults => ({
  batchId: id,
  status: 'completed',
  partial: false,
  rows: accounts.map(row),
  subAccountRows: [row(`${accounts[0]}-sub`)],
  missing: [],
  stale: [],
  totalInitialMargin: accounts.length,
  currencyCode: 'USD',
  exceptions: [],
});
const tooLarge = () => new PayloadTooLargeError({ status: 413, body: '' });

describe('compareChunks', () => {
  it('should order labels as the input: numerically, halves where their chunk was', () => {
    expect(['10', '2', '1.2', '1.1', '1.2.1', '1'].sort(compareChunks)).toEqual(['1', '1.1', '1.2', '1.2.1', '2', '10']);
  });
});

describe('RunTally', () => {
  it('should name each batch by its chunk, its 413 halves included, and know which are still running', () => {
    let now = 0;
    const tally = new RunTally(
      [
        { chunk: '1', accountCodes: ['A', 'B', 'C'] },
        { chunk: '2', accountCodes: ['D'] },
      ],
      () => now,
    );
    const d = batch('d', ['D']);
    const ab = batch('ab', ['A', 'B']);

    tally.record({ type: 'submitted', batch: d });
    tally.record({ type: 'split', chunk: '1', accountCodes: ['A', 'B', 'C'], into: ['1.1', '1.2'], error: tooLarge() });
    tally.record({ type: 'submitted', batch: ab });
    now = 50;
    tally.record({ type: 'status', batch: ab, status: { batch_id: 'ab', status: 'queued', queue_position: 2 } });
    tally.record({ type: 'results', batch: d, results: results('d', ['D']) });

    expect(tally.chunkOf({ type: 'submitted', batch: ab })).toBe('1.1');
    expect(tally.chunkOf({ type: 'submitted', batch: d })).toBe('2');
    expect(tally.chunkOf({ type: 'waiting', chunk: '2', accountCodes: ['D'], blockedBy: ['1'] })).toBe('2');
    expect(tally.running().map((b) => b.batchId)).toEqual(['ab']);
    expect(tally.splits).toEqual([{ chunk: '1', accounts: 3, into: ['1.1', '1.2'] }]);
    expect(tally.rows().map((r) => r.account_code)).toEqual(['D', 'D-sub']);
  });

  it('should turn the run deadline into timeouts for running batches and not-submitted entries for the accounts never accepted, in input order', () => {
    let now = 0;
    const tally = new RunTally(
      [
        { chunk: '1', accountCodes: ['A', 'B', 'C'] },
        { chunk: '2', accountCodes: ['D'] },
        { chunk: '3', accountCodes: ['E'] },
      ],
      () => now,
    );
    const ab = batch('ab', ['A', 'B']);
    tally.record({ type: 'split', chunk: '1', accountCodes: ['A', 'B', 'C'], into: ['1.1', '1.2'], error: tooLarge() });
    tally.record({ type: 'submitted', batch: ab });
    tally.record({ type: 'status', batch: ab, status: { batch_id: 'ab', status: 'queued', queue_position: 2 } });
    tally.record({ type: 'error', chunk: '3', accountCodes: ['E'], error: new Error('HTTP 400') });
    now = 300;

    const outcomes = tally.outcomes({ deadlineMs: 300 });

    expect(outcomes.map((o) => ('batch' in o ? o.batch.batchId : `chunk ${o.chunk}: ${o.accountCodes.join(',')}`))).toEqual(['ab', 'chunk 1.2: C', 'chunk 2: D', 'chunk 3: E']);
    const errors = outcomes.map((o) => o.error);
    expect(errors[0]).toBeInstanceOf(BatchTimeoutError);
    expect(errors[0]?.message).toBe('batch ab timed out after 300ms (last status: queued, queue position 2)');
    expect(errors[1]).toBeInstanceOf(DeadlineError);
    expect(errors[2]?.message).toBe("the run's deadline (300ms) passed before it was accepted");
    expect(errors[3]?.message).toBe('HTTP 400');
    expect(tally.outcomes().map((o) => ('batch' in o ? o.error : o.chunk))).toEqual([undefined, '3']);
  });

  it('should name resumed batches by their place in the state file', () => {
    const tally = new RunTally([{ chunk: '1', accountCodes: ['A'] }, { chunk: '2', accountCodes: ['A'] }], () => 0, new Map([['x', '1'], ['y', '2']]));

    expect(tally.chunkOf({ type: 'submitted', batch: batch('y', ['A']) })).toBe('2');
    expect(tally.total).toBe(2);
  });
});

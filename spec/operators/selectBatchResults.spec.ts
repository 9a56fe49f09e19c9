import type { AccountResult, BatchStatus } from '../../src/codecs';
import { selectBatchResults } from '../../src/operators/selectBatchResults';
import type { SubmittedBatch } from '../../src/types';

const batchA: SubmittedBatch = {
  batchId: 'aaaaaaaa-0000-4000-8000-000000000001',
  accountCodes: ['A1', 'A2', 'A3'],
  submittedAt: '2024-01-01T10:00:00.000Z',
  processingMode: 'fifo',
};
const batchB: SubmittedBatch = {
  batchId: 'bbbbbbbb-0000-4000-8000-000000000002',
  accountCodes: ['B1'],
  submittedAt: '2024-01-01T10:00:00.000Z',
  processingMode: 'fifo',
};
const done = (batch: SubmittedBatch, extra: Partial<BatchStatus> = {}): BatchStatus => ({ batch_id: batch.batchId, status: 'completed', ...extra });

describe('selectBatchResults', () => {
  const rows: AccountResult[] = [
    { account_code: 'B1', portfolio_id: 'pb1', request_id: batchB.batchId, initial_margin: 7, currency_code: 'USD' },
    { account_code: 'A1', portfolio_id: 'pa1', request_id: batchA.batchId, initial_margin: 10, currency_code: 'USD' },
    { account_code: 'A1-sub', portfolio_id: 'pa1s', parent_portfolio_id: 'pa1', initial_margin: 4, currency_code: 'USD' },
    { account_code: 'A2', portfolio_id: 'pa2', request_id: 'old', submitted_time: '2024-01-01T09:00:00Z', initial_margin: 99 },
  ];

  it('should pick each batch its own rows out of one shared array', () => {
    const a = selectBatchResults(batchA, done(batchA), rows);
    const b = selectBatchResults(batchB, done(batchB), rows);
    expect(a.rows.map((r) => r.account_code)).toEqual(['A1']);
    expect(a.subAccountRows.map((r) => r.account_code)).toEqual(['A1-sub']);
    expect(a.stale.map((r) => r.account_code)).toEqual(['A2']);
    expect(a.missing).toEqual(['A3']);
    expect(a.totalInitialMargin).toBe(10);
    expect(b.rows.map((r) => r.account_code)).toEqual(['B1']);
    expect(b.missing).toEqual([]);
    expect(b.totalInitialMargin).toBe(7);
  });

  it('should accept a row written within clockSkewMs before submittedAt when the status has no created_at', () => {
    const early: AccountResult[] = [{ account_code: 'B1', submitted_time: '2024-01-01T09:59:59.500Z', initial_margin: 1 }];
    expect(selectBatchResults(batchB, done(batchB), early).stale).toHaveLength(1);
    expect(selectBatchResults(batchB, done(batchB), early, { clockSkewMs: 1000 }).rows).toHaveLength(1);
  });

  describe("the payload's own request_id", () => {
    const withId: SubmittedBatch = { ...batchB, requestId: 'caller-request-1' };
    const mine = (extra: Partial<AccountResult>): AccountResult[] => [{ account_code: 'B1', request_id: 'CALLER-REQUEST-1', initial_margin: 3, ...extra }];

    it('should not make a row fresh that was submitted before the batch started (an earlier run of the same payload)', () => {
      const picked = selectBatchResults(withId, done(withId, { created_at: '2024-01-01T10:00:00Z' }), mine({ submitted_time: '2024-01-01T09:00:00Z' }));
      expect(picked.rows).toEqual([]);
      expect(picked.stale.map((r) => r.initial_margin)).toEqual([3]);
    });

    it('should make a row fresh when the row has no time to compare', () => {
      expect(selectBatchResults(withId, done(withId, { created_at: '2024-01-01T10:00:00Z' }), mine({})).rows).toHaveLength(1);
    });
  });

  it('should make a row carrying the batch id fresh whatever its time', () => {
    const early: AccountResult[] = [{ account_code: 'B1', request_id: batchB.batchId.toUpperCase(), submitted_time: '2024-01-01T09:00:00Z', initial_margin: 2 }];
    expect(selectBatchResults(batchB, done(batchB, { created_at: '2024-01-01T10:00:00Z' }), early).rows).toHaveLength(1);
  });

  it('should mark the result partial after completed_with_errors', () => {
    expect(selectBatchResults(batchB, done(batchB, { status: 'completed_with_errors' }), rows).partial).toBe(true);
  });

  it('should throw a TypeError for a negative clockSkewMs', () => {
    expect(() => selectBatchResults(batchB, done(batchB), rows, { clockSkewMs: -1 })).toThrow(TypeError);
  });
});

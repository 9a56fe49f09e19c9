import { BatchStatus, KNOWN_STATUSES, isTerminalStatus } from '../../src/codecs/batch';
import { decodeOrThrow } from '../../src/codecs/decode';

describe('BatchStatus', () => {
  it('should decode an unknown status as data, and isTerminalStatus should call it non-terminal', () => {
    const status = decodeOrThrow(BatchStatus, { batch_id: 'b', status: 'paused_for_maintenance' }, 'batch status');
    expect(status.status).toBe('paused_for_maintenance');
    expect(isTerminalStatus(status.status)).toBe(false);
  });

  it('should know exactly the three terminal statuses', () => {
    expect(KNOWN_STATUSES.filter(isTerminalStatus)).toEqual(['completed', 'failed', 'completed_with_errors']);
  });

  it('should decode numeric strings, treat null like missing and keep unknown fields', () => {
    const status = decodeOrThrow(
      BatchStatus,
      { batch_id: 'b', status: 'queued', queue_position: '3', completed_at: null, completed_pct: 12.5, shard: 'eu-1' },
      'batch status',
    );
    expect(status).toEqual({ batch_id: 'b', status: 'queued', queue_position: 3, completed_at: undefined, completed_pct: 12.5, shard: 'eu-1' });
  });
});

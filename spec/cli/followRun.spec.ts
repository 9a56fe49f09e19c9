import { followConfig } from '../../src/cli/followRun';

describe('followConfig', () => {
  it('should poll adaptively with the library defaults when no interval is given, with no per-batch deadline', () => {
    expect(followConfig({ adaptivePoll: true })).toEqual({ adaptive: {}, poll: { timeoutMs: Infinity, maxIntervalMs: 15_000 } });
  });

  it('should make --poll-interval the shortest wait and the fallback of adaptive polling', () => {
    expect(followConfig({ adaptivePoll: true, pollIntervalMs: 2000 })).toEqual({
      adaptive: { minIntervalMs: 2000, fallbackIntervalMs: 2000, maxIntervalMs: 15_000 },
      poll: { timeoutMs: Infinity, maxIntervalMs: 15_000 },
    });
    expect(followConfig({ adaptivePoll: true, pollIntervalMs: 60_000 }).adaptive).toEqual({ minIntervalMs: 60_000, fallbackIntervalMs: 60_000, maxIntervalMs: 60_000 });
  });

  it('should use the plain backoff from the interval (default 1 s) with --no-adaptive-poll', () => {
    expect(followConfig({ adaptivePoll: false, pollIntervalMs: 500 })).toEqual({ adaptive: false, poll: { timeoutMs: Infinity, initialIntervalMs: 500, maxIntervalMs: 15_000 } });
    expect(followConfig({ adaptivePoll: false }).poll).toEqual({ timeoutMs: Infinity, initialIntervalMs: 1000, maxIntervalMs: 15_000 });
  });
});

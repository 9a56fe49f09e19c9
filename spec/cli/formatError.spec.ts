import { formatError } from '../../src/cli/formatError';
import { BatchTimeoutError, DecodeError, makeApiError } from '../../src/http/errors';
import { registerSecret } from '../../src/http/redact';

describe('formatError', () => {
  const key = 'plain-secret-key-for-format-spec';
  beforeAll(() => registerSecret(key));

  it('should say that the key was refused for a 401, without the key', () => {
    const line = formatError(makeApiError({ status: 401, body: `{"error":{"message":"bad key ${key}"}}` }));

    expect(line).toBe('error: the API key was refused (HTTP 401): check C9_API_SECRET\n');
  });

  it('should name the batch, its state and the time for a timeout', () => {
    const line = formatError(new BatchTimeoutError({ batchId: 'b-9', lastStatus: 'queued', queuePosition: 2, elapsedMs: 30_000 }));

    expect(line).toBe('error: batch b-9 timed out after 30.0s (last status: queued, queue position 2)\n');
  });

  it('should put a multi-line error on one line, and add the stack only when verbose', () => {
    const error = new DecodeError('batch status', ['status', 'runtime_ms'], ['status: required', 'runtime_ms: expected a number']);

    expect(formatError(error)).toBe('error: invalid batch status: status: required; runtime_ms: expected a number\n');
    expect(formatError(error, { verbose: true }).split('\n').length).toBeGreaterThan(3);
  });

  it('should redact the key anywhere, stack included', () => {
    const error = new Error(`failed with Bearer ${key}`);

    const text = formatError(error, { verbose: true }) + formatError(`thrown ${key}`);

    expect(text).not.toContain(key);
  });
});

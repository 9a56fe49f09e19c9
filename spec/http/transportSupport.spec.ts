import { ConnectionError } from '../../src/http/errors';
import { mayHaveReachedServer, toConnectionError } from '../../src/http/transportSupport';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('mayHaveReachedServer', () => {
  it('should be false only for connect-phase failures before any response', () => {
    expect(mayHaveReachedServer(coded('ECONNREFUSED'), false)).toBe(false);
    expect(mayHaveReachedServer(coded('ENOTFOUND'), false)).toBe(false);
    expect(mayHaveReachedServer(coded('EAI_AGAIN'), false)).toBe(false);
    // Node's own fetch nests the code in `cause`.
    expect(mayHaveReachedServer(new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }), false)).toBe(false);
    expect(mayHaveReachedServer(coded('ECONNRESET'), false)).toBe(true);
    expect(mayHaveReachedServer(new Error('socket hang up'), false)).toBe(true);
    expect(mayHaveReachedServer(coded('ECONNREFUSED'), true)).toBe(true);
  });
});

describe('toConnectionError', () => {
  const request = { method: 'GET', url: 'http://127.0.0.1:1/x' } as const;

  it('should word node:http, node-fetch and Node fetch failures the same way', () => {
    const refused = coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1');
    const wordings = [
      refused,
      Object.assign(new Error(`request to ${request.url} failed, reason: connect ECONNREFUSED 127.0.0.1:1`), { code: 'ECONNREFUSED' }),
      new TypeError('fetch failed', { cause: refused }),
    ].map((error) => toConnectionError(request, error, false));
    for (const error of wordings) {
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toBe('GET http://127.0.0.1:1/x: connection refused (ECONNREFUSED)');
      expect(error.mayHaveReachedServer).toBe(false);
    }
  });

  it('should keep a specific message and add its code, and count a started response as delivered', () => {
    const error = toConnectionError(request, coded('ECONNRESET', 'socket hang up'), true);
    expect(error.message).toBe('GET http://127.0.0.1:1/x: socket hang up (ECONNRESET)');
    expect(error.mayHaveReachedServer).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
  });
});

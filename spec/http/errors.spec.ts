import { inspect } from 'node:util';
import {
  BODY_EXCERPT_LENGTH,
  BatchFailedError,
  BatchTimeoutError,
  C9Error,
  ConnectionError,
  DecodeError,
  InvalidResponseError,
  RateLimitError,
  bodyExcerpt,
  makeApiError,
} from '../../src/http/errors';
import { REDACTED, registerSecret } from '../../src/http/redact';

const KEY = 'sk-test-SECRET-123456';
// A registered key that does not look like the vendor's: only registration can hide it.
const CUSTOM_KEY = 'custom-Secret-Key-777';

beforeAll(() => {
  registerSecret(KEY);
  registerSecret(CUSTOM_KEY);
});

const echoing = JSON.stringify({
  error: `Invalid API key ${KEY}`,
  request: { headers: { Authorization: `Bearer ${KEY}`, 'X-Other': CUSTOM_KEY } },
});

function everyError(): Array<[string, Error]> {
  const statuses = [400, 401, 404, 408, 413, 418, 429, 500, 502, 503];
  return [
    ...statuses.map((status): [string, Error] => [
      `HTTP ${status}`,
      makeApiError({ status, method: 'POST', path: `/portfolios?k=${KEY}`, requestId: 'r', contentType: 'application/json', body: echoing, retryAfterMs: 1 }),
    ]),
    ['HTTP 502 HTML', makeApiError({ status: 502, contentType: 'text/html', body: `<html><body>Authorization: Bearer ${KEY}</body></html>` })],
    ['invalid response', new InvalidResponseError({ status: 200, contentType: 'text/html', body: `<p>${KEY}</p> ${'x'.repeat(300)}`, reason: 'an HTML page' })],
    [
      'invalid response with the key at the excerpt cut',
      new InvalidResponseError({ status: 200, body: `${'y'.repeat(BODY_EXCERPT_LENGTH - 8)}${CUSTOM_KEY} tail`, reason: 'malformed or truncated JSON' }),
    ],
    ['connection', new ConnectionError(`POST https://x.example failed: Bearer ${KEY}`, { mayHaveReachedServer: true, cause: new Error('reset') })],
    ['decode', new DecodeError(`key ${KEY}`, ['a'], [`a: expected ${CUSTOM_KEY}`])],
    ['batch failed', new BatchFailedError('b1', `upstream said ${KEY}`)],
    ['batch timeout', new BatchTimeoutError({ batchId: 'b1', lastStatus: `queued ${CUSTOM_KEY}`, elapsedMs: 61_000 })],
    ['base', new C9Error(`plain ${KEY} and ${CUSTOM_KEY}`)],
  ];
}

describe('errors', () => {
  it('should never show a registered key in message, toString, stack, JSON or inspect', () => {
    for (const [label, error] of everyError()) {
      const views = [error.message, error.toString(), error.stack ?? '', JSON.stringify(error), inspect(error)];
      for (const view of views) {
        expect([label, view.includes(KEY) || view.includes(CUSTOM_KEY)]).toEqual([label, false]);
        expect([label, view.includes('SECRET-1234') || view.includes('Secret-Key')]).toEqual([label, false]);
      }
      // The marker shows where a key was (possibly cut itself at the end of an excerpt).
      expect([label, `${error.message} ${JSON.stringify(error)}`.includes(REDACTED.slice(0, 6))]).toEqual([label, true]);
    }
  });

  it('should keep the useful fields in JSON', () => {
    const error = makeApiError({ status: 429, method: 'GET', path: '/results/accounts', requestId: 'req-1', body: '{"error":"Rate limit exceeded"}', retryAfterMs: 2000 });
    expect(error).toBeInstanceOf(RateLimitError);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'RateLimitError',
      code: 'RATE_LIMITED',
      message: 'HTTP 429 (GET /results/accounts): Rate limit exceeded',
      status: 429,
      requestId: 'req-1',
      bodyExcerpt: '{"error":"Rate limit exceeded"}',
      method: 'GET',
      path: '/results/accounts',
      retryAfterMs: 2000,
    });
  });
});

describe('bodyExcerpt', () => {
  it('should flatten whitespace and cut long bodies to BODY_EXCERPT_LENGTH characters', () => {
    expect(bodyExcerpt('<html>\n  <body>\n\tBad   Gateway</body>\n</html>')).toBe('<html> <body> Bad Gateway</body> </html>');
    const long = bodyExcerpt('z'.repeat(1000));
    expect(long).toBe(`${'z'.repeat(BODY_EXCERPT_LENGTH)}…`);
    expect(bodyExcerpt(undefined)).toBe('');
  });

  it('should not leak the first half of a key cut at the excerpt end', () => {
    const excerpt = bodyExcerpt(`${'y'.repeat(BODY_EXCERPT_LENGTH - 5)}${CUSTOM_KEY}"}`);
    expect(excerpt).not.toContain('custo');
  });
});

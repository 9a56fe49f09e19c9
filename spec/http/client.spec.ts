import { Observable } from 'rxjs';
import { marbles } from 'rxjs-marbles/jest';
import type { Context } from 'rxjs-marbles/jest';
import type { PortfolioRequest, Position } from '../../src/codecs';
import { createClient, STREAM_BODY_POSITIONS } from '../../src/http/client';
import type { ClientOptions } from '../../src/http/client';
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConnectionError,
  DecodeError,
  InternalServerError,
  InvalidResponseError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  ResponseTimeoutError,
} from '../../src/http/errors';
import type { TransportRequest, TransportResponse } from '../../src/http/transport';

const KEY = 'sk-client-spec-KEY-987654';
const BATCH = '0f8e2c1a-7b3d-4e5f-9a0b-1c2d3e4f5a6b';

interface Call {
  readonly request: TransportRequest;
  readonly at: number;
}

function response(status: number, body: string, headers: Record<string, string> = {}): TransportResponse {
  return { status, body, headers: { 'content-type': 'application/json', ...headers } };
}

/** A client whose transport answers each request from `answer`, one frame later, recording every call. */
function setup(
  m: Context,
  answer: (request: TransportRequest, n: number) => TransportResponse | Observable<TransportResponse>,
  options: Partial<ClientOptions> = {},
) {
  const calls: Call[] = [];
  const client = createClient({
    endpoint: 'https://api.example/base/',
    apiKey: KEY,
    scheduler: m.scheduler,
    retry: { initialDelayMs: 10, jitter: 0, maxRetries: 2 },
    transport: (request) => {
      calls.push({ request, at: m.scheduler.now() });
      const answered = answer(request, calls.length - 1);
      return answered instanceof Observable ? answered : m.cold('-r|', { r: answered });
    },
    ...options,
  });
  return { client, calls };
}

const position = (account: string): Position => ({
  account_code: account,
  exchange_code: 'CME',
  contract_code: 'ES',
  contract_type: 'F',
  contract_expiry: '202512',
  net_position: '5',
});
const payload: PortfolioRequest = { portfolio: [position('ACC1')], currency_code: 'USD', extra_option: { kept: true } };
const status = (s: string) => JSON.stringify({ batch_id: BATCH, status: s });

/** Subscribes, flushes virtual time, and returns what came out. */
function run<T>(m: Context, source: Observable<T>): { values: T[]; error: unknown; completed: boolean } {
  const out = { values: [] as T[], error: undefined as unknown, completed: false };
  source.subscribe({ next: (v) => out.values.push(v), error: (e: unknown) => (out.error = e), complete: () => (out.completed = true) });
  m.flush();
  return out;
}

describe('createClient', () => {
  it(
    'should send the key as Bearer, accept JSON, and submit with content-type and x-processing-mode',
    marbles((m) => {
      const { client, calls } = setup(m, () => response(202, JSON.stringify({ batch_id: BATCH })));
      const out = run(m, client.submitBatch(payload, { processingMode: 'priority' }));
      expect(out.values).toEqual([{ batch_id: BATCH }]);
      expect(calls).toHaveLength(1);
      const { request } = calls[0];
      expect(request.method).toBe('POST');
      expect(request.url).toBe('https://api.example/base/portfolios/batch');
      expect(request.headers).toEqual({
        authorization: `Bearer ${KEY}`,
        accept: 'application/json',
        'content-type': 'application/json',
        'x-processing-mode': 'priority',
      });
      expect(typeof request.body).toBe('string');
      expect(JSON.parse(request.body as string)).toEqual(payload);
    }),
  );

  it(
    'should default the processing mode to fifo and send GETs without a body or content-type',
    marbles((m) => {
      const { client, calls } = setup(m, (request) =>
        request.method === 'POST' ? response(202, JSON.stringify({ batch_id: BATCH })) : response(200, status('queued')),
      );
      run(m, client.submitBatch(payload));
      run(m, client.getBatchStatus(BATCH));
      expect(calls[0].request.headers['x-processing-mode']).toBe('fifo');
      expect(calls[1].request.body).toBeUndefined();
      expect(calls[1].request.headers).toEqual({ authorization: `Bearer ${KEY}`, accept: 'application/json' });
    }),
  );

  it(
    'should call each endpoint on its path',
    marbles((m) => {
      const bodies: Record<string, string> = {
        'POST /portfolios': '{"status":"ok","data":[]}',
        [`GET /portfolios/batch/${BATCH}`]: status('processing'),
        'GET /results/accounts': '[]',
        'GET /results?request_id=r%201': '{"request_id":"r 1"}',
        'GET /healthcheck/analytics-engine': '[{"service":"engine","status":"ok"}]',
      };
      const { client, calls } = setup(m, (request) => {
        const key = `${request.method} ${request.url.replace('https://api.example/base', '')}`;
        return bodies[key] === undefined ? response(404, '{"error":"no route"}') : response(200, bodies[key]);
      });
      expect(run(m, client.calculate(payload)).values).toEqual([{ status: 'ok', data: [] }]);
      expect(run(m, client.getBatchStatus(BATCH)).values[0].status.status).toBe('processing');
      expect(run(m, client.getAccountResults()).values).toEqual([[]]);
      expect(run(m, client.getResults('r 1')).values).toEqual([{ request_id: 'r 1' }]);
      expect(run(m, client.healthcheck()).values).toEqual([[{ service: 'engine', status: 'ok' }]]);
      expect(calls.map((c) => c.request.url)).toEqual([
        'https://api.example/base/portfolios',
        `https://api.example/base/portfolios/batch/${BATCH}`,
        'https://api.example/base/results/accounts',
        'https://api.example/base/results?request_id=r%201',
        'https://api.example/base/healthcheck/analytics-engine',
      ]);
      expect(client.endpoint).toBe('https://api.example/base');
    }),
  );

  it(
    'should send nothing before subscription',
    marbles((m) => {
      const { client, calls } = setup(m, () => response(200, status('queued')));
      client.getBatchStatus(BATCH);
      client.submitBatch(payload);
      m.flush();
      expect(calls).toHaveLength(0);
    }),
  );

  it(
    'should throw a TypeError and send nothing for a bad batch id or processing mode',
    marbles((m) => {
      const { client, calls } = setup(m, () => response(200, status('queued')));
      expect(() => client.getBatchStatus('../../results/accounts')).toThrow(TypeError);
      expect(() => client.getBatchStatus('')).toThrow(TypeError);
      expect(() => client.submitBatch(payload, { processingMode: 'urgent' as 'fifo' })).toThrow(TypeError);
      expect(() => client.submitBatch({} as PortfolioRequest)).toThrow(TypeError);
      m.flush();
      expect(calls).toHaveLength(0);
    }),
  );

  it(
    'should time out a GET that never answers and retry it, each attempt with its own limit',
    marbles((m) => {
      const { client, calls } = setup(m, (_request, n) => (n < 2 ? m.cold('-') : response(200, status('completed'))), {
        requestTimeoutMs: 100,
      });
      const out = run(m, client.getBatchStatus(BATCH));
      expect(out.values.map((v) => v.status.status)).toEqual(['completed']);
      // Sent at 0, timed out at 100, retried after 10 ms backoff at 110, timed out at 210, retried after 20 ms at 230.
      expect(calls.map((c) => c.at)).toEqual([0, 110, 230]);
    }),
  );

  it(
    'should time out a submit that never answers with ResponseTimeoutError and never send it again',
    marbles((m) => {
      const { client, calls } = setup(m, () => m.cold('-'), { submitTimeoutMs: 500, requestTimeoutMs: 100 });
      const out = run(m, client.submitBatch(payload));
      expect(out.error).toBeInstanceOf(ResponseTimeoutError);
      const error = out.error as ResponseTimeoutError;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.mayHaveReachedServer).toBe(true);
      expect(error.timeoutMs).toBe(500);
      expect(error.message).toBe('no answer to POST /portfolios/batch within 500ms');
      expect(calls.map((c) => c.at)).toEqual([0]);
    }),
  );

  it('should refuse a request or submit time limit that is not a usable timer', () => {
    const transport = () => new Observable<TransportResponse>();
    const base = { endpoint: 'https://api.example', apiKey: KEY, transport };
    for (const bad of [0, -1, NaN, 2 ** 31, Infinity]) {
      expect(() => createClient({ ...base, requestTimeoutMs: bad })).toThrow(TypeError);
      expect(() => createClient({ ...base, submitTimeoutMs: bad })).toThrow(TypeError);
    }
  });

  it('should refuse a bad endpoint, key or retry policy when made', () => {
    const transport = () => new Observable<TransportResponse>();
    expect(() => createClient({ endpoint: 'not a url', apiKey: KEY, transport })).toThrow(TypeError);
    expect(() => createClient({ endpoint: 'https://api.example', apiKey: '', transport })).toThrow(TypeError);
    expect(() => createClient({ endpoint: 'https://api.example', apiKey: KEY, transport, retry: { factor: 0 } })).toThrow(TypeError);
  });

  it(
    'should strip one leading byte order mark before parsing',
    marbles((m) => {
      const { client } = setup(m, () => response(200, `\uFEFF${status('completed')}`));
      expect(run(m, client.getBatchStatus(BATCH)).values[0].status).toEqual({ batch_id: BATCH, status: 'completed' });
      const twice = setup(m, () => response(200, `\uFEFF\uFEFF${status('completed')}`));
      expect(run(m, twice.client.getBatchStatus(BATCH)).error).toBeInstanceOf(InvalidResponseError);
    }),
  );

  it(
    'should report an empty, HTML or truncated 2xx body as InvalidResponseError with status, content type and excerpt',
    marbles((m) => {
      const cases: Array<[TransportResponse, RegExp]> = [
        [response(200, ''), /empty body/],
        [response(200, '<!DOCTYPE html><html><body>Gateway says hi</body></html>', { 'content-type': 'text/html' }), /HTML/],
        [response(200, '{"batch_id":"abc","sta'), /truncated/],
      ];
      for (const [answer, reason] of cases) {
        const { client, calls } = setup(m, () => answer);
        const out = run(m, client.getBatchStatus(BATCH));
        expect(out.error).toBeInstanceOf(InvalidResponseError);
        const error = out.error as InvalidResponseError;
        expect(error.message).toMatch(reason);
        expect(error.status).toBe(200);
        expect(error.contentType).toBe(answer.headers['content-type']);
        expect(error.bodyExcerpt).toBe(answer.body.trim());
        expect(error).not.toBeInstanceOf(SyntaxError);
        // Not a transient fault: sent once.
        expect(calls).toHaveLength(1);
      }
    }),
  );

  it(
    'should name the request whose 2xx body is not JSON in the InvalidResponseError',
    marbles((m) => {
      // A run polls and fetches results for many batches: without the request, an HTML page
      // from a proxy could be a status poll or the results fetch.
      const html = response(200, '<html><body>Gateway says hi</body></html>', { 'content-type': 'text/html' });
      const { client } = setup(m, () => html);
      const status = run(m, client.getBatchStatus(BATCH)).error as InvalidResponseError;
      expect(status.message).toMatch(new RegExp(`^HTTP 200 answer to GET /portfolios/batch/${BATCH} is not valid JSON \\(an HTML page;`));
      expect([status.method, status.path]).toEqual(['GET', `/portfolios/batch/${BATCH}`]);
      expect(status.toJSON()).toMatchObject({ method: 'GET', path: `/portfolios/batch/${BATCH}` });
      const results = run(m, setup(m, () => html).client.getAccountResults()).error as InvalidResponseError;
      expect(results.message).toMatch(/^HTTP 200 answer to GET \/results\/accounts is not valid JSON/);
    }),
  );

  it(
    'should map each error status to its class, with the server message, request id and Retry-After',
    marbles((m) => {
      const cases: Array<[TransportResponse, new (...args: never[]) => ApiError, RegExp]> = [
        [response(400, '{"error":"\\"portfolio[0].exchange_code\\" is required"}', { 'x-request-id': 'req-400' }), BadRequestError, /exchange_code" is required/],
        [response(401, '{"error":{"message":"Invalid or expired API key"}}', { 'x-amzn-requestid': 'req-401' }), AuthenticationError, /Invalid or expired/],
        [response(404, '{"error":"batch not found"}', { 'request-id': 'req-404' }), NotFoundError, /batch not found/],
        [response(413, '', { 'x-request-id': 'req-413' }), PayloadTooLargeError, /HTTP 413/],
        [response(429, '{"error":"Rate limit exceeded"}', { 'x-request-id': 'req-429', 'retry-after': '7' }), RateLimitError, /Rate limit/],
        [response(500, '{"error":"Internal Server Error"}', { 'x-request-id': 'req-500' }), InternalServerError, /Internal Server Error/],
        [
          response(502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', { 'content-type': 'text/html', 'x-request-id': 'req-502' }),
          InternalServerError,
          /502 Bad Gateway/,
        ],
      ];
      for (const [answer, type, message] of cases) {
        const { client, calls } = setup(m, () => answer, { retry: { maxRetries: 0 } });
        const out = run(m, client.getBatchStatus(BATCH));
        expect(out.error).toBeInstanceOf(type);
        const error = out.error as ApiError;
        expect(error.message).toMatch(message);
        expect(error.status).toBe(answer.status);
        expect(error.requestId).toBe(`req-${answer.status}`);
        expect(error.method).toBe('GET');
        expect(error.path).toBe(`/portfolios/batch/${BATCH}`);
        expect(error.contentType).toBe(answer.headers['content-type']);
        expect(calls).toHaveLength(1);
      }
      const limited = setup(m, () => cases[4][0], { retry: { maxRetries: 0 } });
      expect((run(m, limited.client.getBatchStatus(BATCH)).error as RateLimitError).retryAfterMs).toBe(7000);
    }),
  );

  it(
    'should report the polling hint of a 200 Retry-After',
    marbles((m) => {
      const { client } = setup(m, (_r, n) => response(200, status('queued'), n === 0 ? { 'retry-after': '3' } : {}));
      expect(run(m, client.getBatchStatus(BATCH)).values[0].retryAfterMs).toBe(3000);
      expect(run(m, client.getBatchStatus(BATCH)).values[0].retryAfterMs).toBeUndefined();
    }),
  );

  it(
    'should emit one answer per request and complete at it, even when the transport answers twice',
    marbles((m) => {
      const twice = m.cold('-a-b|', { a: response(200, status('queued')), b: response(200, status('completed')) });
      const { client } = setup(m, () => twice);
      const status$ = client.getBatchStatus(BATCH);
      m.expect(status$).toBeObservable('-(a|)', { a: { status: { batch_id: BATCH, status: 'queued' }, retryAfterMs: undefined } });
      // Completing at the first answer also lets go of the transport's stream at once.
      m.expect(twice).toHaveSubscriptions('^!');
    }),
  );

  it(
    'should keep only the asked accounts and their sub-account rows, decoding nothing else',
    marbles((m) => {
      const rows = [
        { account_code: 'ACC1', portfolio_id: 'p1', initial_margin: '1250.5', extra: 'kept' },
        { account_code: 'SUB-A', portfolio_id: 'p1a', parent_portfolio_id: 'p1', initial_margin: 500 },
        // Rows of other accounts are never decoded, so their bad data cannot fail the call.
        { account_code: 'OTHER', portfolio_id: 'p2', initial_margin: 'not a number' },
        { account_code: 'SUB-B', portfolio_id: 'p2b', parent_portfolio_id: 'p2', initial_margin: {} },
        'junk row',
        { account_code: 'ACC2', portfolio_id: null, initial_margin: null },
      ];
      const { client } = setup(m, () => response(200, JSON.stringify(rows)));
      const out = run(m, client.getAccountResults({ accountCodes: new Set(['ACC1', 'ACC2', 'MISSING']) }));
      expect(out.error).toBeUndefined();
      expect(out.values).toEqual([
        [
          { account_code: 'ACC1', portfolio_id: 'p1', initial_margin: 1250.5, extra: 'kept' },
          { account_code: 'SUB-A', portfolio_id: 'p1a', parent_portfolio_id: 'p1', initial_margin: 500 },
          { account_code: 'ACC2', portfolio_id: undefined, initial_margin: undefined },
        ],
      ]);
      // Without a filter every row is decoded, and the bad ones are reported by path.
      const all = run(m, client.getAccountResults());
      expect(all.error).toBeInstanceOf(DecodeError);
      expect((all.error as DecodeError).paths).toEqual(['[2].initial_margin', '[3].initial_margin', '[4]']);
    }),
  );

  it(
    'should read the accounts set when the answer arrives, so accounts added while it is in flight are kept',
    marbles((m) => {
      const rows = [
        { account_code: 'ACC1', portfolio_id: 'p1' },
        { account_code: 'ACC2', portfolio_id: 'p2' },
        { account_code: 'OTHER', portfolio_id: 'p3' },
      ];
      // Both ways of reading the body: the scan (a few accounts of a larger store) and JSON.parse + filter (most of it).
      for (const store of [[...rows, ...Array.from({ length: 200 }, (_, i) => ({ account_code: `X${i}`, portfolio_id: `x${i}` }))], rows]) {
        const { client } = setup(m, () => m.cold('---r|', { r: response(200, JSON.stringify(store)) }));
        const accountCodes = new Set(['ACC1']);
        const out = { values: [] as unknown[] };
        client.getAccountResults({ accountCodes }).subscribe((v) => out.values.push(v));
        m.scheduler.schedule(() => accountCodes.add('ACC2'), 1);
        m.flush();
        expect(out.values).toEqual([[rows[0], rows[1]]]);
      }
    }),
  );

  it(
    'should report a results body that is not an array as a DecodeError',
    marbles((m) => {
      const { client } = setup(m, () => response(200, '{"rows":[]}'));
      expect(run(m, client.getAccountResults({ accountCodes: new Set(['A']) })).error).toBeInstanceOf(DecodeError);
    }),
  );

  it(
    'should retry a GET after a 503 and a submit after a 429, but not a submit after a 500',
    marbles((m) => {
      const flaky = setup(m, (_r, n) => (n === 0 ? response(503, '<html>busy</html>', { 'content-type': 'text/html' }) : response(200, status('queued'))));
      expect(run(m, flaky.client.getBatchStatus(BATCH)).values).toHaveLength(1);
      // First answer at 1, backoff 10, second call at 11.
      expect(flaky.calls.map((c) => c.at)).toEqual([0, 11]);

      const limited = setup(m, (_r, n) => (n === 0 ? response(429, '{"error":"Rate limit exceeded"}') : response(202, JSON.stringify({ batch_id: BATCH }))));
      expect(run(m, limited.client.submitBatch(payload)).values).toEqual([{ batch_id: BATCH }]);
      expect(limited.calls).toHaveLength(2);

      const failed = setup(m, () => response(500, '{"error":"Internal Server Error"}'));
      expect(run(m, failed.client.submitBatch(payload)).error).toBeInstanceOf(InternalServerError);
      expect(failed.calls).toHaveLength(1);
    }),
  );

  it(
    'should hold every request of the client after one of them gets a 429 with Retry-After',
    marbles((m) => {
      const { client, calls } = setup(
        m,
        (request, n) => {
          if (n === 0) return m.cold('5ms r|', { r: response(429, '{"error":"Rate limit exceeded"}', { 'retry-after': '1' }) });
          return request.method === 'POST' ? response(202, JSON.stringify({ batch_id: BATCH })) : response(200, status('queued'));
        },
        { retry: { maxRetries: 2, jitter: 0, maxDelayMs: 5000 } },
      );
      const other = setup(m, () => response(200, status('queued')));
      m.scheduler.schedule(() => client.getBatchStatus(BATCH).subscribe(), 0);
      m.scheduler.schedule(() => client.submitBatch(payload).subscribe(), 20);
      // A different client has its own throttle: it is not held.
      m.scheduler.schedule(() => other.client.getBatchStatus(BATCH).subscribe(), 20);
      m.flush();
      // The 429 arrives at 5 and asks for 1 s: both the retry and the unrelated submit wait until 1005.
      expect(calls.map((c) => [c.request.method, c.at])).toEqual([
        ['GET', 0],
        ['GET', 1005],
        ['POST', 1005],
      ]);
      expect(other.calls.map((c) => c.at)).toEqual([20]);
    }),
  );

  it('should stream a large payload as a chunk factory that parses to the payload', async () => {
    const big: PortfolioRequest = { memo: 'big', portfolio: Array.from({ length: STREAM_BODY_POSITIONS + 1 }, (_, i) => position(`A${i}`)) };
    let body: TransportRequest['body'];
    const client = createClient({
      endpoint: 'http://127.0.0.1:1',
      apiKey: KEY,
      transport: (request) =>
        new Observable<TransportResponse>((subscriber) => {
          body = request.body;
          subscriber.next(response(202, JSON.stringify({ batch_id: BATCH })));
          subscriber.complete();
        }),
    });
    await new Promise<void>((resolve, reject) => client.submitBatch(big).subscribe({ complete: resolve, error: reject }));
    expect(typeof body).toBe('function');
    let joined = '';
    for await (const chunk of (body as () => AsyncIterable<string>)()) joined += String(chunk);
    expect(JSON.parse(joined)).toEqual(big);
  });
});

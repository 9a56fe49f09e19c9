import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { firstValueFrom } from 'rxjs';
import { createClient } from '../../src/http/client';
import { ApiError, ConnectionError, InternalServerError, InvalidResponseError } from '../../src/http/errors';
import { fetchTransport } from '../../src/http/fetchTransport';
import { nodeHttpTransport } from '../../src/http/nodeHttpTransport';
import type { Transport, TransportResponse } from '../../src/http/transport';
import { errorOf, serve, within } from './support/localServer';

const KEY = 'sk-transport-spec-KEY-13579';
const BATCH = 'b-1';

// The default transport and the opt-in one promise the same behaviour: every real-socket
// case below runs against both (nodeHttpTransport.spec.ts has only what is its own).
const TRANSPORTS: ReadonlyArray<readonly [string, () => Transport]> = [
  ['fetchTransport', () => fetchTransport()],
  ['nodeHttpTransport', () => nodeHttpTransport()],
];

describe.each(TRANSPORTS)('%s', (_name, makeTransport) => {
  const client = (endpoint: string) => createClient({ endpoint, apiKey: KEY, transport: makeTransport(), retry: { maxRetries: 0 } });

  it('should send the request and answer with status, lower-case headers and the body text', async () => {
    let seen: { method?: string; url?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
    const { url } = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, headers: req.headers, body };
        res.writeHead(201, { 'Content-Type': 'application/json', 'X-Request-ID': 'abc' });
        res.end('{"ok":true}');
      });
    });
    const response = await firstValueFrom(
      makeTransport()({ method: 'POST', url: `${url}/x?y=1`, headers: { 'content-type': 'application/json', 'x-custom': 'v' }, body: '{"a":1}' }),
    );
    expect(response.status).toBe(201);
    expect(response.body).toBe('{"ok":true}');
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['x-request-id']).toBe('abc');
    expect(Object.keys(response.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(seen).toMatchObject({ method: 'POST', url: '/x?y=1', body: '{"a":1}' });
    expect(seen.headers?.['x-custom']).toBe('v');
  });

  it.each([
    ['a string body', false],
    ['a streamed body', true],
  ] as const)('should report a 302 on a submit with %s as an ApiError with status 302, following nothing', async (_what, streamed) => {
    let followed = 0;
    const { url } = await serve((req, res) => {
      req.resume();
      if (req.url !== '/portfolios/batch') followed += 1;
      res.writeHead(302, { Location: '/elsewhere', 'Content-Type': 'application/json' });
      res.end('{"batch_id":"b-wrong","status":"queued"}');
    });
    const transport = makeTransport();
    const response = await firstValueFrom(
      transport({
        method: 'POST',
        url: `${url}/portfolios/batch`,
        headers: { 'content-type': 'application/json' },
        body: streamed
          ? async function* chunks() {
              yield '{"portfolios":';
              yield '[]}';
            }
          : '{"portfolios":[]}',
      }),
    );
    expect(response.status).toBe(302);
    expect(followed).toBe(0);
    const error = await errorOf(firstValueFrom(client(url).submitBatch({ portfolio: [{ account_code: 'A1', exchange_code: 'CME', contract_code: 'ES', contract_type: 'F', contract_expiry: '202512', net_position: '5' }], currency_code: 'USD' })));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(302);
    expect(followed).toBe(0);
  });

  it('should report an HTML 502 from a proxy as an HTTP error with an excerpt', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>');
    });
    const error = await errorOf(firstValueFrom(client(url).getBatchStatus(BATCH)));
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).status).toBe(502);
    expect((error as InternalServerError).bodyExcerpt).toContain('502 Bad Gateway');
    expect((error as InternalServerError).contentType).toBe('text/html');
  });

  it('should report an empty 200 as an invalid response', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end();
    });
    const error = await errorOf(firstValueFrom(client(url).getBatchStatus(BATCH)));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as InvalidResponseError).message).toMatch(/empty body/);
  });

  it('should decode a body that starts with a byte order mark', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ batch_id: BATCH, status: 'queued' }))]));
    });
    const { status } = await firstValueFrom(client(url).getBatchStatus(BATCH));
    expect(status).toEqual({ batch_id: BATCH, status: 'queued' });
  });

  it('should report JSON cut short by the server as an invalid response', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"batch_id":"b-1","sta');
    });
    const error = await errorOf(firstValueFrom(client(url).getBatchStatus(BATCH)));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as InvalidResponseError).bodyExcerpt).toBe('{"batch_id":"b-1","sta');
  });

  it.each([
    ['a Content-Length', { 'Content-Length': '1000' }],
    ['chunked encoding', {}],
  ] as const)('should report a connection dropped mid-body (%s) as a ConnectionError that may have reached the server', async (_what, length) => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', ...length });
      res.write('{"batch_id":"b-1",', () => res.socket?.destroy());
    });
    const error = await within(errorOf(firstValueFrom(makeTransport()({ method: 'GET', url: `${url}/x`, headers: {} }))), 2000, 'the body failing');
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).mayHaveReachedServer).toBe(true);
    // Worded alike by both transports, the URL once.
    expect((error as ConnectionError).message).toBe(`GET ${url}/x: connection closed before the response body was complete (ECONNRESET)`);
  });

  it('should read a body of many chunks intact, with multi-byte characters split between chunks', async () => {
    const body = JSON.stringify({ batch_id: BATCH, note: 'é€😀'.repeat(100_000) });
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const bytes = Buffer.from(body);
      // Odd-sized writes, so characters straddle chunk boundaries.
      for (let at = 0; at < bytes.length; at += 7777) res.write(bytes.subarray(at, at + 7777));
      res.end();
    });
    const response = await firstValueFrom(makeTransport()({ method: 'GET', url: `${url}/x`, headers: {} }));
    expect(response.body).toBe(body);
  });

  it.each([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const)('should decode a %s body', async (coding, compress) => {
    const body = JSON.stringify({ batch_id: BATCH, note: 'é'.repeat(50_000) });
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': coding });
      res.end(compress(Buffer.from(body)));
    });
    const response = await firstValueFrom(makeTransport()({ method: 'GET', url: `${url}/x`, headers: {} }));
    expect(response.body).toBe(body);
  });

  it('should fail a body that does not decode as a ConnectionError after the response started', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end('not gzip at all');
    });
    const error = await within(errorOf(firstValueFrom(makeTransport()({ method: 'GET', url: `${url}/x`, headers: {} }))), 2000, 'the body failing');
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).mayHaveReachedServer).toBe(true);
  });

  it('should report a socket closed after the request was sent as possibly delivered', async () => {
    const { url } = await serve((req) => {
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    const error = await errorOf(firstValueFrom(makeTransport()({ method: 'POST', url: `${url}/portfolios/batch`, headers: {}, body: '{}' })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).mayHaveReachedServer).toBe(true);
  });

  it('should report a refused connection as a ConnectionError that never reached the server', async () => {
    const { url, server } = await serve(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await errorOf(firstValueFrom(makeTransport()({ method: 'POST', url: `${url}/portfolios/batch`, headers: {}, body: '{}' })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).mayHaveReachedServer).toBe(false);
    // The URL once, then why: not node-fetch's "request to URL failed, reason: connect ECONNREFUSED …".
    expect((error as ConnectionError).message).toBe(`POST ${url}/portfolios/batch: connection refused (ECONNREFUSED)`);
  });

  /**
   * Serves `handle`, sends a GET, unsubscribes once the server calls `ready` (and `settleMs`
   * later), and expects the server to see the socket close, with nothing emitted and no
   * unhandled rejection.
   */
  async function expectQuietAbort(
    handle: (req: http.IncomingMessage, res: http.ServerResponse, ready: () => void) => void,
    readiness: string,
    settleMs: number,
  ): Promise<void> {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      let socketClosed!: () => void;
      const closed = new Promise<void>((resolve) => (socketClosed = resolve));
      const { url } = await serve((req, res) => {
        req.socket.on('close', () => socketClosed());
        handle(req, res, ready);
      });
      const events: string[] = [];
      const subscription = makeTransport()({ method: 'GET', url: `${url}/portfolios/batch/b-1`, headers: {} }).subscribe({
        next: () => events.push('next'),
        error: (error: unknown) => events.push(`error ${String(error)}`),
        complete: () => events.push('complete'),
      });
      await within(isReady, 2000, readiness);
      if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
      subscription.unsubscribe();
      await within(closed, 2000, 'the server seeing the socket close');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(events).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }

  it('should abort on unsubscribe while the body is downloading, without an error or unhandled rejection', async () => {
    // Half a body, then nothing: only the client can end this. The 20 ms let the client
    // receive the headers, so the abort lands in the body download.
    await expectQuietAbort(
      (_req, res, ready) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100000' });
        res.write('{"batch_id":"b-1",', () => ready());
      },
      'the server writing half a body',
      20,
    );
  });

  it('should abort on unsubscribe before the response, closing the socket without an error', async () => {
    // Never answers: only the client can end this.
    await expectQuietAbort((_req, _res, ready) => ready(), 'the request arriving', 0);
  });

  it('should join a repeated response header with ", " and keep the request headers out of every error', async () => {
    const { url } = await serve((_req, res) => {
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    const response = await firstValueFrom(makeTransport()({ method: 'GET', url: `${url}/x`, headers: { authorization: `Bearer ${KEY}` } }));
    expect(response.headers['set-cookie']).toBe('a=1, b=2');

    const refused = await serve(() => undefined);
    await new Promise<void>((resolve) => refused.server.close(() => resolve()));
    const error = await errorOf(firstValueFrom(client(refused.url).getBatchStatus(BATCH)));
    expect(error).toBeInstanceOf(ConnectionError);
    for (const text of [(error as Error).message, String(error), JSON.stringify(error), (error as Error).stack ?? '']) expect(text).not.toContain(KEY);
  });

  it('should stream a body factory to the server intact', async () => {
    let received = '';
    let encoding: string | undefined;
    const { url } = await serve((req, res) => {
      encoding = req.headers['transfer-encoding'];
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (received += chunk));
      req.on('end', () => {
        res.writeHead(202, { 'Content-Type': 'application/json' });
        res.end('{"batch_id":"b-1"}');
      });
    });
    const chunks = Array.from({ length: 500 }, (_, i) => `${i === 0 ? '[' : ','}{"n":${i},"text":"é ${'x'.repeat(100)}"}`);
    async function* body(): AsyncIterable<string> {
      for (const chunk of chunks) yield chunk;
      yield ']';
    }
    const response: TransportResponse = await firstValueFrom(
      makeTransport()({ method: 'POST', url: `${url}/portfolios/batch`, headers: { 'content-type': 'application/json' }, body }),
    );
    expect(response.status).toBe(202);
    expect(encoding).toBe('chunked');
    expect(received).toBe(`${chunks.join('')}]`);
    expect((JSON.parse(received) as unknown[]).length).toBe(500);
  });

  it('should stop the body factory and fail with its own error when it throws', async () => {
    const { url } = await serve((req, res) => {
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    const boom = new Error('payload source failed');
    async function* body(): AsyncIterable<string> {
      yield '[';
      throw boom;
    }
    const error = await errorOf(firstValueFrom(makeTransport()({ method: 'POST', url: `${url}/p`, headers: {}, body })));
    expect(error).toBe(boom);
  });
});

describe('fetchTransport', () => {
  it('should answer the Location of a redirect it does not follow resolved against the request URL, as node-fetch gives it', async () => {
    const { url } = await serve((req, res) => {
      req.resume();
      res.writeHead(303, { Location: '/elsewhere', 'Content-Type': 'application/json' });
      res.end('{}');
    });
    const response = await firstValueFrom(fetchTransport()({ method: 'POST', url: `${url}/portfolios/batch`, headers: {}, body: '{}' }));
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`${url}/elsewhere`);
  });
});

describe('fetchTransport with Node\'s own fetch', () => {
  it('should stream a body factory and classify a refused connection the same way', async () => {
    let received = '';
    const { url } = await serve((req, res) => {
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (received += chunk));
      req.on('end', () => res.end('{"ok":true}'));
    });
    async function* body(): AsyncIterable<string> {
      yield '{"a":';
      yield '1}';
    }
    const transport = fetchTransport(globalThis.fetch);
    const response = await firstValueFrom(transport({ method: 'POST', url: `${url}/p`, headers: {}, body }));
    expect(response.body).toBe('{"ok":true}');
    expect(received).toBe('{"a":1}');

    const refused = await serve(() => undefined);
    await new Promise<void>((resolve) => refused.server.close(() => resolve()));
    const error = await errorOf(firstValueFrom(transport({ method: 'GET', url: `${refused.url}/p`, headers: {} })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).mayHaveReachedServer).toBe(false);
    // Not "fetch failed": the code, from the error's cause, said in words.
    expect((error as ConnectionError).message).toBe(`GET ${refused.url}/p: connection refused (ECONNREFUSED)`);
  });
});

describe('fetchTransport with a fetch of the caller', () => {
  it('should fail the request, not leave it waiting, when reading the response throws', async () => {
    const broken = {
      status: 200,
      body: null,
      get headers(): Headers {
        throw new Error('headers unreadable');
      },
    } as unknown as Response;
    const fetchImpl = (() => Promise.resolve(broken)) as typeof globalThis.fetch;
    const error = await errorOf(firstValueFrom(fetchTransport(fetchImpl)({ method: 'GET', url: 'http://127.0.0.1:9/p', headers: {} })));
    expect(error).toBeInstanceOf(ConnectionError);
  });
});

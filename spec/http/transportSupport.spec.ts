import * as http from 'node:http';
import { inspect } from 'node:util';
import { firstValueFrom } from 'rxjs';
import { ConnectionError, ResponseTooLargeError } from '../../src/http/errors';
import { createClient } from '../../src/http/client';
import { fetchTransport } from '../../src/http/fetchTransport';
import { nodeHttpTransport } from '../../src/http/nodeHttpTransport';
import type { Transport } from '../../src/http/transport';
import { bodyText, keepAliveAgent, mayHaveReachedServer, toConnectionError, toTransportError } from '../../src/http/transportSupport';
import { errorOf, serve } from './support/localServer';

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

describe('keepAliveAgent', () => {
  // Blocks this thread (the client's and the server's event loop) like a long synchronous
  // chunk would: no timer, no socket event runs meanwhile.
  const blockFor = (ms: number): void => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  };

  // A server closing idle sockets after 300 ms without announcing it. Node 20's own
  // keepAliveTimeout waits 1 s longer than it says and sends a `Keep-Alive: timeout=` hint, so
  // the server closes them itself.
  const shortKeepAliveServer = async (): Promise<{ url: string; connections: () => number }> => {
    let connections = 0;
    const idleTimers = new Map<unknown, NodeJS.Timeout>();
    const { url, server } = await serve((req, res) => {
      clearTimeout(idleTimers.get(req.socket));
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"ok":true}', () => idleTimers.set(req.socket, setTimeout(() => req.socket.destroy(), 300)));
      });
    });
    server.keepAliveTimeout = 0;
    server.on('connection', () => (connections += 1));
    server.on('close', () => idleTimers.forEach((timer) => clearTimeout(timer)));
    return { url, connections: () => connections };
  };

  const post = (transport: Transport, url: string) =>
    firstValueFrom(transport({ method: 'POST', url: `${url}/portfolios/batch`, headers: { 'content-type': 'application/json' }, body: '{}' }));

  // The keep-alive race: a socket idle past the server's timeout is picked while the
  // client's own idle timer is late; the server's close of it lands just after the request.
  const sendAfterStall = async (transport: Transport) => {
    const { url, connections } = await shortKeepAliveServer();
    expect((await post(transport, url)).status).toBe(200);
    // The agent takes the socket back a moment after the body ended.
    await new Promise((resolve) => setTimeout(resolve, 20));
    // From the check phase: the next loop turn runs the server's expired idle timer before
    // it reads the request, as a server closing the socket at that very moment would.
    await new Promise((resolve) => setImmediate(resolve));
    blockFor(350);
    const second = await post(transport, url).then(
      (response) => response.status,
      (error: unknown) => error,
    );
    return { second, connections: connections() };
  };

  it('should show the race on a plain Node keep-alive agent (the failure guarded against)', async () => {
    const agent = new http.Agent({ keepAlive: true, timeout: 100 });
    try {
      const { second } = await sendAfterStall(nodeHttpTransport({ httpAgent: agent }));
      expect(second).toBeInstanceOf(ConnectionError);
      expect((second as ConnectionError).mayHaveReachedServer).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it.each([
    ['fetchTransport', () => fetchTransport(undefined, { freeSocketTimeoutMs: 100 })],
    ['nodeHttpTransport', () => nodeHttpTransport({ freeSocketTimeoutMs: 100 })],
  ] as const)('should not send on a socket idle past its limit when the timers ran late (%s)', async (_name, make) => {
    const { second, connections } = await sendAfterStall(make());
    expect(second).toBe(200);
    expect(connections).toBe(2);
  });

  it('should reuse a socket still within its limit', async () => {
    const transport = nodeHttpTransport({ freeSocketTimeoutMs: 1000 });
    const { url, connections } = await shortKeepAliveServer();
    await post(transport, url);
    await post(transport, url);
    expect(connections()).toBe(1);
  });

  it('should look at the socket it takes, not every idle one, when a request picks a socket', async () => {
    const agent = keepAliveAgent(http.Agent, 60_000);
    const { url } = await shortKeepAliveServer();
    const transport = nodeHttpTransport({ httpAgent: agent });
    try {
      // 40 requests at once leave 40 idle sockets in the pool.
      await Promise.all(Array.from({ length: 40 }, () => post(transport, url)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const pool = Object.values(agent.freeSockets).flat();
      expect(pool).toHaveLength(40);
      let looks = 0;
      for (const socket of pool) {
        let timeout = socket?.timeout;
        Object.defineProperty(socket, 'timeout', {
          configurable: true,
          get: () => {
            looks += 1;
            return timeout;
          },
          set: (value: number | undefined) => {
            timeout = value;
          },
        });
      }
      // The socket is picked as the request is made, synchronously.
      const answer = post(transport, url);
      const looked = looks;
      expect((await answer).status).toBe(200);
      // The newest idle socket, fresh, is the one taken: one look, however large the pool.
      expect(looked).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  // Answers once `hold` requests are open at once (or after 50 ms), counting connections.
  const countingServer = async (hold: number) => {
    let connections = 0;
    let open = 0;
    let mostOpen = 0;
    const waiting: (() => void)[] = [];
    const { url, server } = await serve((req, res) => {
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      const answer = (): void => {
        open -= 1;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      };
      waiting.push(answer);
      req.resume();
      if (waiting.length >= hold) waiting.splice(0).forEach((f) => f());
      else setTimeout(() => waiting.splice(0).forEach((f) => f()), 50);
    });
    server.on('connection', () => (connections += 1));
    return { url, connections: () => connections, mostOpen: () => mostOpen };
  };

  it('should open at most maxSockets connections to a host, 64 by default, and queue the rest (nodeHttpTransport)', async () => {
    const make = (n?: number) => nodeHttpTransport({ maxSockets: n, freeSocketTimeoutMs: 2001 });
    const capped = await countingServer(3);
    const three = make(3);
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(three, capped.url)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(capped.connections()).toBe(3);
    expect(capped.mostOpen()).toBe(3);

    const byDefault = await countingServer(64);
    const plain = make();
    await Promise.all(Array.from({ length: 100 }, () => post(plain, byDefault.url)));
    expect(byDefault.connections()).toBe(64);
  });

  it('should not cap the default transport: node-fetch fails a queued request handed a socket (fetchTransport)', async () => {
    // countingServer answers in chunks (no Content-Length), the case node-fetch 2 misreads
    // on a socket passed straight to a waiting request (node-fetch#1767).
    const server = await countingServer(80);
    const transport = fetchTransport(undefined, { freeSocketTimeoutMs: 2002 });
    const answers = await Promise.all(Array.from({ length: 80 }, () => post(transport, server.url)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(server.connections()).toBe(80);
  });

  it('should refuse a limit that is not a positive number (or a cap that is not a positive integer) when the transport is made', () => {
    expect(() => nodeHttpTransport({ freeSocketTimeoutMs: 0 })).toThrow(TypeError);
    expect(() => fetchTransport(undefined, { freeSocketTimeoutMs: Number.NaN })).toThrow(TypeError);
    expect(() => nodeHttpTransport({ maxSockets: 0 })).toThrow(TypeError);
    expect(() => nodeHttpTransport({ maxSockets: 1.5 })).toThrow(TypeError);
    expect(nodeHttpTransport({ maxSockets: Infinity })).toBeInstanceOf(Function);
  });
});

describe('bodyText', () => {
  const request = { method: 'GET', url: 'http://127.0.0.1:1/results/accounts' } as const;
  const tooLong = () => Object.assign(new Error('Cannot create a string longer than 0x1fffffe8 characters'), { code: 'ERR_STRING_TOO_LONG' });

  afterEach(() => jest.restoreAllMocks());

  /** Makes Buffer#toString fail as Node does past its longest string, for bodies of `bytes` or more. */
  const stringLimit = (bytes: number) => {
    const original = Buffer.prototype.toString;
    jest.spyOn(Buffer.prototype, 'toString').mockImplementation(function (this: Buffer, ...args: unknown[]) {
      const start = typeof args[1] === 'number' ? args[1] : 0;
      const end = typeof args[2] === 'number' ? args[2] : this.length;
      if (end - start >= bytes) throw tooLong();
      return original.apply(this, args as Parameters<Buffer['toString']>);
    });
  };

  it('should decode UTF-8, and name the request and size when the body is too long for a string', () => {
    expect(bodyText(request, Buffer.from('["é"]'))).toBe('["é"]');
    stringLimit(4);
    let error: unknown;
    try {
      bodyText(request, Buffer.from('[1,2,3]'));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect(error).toMatchObject({ code: 'RESPONSE_TOO_LARGE', bytes: 7 });
    expect((error as Error).message).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/results\/accounts: the answer's body \(0\.0 MB\) is longer than the longest string Node\.js makes/);
  });

  it('should turn a fetch\'s own string-length failure into the same error, and leave others connection errors', () => {
    expect(toTransportError(request, tooLong(), true)).toBeInstanceOf(ResponseTooLargeError);
    expect(toTransportError(request, new TypeError('x', { cause: tooLong() }), true)).toBeInstanceOf(ResponseTooLargeError);
    expect(toTransportError(request, coded('ECONNRESET'), true)).toBeInstanceOf(ConnectionError);
  });

  it.each([
    ['fetchTransport', () => fetchTransport(undefined, { freeSocketTimeoutMs: 2003 })],
    ['nodeHttpTransport', () => nodeHttpTransport({ freeSocketTimeoutMs: 2003 })],
  ] as const)('should fail a body too long for a string with ResponseTooLargeError, not crash, and not retry it (%s)', async (_name, make) => {
    const size = 3 * 2 ** 20;
    let requests = 0;
    const { url } = await serve((req, res) => {
      requests += 1;
      // With a length (read into one buffer) and without (chunks joined at the end).
      const chunked = req.url?.includes('chunked') ?? false;
      res.writeHead(200, { 'Content-Type': 'application/json', ...(chunked ? {} : { 'Content-Length': String(size) }) });
      res.end(Buffer.alloc(size, 0x20));
    });
    stringLimit(size);
    for (const path of ['/results/accounts', '/results/accounts?chunked']) {
      const error = await errorOf(firstValueFrom(make()({ method: 'GET', url: `${url}${path}`, headers: {} })));
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect((error as ResponseTooLargeError).message).toContain(`GET ${url}${path}: the answer's body`);
    }
    requests = 0;
    const client = createClient({ endpoint: url, apiKey: 'sk-test-0000000000000000', transport: make(), retry: { initialDelayMs: 1, maxRetries: 3 } });
    expect(await errorOf(firstValueFrom(client.getAccountResults({ accountCodes: new Set(['A']) })))).toBeInstanceOf(ResponseTooLargeError);
    expect(requests).toBe(1);
  });
});

describe('toConnectionError (endpoint with user info)', () => {
  it('should not repeat the password of the URL in the message or the cause', () => {
    const url = 'http://svc:pw@127.0.0.1:1/x';
    const error = toConnectionError({ method: 'GET', url }, coded('ECONNREFUSED', `request to ${url} failed, reason: connect ECONNREFUSED 127.0.0.1:1`), false);
    expect(error.message).toBe('GET http://[redacted]@127.0.0.1:1/x: connection refused (ECONNREFUSED)');
    expect(inspect(error, { depth: 5 })).not.toContain('svc:pw');
  });
});

/**
 * What the transports built on sockets share (fetchTransport on cross-fetch, and
 * nodeHttpTransport on node:http): how a network failure becomes a {@link ConnectionError},
 * whether it may have delivered the request, and the keep-alive agent settings. One copy,
 * so both transports classify and word a failure the same way.
 */
import type * as http from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionError, ResponseTooLargeError } from './errors';
import type { TransportRequest } from './transport';

// Failures that happen before a connection exists: no byte of the request can have been
// sent, so even a submit is safe to send again.
const NOT_SENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The system error codes found on an error and its causes (node:http and node-fetch put them on the error, undici on `cause`). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const codes: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') codes.push(code);
  codes.push(...errorCodes(cause, depth + 1));
  if (Array.isArray(errors)) for (const inner of errors) codes.push(...errorCodes(inner, depth + 1));
  return codes;
}

/**
 * Tells whether a failed request may have been delivered: false only when the failure is
 * one of the "could not connect" codes and no response had started.
 *
 * Example: `mayHaveReachedServer(econnrefused, false)` → `false`
 *
 * @param error what the request (or reading the body) failed with
 * @param responseStarted true when the status line had already arrived
 */
export function mayHaveReachedServer(error: unknown, responseStarted: boolean): boolean {
  if (responseStarted) return true;
  const codes = errorCodes(error);
  return !(codes.length > 0 && codes.every((code) => NOT_SENT_CODES.has(code)));
}

// What a person reads instead of Node's syscall text (`connect ECONNREFUSED 127.0.0.1:1`).
const CODE_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed while sending',
};

/**
 * Why a request failed, without the URL: the message already starts with it, and node-fetch
 * repeats it (`request to URL failed, reason: …`).
 */
function describeFailure(error: unknown): string {
  // Duck-typed: Node's own fetch throws errors of another realm under test runners.
  const { message: text, name } = (typeof error === 'object' && error !== null ? error : {}) as { message?: unknown; name?: unknown };
  if (typeof text !== 'string') return String(error);
  const code = errorCodes(error)[0];
  const message = (text || (typeof name === 'string' ? name : 'error')).replace(/^request to \S+ failed, reason: /, '');
  // Bare syscall text or a generic wrapper ("fetch failed") says nothing beyond its code.
  const generic = /^(?:(?:connect|read|write|getaddrinfo|socket) )?E[A-Z_]+\b/.test(message) || message === 'fetch failed';
  if (code !== undefined && generic && CODE_TEXT[code] !== undefined) return `${CODE_TEXT[code]} (${code})`;
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}

/**
 * The {@link ConnectionError} for a request that failed on the network: `METHOD URL: why`,
 * the original error as `cause`, and whether it may have reached the server.
 *
 * Example: `toConnectionError({ method: 'GET', url, headers }, econnrefused, false).message`
 * → `GET http://127.0.0.1:1/x: connection refused (ECONNREFUSED)`
 *
 * @param request the request that failed (only its method and URL are used: never a header)
 * @param error what the request (or reading the body) failed with
 * @param responseStarted true when the status line had already arrived
 */
export function toConnectionError(request: Pick<TransportRequest, 'method' | 'url'>, error: unknown, responseStarted: boolean): ConnectionError {
  return new ConnectionError(`${request.method} ${request.url}: ${describeFailure(error)}`, {
    cause: error,
    mayHaveReachedServer: mayHaveReachedServer(error, responseStarted),
  });
}

/**
 * The error a transport fails a request with: a {@link ResponseTooLargeError} when the body
 * could not be made into a string (Node's `ERR_STRING_TOO_LONG`, here or from a fetch's own
 * `text()`), else the {@link ConnectionError} of {@link toConnectionError}.
 *
 * Example: `toTransportError(request, error, true, 629_145_600)`
 *
 * @param request the request that failed (only its method and URL are used: never a header)
 * @param error what the request (or reading the body) failed with
 * @param responseStarted true when the status line had already arrived
 * @param bytes the body's length, when known
 */
export function toTransportError(
  request: Pick<TransportRequest, 'method' | 'url'>,
  error: unknown,
  responseStarted: boolean,
  bytes?: number,
): ConnectionError | ResponseTooLargeError {
  if (error instanceof ResponseTooLargeError) return error;
  if (errorCodes(error).includes('ERR_STRING_TOO_LONG')) return new ResponseTooLargeError({ method: request.method, url: request.url, bytes, cause: error });
  return toConnectionError(request, error, responseStarted);
}

/**
 * A body's bytes as UTF-8 text, or a {@link ResponseTooLargeError} thrown when they make more
 * characters than one string holds (a results store over ~512 MB).
 *
 * Example: `bodyText(request, Buffer.from('[]'))` → `'[]'`
 *
 * @param request the request the body answers (for the error's message)
 * @param bytes the body
 */
export function bodyText(request: Pick<TransportRequest, 'method' | 'url'>, bytes: Buffer): string {
  try {
    return bytes.toString('utf8');
  } catch (error) {
    throw toTransportError(request, error, true, bytes.length);
  }
}

/** The error a response whose connection closed before its body was complete fails with. */
export function incompleteBodyError(): Error & { code: string } {
  return Object.assign(new Error('connection closed before the response body was complete'), { code: 'ECONNRESET' });
}

/**
 * How long an idle keep-alive socket may wait for reuse by default: well under the 5 s
 * keep-alive timeout of Node, Apache and uvicorn servers. Reusing a socket the server is
 * closing at that moment fails the request with ECONNRESET / "socket hang up", and for a
 * submit that counts as possibly delivered, so the batch is not sent again.
 */
export const FREE_SOCKET_TIMEOUT_MS = 3000;

/**
 * The idle timeout a transport was given, checked when the transport is made.
 *
 * Example: `freeSocketTimeout(undefined)` → `3000`
 *
 * @param ms the `freeSocketTimeoutMs` option, if any
 */
export function freeSocketTimeout(ms: number = FREE_SOCKET_TIMEOUT_MS): number {
  if (!(Number.isFinite(ms) && ms > 0)) throw new TypeError(`freeSocketTimeoutMs must be a positive number of milliseconds, not ${String(ms)}`);
  return ms;
}

/**
 * How many connections a default agent opens to one host at most. A burst of requests (1,000
 * batches submitted at once, then their polls) then queues for warm sockets instead of
 * opening a connection each: measured on loopback, 1,000 submits at once cost the client
 * ~30 % less CPU with 64 sockets than with a socket each, and the server accepts 64
 * connections instead of 1,000. Requests queued in the agent count against their time limit.
 */
export const MAX_SOCKETS = 64;

/**
 * The connection cap a transport was given, checked when the transport is made.
 *
 * Example: `maxSockets(undefined)` → `64`
 *
 * @param count the `maxSockets` option, if any
 */
export function maxSockets(count: number = MAX_SOCKETS): number {
  if (!(count === Infinity || (Number.isInteger(count) && count > 0))) throw new TypeError(`maxSockets must be a positive integer or Infinity, not ${String(count)}`);
  return count;
}

/**
 * A keep-alive agent whose idle sockets are never reused after `freeSocketTimeoutMs`, even
 * when its timers run late.
 *
 * Node 20's agent (lib/_http_agent.js) closes a free socket only from a timer: the agent's
 * `timeout`, shortened to the server's `Keep-Alive: timeout=N` hint minus 1 s (whole seconds,
 * and only when a `timeout` is set). `addRequest` then reuses any free socket not yet
 * destroyed. When the event loop is blocked (serializing a 5 MB chunk, say) that timer
 * fires late, after the next request has already been written to a socket the server
 * closed meanwhile. So the idle age is also measured by the clock when a request picks a
 * socket, against the same limit Node set on the socket (hint included).
 *
 * What no client setting prevents: a Node server whose own loop is blocked for seconds runs
 * its expired keep-alive timer before it reads a request that arrived meanwhile, and resets
 * the socket (only a longer server keepAliveTimeout helps there).
 *
 * Retrying such a failure instead would not be safe for a submit: an ECONNRESET on a reused
 * socket before any response byte can as well mean the server took the request and then
 * died, and a second submit would make a second batch.
 *
 * Example: `keepAliveAgent(http.Agent, 1000)`
 *
 * @param Agent `http.Agent` or `https.Agent`
 * @param freeSocketTimeoutMs the longest a socket stays idle and still gets a request
 * @param socketsPerHost the most connections open to one host at once (see {@link MAX_SOCKETS})
 */
export function keepAliveAgent<A extends http.Agent>(
  Agent: new (options: http.AgentOptions) => A,
  freeSocketTimeoutMs: number = FREE_SOCKET_TIMEOUT_MS,
  socketsPerHost: number = MAX_SOCKETS,
): A {
  freeSocketTimeout(freeSocketTimeoutMs);
  maxSockets(socketsPerHost);
  const agent = new Agent({ keepAlive: true, timeout: freeSocketTimeoutMs, maxSockets: socketsPerHost });
  const idleSince = new WeakMap<Socket, number>();
  // Runs after the agent's own 'free' listener, which put the socket in the pool and set
  // its timeout (the server's hint applied).
  agent.on('free', (socket: Socket) => idleSince.set(socket, performance.now()));
  const holder = agent as unknown as { addRequest: (this: A, ...args: unknown[]) => void };
  const addRequest = holder.addRequest;
  holder.addRequest = function addRequestSkippingStaleSockets(this: A, ...args: unknown[]) {
    const now = performance.now();
    // The agent takes the newest free socket of a pool (LIFO, the default scheduling of the
    // agents made here), so only that one has to be fresh: a stale or destroyed one is taken
    // out and destroyed, then the next newest looked at. A pool is in the order its sockets
    // became free, so everything under a fresh socket has been idle at least as long, but
    // needs no look until it is the one to be taken. Looking at every idle socket instead
    // cost each request time in proportion to the pool: with 1,000 batches in flight, 1,000.
    // Typed read-only in @types/node; the agent itself edits it the same way.
    const pools = this.freeSockets as Record<string, Socket[] | undefined>;
    for (const name in pools) {
      const pool = pools[name];
      if (pool === undefined) continue;
      while (pool.length > 0) {
        const socket = pool[pool.length - 1];
        const since = idleSince.get(socket);
        const limit = socket.timeout || freeSocketTimeoutMs;
        if (!socket.destroyed && (since === undefined || now - since < limit)) break;
        pool.pop();
        socket.destroy();
      }
      // As the agent itself leaves it: no empty pools.
      if (pool.length === 0) delete pools[name];
    }
    addRequest.apply(this, args);
  };
  return agent;
}

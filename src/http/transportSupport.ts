/**
 * What the transports built on sockets share (fetchTransport on cross-fetch, and
 * nodeHttpTransport on node:http): how a network failure becomes a {@link ConnectionError},
 * whether it may have delivered the request, and the keep-alive agent settings. One copy,
 * so both transports classify and word a failure the same way.
 */
import type * as http from 'node:http';
import { ConnectionError } from './errors';
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

/** The error a response whose connection closed before its body was complete fails with. */
export function incompleteBodyError(): Error & { code: string } {
  return Object.assign(new Error('connection closed before the response body was complete'), { code: 'ECONNRESET' });
}

/**
 * The settings of every agent the transports create, those of Node's global agent: sockets
 * kept alive, and an idle one closed after 5 s, no later than a Node server's default
 * keepAliveTimeout, so a socket the server is about to close is not picked for a request.
 */
export const AGENT_OPTIONS: Readonly<http.AgentOptions> = Object.freeze({ keepAlive: true, timeout: 5000 });

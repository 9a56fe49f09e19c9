/**
 * The production transport: one `fetch` per subscription, cancelled by unsubscribing,
 * with network failures turned into {@link ConnectionError}s that say whether the
 * request may have reached the server.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import crossFetch from 'cross-fetch';
import { Observable } from 'rxjs';
import { ConnectionError } from './errors';
import type { Transport, TransportRequest, TransportResponse } from './transport';

// Failures that happen before a connection exists: no byte of the request can have been
// sent, so even a submit is safe to send again.
const NOT_SENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The system error codes found on an error and its causes (node-fetch puts them on the error, undici on `cause`). */
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
 * Tells whether a failed fetch may have delivered the request: false only when the failure
 * is one of the "could not connect" codes and no response had started.
 *
 * Example: `mayHaveReachedServer(econnrefused, false)` → `false`
 *
 * @param error what fetch (or reading the body) rejected with
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
 * Why a fetch failed, without the URL: the message already starts with it, and node-fetch
 * repeats it (`request to URL failed, reason: …`).
 */
function describe(error: unknown): string {
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

type AddRequest = (this: http.Agent, request: http.ClientRequest, options: unknown) => void;

/**
 * node-fetch 2 never ends the body of a response whose connection closes before its
 * Content-Length was reached: `text()` would wait forever. Node marks such a response
 * incomplete; reporting that as an error of the request makes node-fetch fail the body.
 */
function failIncompleteBodies<A extends http.Agent>(agent: A): A {
  const holder = agent as unknown as { addRequest: AddRequest };
  const addRequest = holder.addRequest;
  holder.addRequest = function addRequestWatchingBody(this: http.Agent, request, options) {
    request.once('response', (response: http.IncomingMessage) => {
      response.once('close', () => {
        if (response.complete || request.listenerCount('error') === 0) return;
        const error = Object.assign(new Error('connection closed before the response body was complete'), { code: 'ECONNRESET' });
        request.emit('error', error);
      });
    });
    addRequest.call(this, request, options);
  };
  return agent;
}

// The same settings as Node's global agents, plus the incomplete-body check. Created on
// first use so that merely importing this module opens nothing.
let agents: { readonly http: http.Agent; readonly https: https.Agent } | undefined;
function agentFor(url: URL): http.Agent {
  agents ??= {
    http: failIncompleteBodies(new http.Agent({ keepAlive: true, timeout: 5000 })),
    https: failIncompleteBodies(new https.Agent({ keepAlive: true, timeout: 5000 })),
  };
  return url.protocol === 'https:' ? agents.https : agents.http;
}

/** A response's headers as a plain object with lower-case names. */
function lowerCaseHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

/**
 * A {@link Transport} on `fetch` (cross-fetch, i.e. node-fetch 2 on Node, by default).
 * Each subscription sends one request with its own AbortController and reads the body as
 * text; unsubscribing aborts it, even mid-download, and the abort is never reported as an
 * error. A body factory is streamed as a Node Readable, so large payloads are never held
 * as one string.
 *
 * ```
 * subscribe:     ^-----------------r|      (r = { status, headers, body })
 * unsubscribe:   ^------!                  (request aborted, nothing emitted)
 * ```
 *
 * Example: `createClient({ endpoint, apiKey, transport: fetchTransport() })`
 *
 * @param fetchImpl the fetch to use; cross-fetch's by default
 */
export function fetchTransport(fetchImpl: typeof globalThis.fetch = crossFetch): Transport {
  return (request: TransportRequest) =>
    new Observable<TransportResponse>((subscriber) => {
      const controller = new AbortController();
      let settled = false;
      let responseStarted = false;
      let bodyError: { readonly error: unknown } | undefined;

      let stream: Readable | undefined;
      if (typeof request.body === 'function') {
        stream = Readable.from(request.body());
        // Without a listener an 'error' event (our factory failing, or node-fetch destroying
        // the stream on abort) would crash the process.
        stream.on('error', (error: unknown) => {
          if (controller.signal.aborted || settled) return;
          bodyError = { error };
          controller.abort();
        });
      }
      const body = stream ?? request.body;

      const send = async (): Promise<TransportResponse> => {
        const init: RequestInit & { duplex?: 'half'; agent?: (url: URL) => http.Agent } = {
          method: request.method,
          // node-fetch's own option (other fetches ignore it): see failIncompleteBodies.
          agent: agentFor,
          headers: { ...request.headers },
          signal: controller.signal,
          // node-fetch 2 takes a Node Readable; Node's own fetch takes it as an async iterable with duplex 'half'.
          body: body as RequestInit['body'],
          ...(stream ? { duplex: 'half' as const } : {}),
        };
        const response = await fetchImpl(request.url, init);
        responseStarted = true;
        // Read inside the same cancellable scope: an unsubscribe mid-download aborts this too.
        const text = await response.text();
        return { status: response.status, headers: lowerCaseHeaders(response.headers), body: text };
      };

      send().then(
        (response) => {
          settled = true;
          subscriber.next(response);
          subscriber.complete();
        },
        (error: unknown) => {
          settled = true;
          if (bodyError) {
            subscriber.error(bodyError.error);
            return;
          }
          // Our own unsubscribe: the subscriber is gone and the AbortError is expected.
          if (controller.signal.aborted) return;
          subscriber.error(
            new ConnectionError(`${request.method} ${request.url}: ${describe(error)}`, {
              cause: error,
              mayHaveReachedServer: mayHaveReachedServer(error, responseStarted),
            }),
          );
        },
      );

      return () => {
        if (!settled) controller.abort();
        if (stream && !stream.destroyed) stream.destroy();
      };
    });
}

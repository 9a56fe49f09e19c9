/**
 * The production transport: one `fetch` per subscription, cancelled by unsubscribing,
 * with network failures turned into {@link ConnectionError}s that say whether the
 * request may have reached the server.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import crossFetch from 'cross-fetch';
import { Observable } from 'rxjs';
import { PREALLOCATE_FROM_BYTES, readBodyText } from './readBodyText';
import type { Transport, TransportRequest, TransportResponse } from './transport';
import { bodyText, freeSocketTimeout, incompleteBodyError, keepAliveAgent, toTransportError } from './transportSupport';

/** Options of {@link fetchTransport}. */
export interface FetchTransportOptions {
  /**
   * The longest an idle keep-alive socket is reused, in ms (3000 by default): lower it for a
   * server whose keep-alive timeout is shorter and that does not announce it.
   */
  readonly freeSocketTimeoutMs?: number;
}

type AddRequest = (this: http.Agent, request: http.ClientRequest, options: unknown) => void;

/** Where a subscription learns which ClientRequest node-fetch made for it (see {@link fetchTransport}). */
interface RequestClaim {
  request?: http.ClientRequest;
  /** The response to that request, once its head arrived. */
  response?: http.IncomingMessage;
}

// Set by a subscription's agent function just before node-fetch calls http.request with the
// agent it returned; taken by that request's addRequest, in the same synchronous call.
let pendingClaim: RequestClaim | undefined;

/**
 * node-fetch 2 never ends the body of a response whose connection closes before its
 * Content-Length was reached: `text()` would wait forever. Node marks such a response
 * incomplete; reporting that as an error of the request makes node-fetch fail the body.
 */
function failIncompleteBodies<A extends http.Agent>(agent: A): A {
  const holder = agent as unknown as { addRequest: AddRequest };
  const addRequest = holder.addRequest;
  holder.addRequest = function addRequestWatchingBody(this: http.Agent, request, options) {
    const claim = pendingClaim;
    if (claim) {
      claim.request = request;
      pendingClaim = undefined;
    }
    request.once('response', (response: http.IncomingMessage) => {
      if (claim) claim.response = response;
      response.once('close', () => {
        if (response.complete || request.listenerCount('error') === 0) return;
        request.emit('error', incompleteBodyError());
      });
    });
    addRequest.call(this, request, options);
  };
  return agent;
}

// Keep-alive agents (see keepAliveAgent) plus the incomplete-body check, one pair per idle
// timeout. Created on first use so that merely importing this module opens nothing.
const agentPairs = new Map<number, { readonly http: http.Agent; readonly https: https.Agent }>();
function agentsFor(freeSocketTimeoutMs: number): (url: URL) => http.Agent {
  let agents = agentPairs.get(freeSocketTimeoutMs);
  return (url: URL): http.Agent => {
    if (agents === undefined) {
      agents = {
        // No cap on connections here (nodeHttpTransport has one): node-fetch 2 takes a socket
        // handed from one response straight to a queued request for a broken chunked body and
        // fails it with "Premature close" (node-fetch#1767; reproduced with 12 requests on 3
        // sockets to a server answering in chunks).
        http: failIncompleteBodies(keepAliveAgent(http.Agent, freeSocketTimeoutMs, Infinity)),
        https: failIncompleteBodies(keepAliveAgent(https.Agent, freeSocketTimeoutMs, Infinity)),
      };
      agentPairs.set(freeSocketTimeoutMs, agents);
    }
    return url.protocol === 'https:' ? agents.https : agents.http;
  };
}

/**
 * A response's headers as a plain object with lower-case names, values of a repeated
 * header joined by ", " (what `get` answers). node-fetch's `raw()` when there is one: its
 * `forEach` sorts and looks up every name again after each entry, ~12 µs of a poll.
 */
function lowerCaseHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  const { raw } = headers as Headers & { raw?: () => Record<string, string[]> };
  if (typeof raw === 'function') {
    const all = raw.call(headers);
    for (const name of Object.keys(all)) out[name.toLowerCase()] = all[name].join(', ');
    return out;
  }
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

/**
 * The headers of a node-fetch response as {@link lowerCaseHeaders} gives them, taken from the
 * IncomingMessage node-fetch built them from: Node's names are lower-case already and only
 * Set-Cookie is an array, so no copy on the common path. node-fetch rewrites the Location of
 * a redirect it does not follow to an absolute URL: those are read from its Headers.
 */
function nodeHeaders(message: http.IncomingMessage, response: Response): Record<string, string> {
  const { headers } = message;
  if (response.status >= 300 && response.status < 400 && headers.location !== undefined) return lowerCaseHeaders(response.headers);
  const cookies = headers['set-cookie'];
  if (cookies === undefined) return headers as Record<string, string>;
  return { ...(headers as Record<string, string>), 'set-cookie': cookies.join(', ') };
}

/**
 * Reads a node-fetch body stream (already decoded) to its end as UTF-8 text, as its `text()`
 * does, without the promises around it. node-fetch fails the stream with the request's
 * error, which may have happened before this read began.
 */
function readNodeBody(body: Readable, done: (bytes: Buffer) => void, failed: (error: unknown) => void): void {
  if (body.destroyed) {
    failed(body.errored ?? incompleteBodyError());
    return;
  }
  // A small answer (every poll) has usually arrived whole, and node-fetch's stream has ended
  // its writing side, before the response is handed over: take it at once, without the
  // ticks and events of a flowing read.
  if ((body as Duplex).writableFinished === true) {
    const whole = body.read() as Buffer | null;
    done(whole === null ? EMPTY : whole);
    return;
  }
  const chunks: Buffer[] = [];
  body.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
  });
  body.once('end', () => done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
  body.once('error', failed);
}

const EMPTY = Buffer.alloc(0);

/**
 * A {@link Transport} on `fetch` (cross-fetch, i.e. node-fetch 2 on Node, by default).
 * Each subscription sends one request (cancelled by destroying node-fetch's ClientRequest,
 * or through an AbortSignal for any other fetch) and reads the body as
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
 * @param options how long idle sockets are reused
 */
export function fetchTransport(fetchImpl: typeof globalThis.fetch = crossFetch, options: FetchTransportOptions = {}): Transport {
  const freeSocketTimeoutMs = freeSocketTimeout(options.freeSocketTimeoutMs);
  const agentFor = agentsFor(freeSocketTimeoutMs);
  // node-fetch (cross-fetch's fetch on Node) makes its ClientRequest through our agent, in the
  // fetch call itself, so a subscription can abort by destroying that request: no
  // AbortController, whose listener node-fetch adds and removes on every request (~45 µs CPU
  // of a ~590 µs poll over loopback). Any other fetch gets a signal.
  let claimable = fetchImpl === crossFetch;
  return (request: TransportRequest) =>
    new Observable<TransportResponse>((subscriber) => {
      const controller = claimable ? undefined : new AbortController();
      const claim: RequestClaim = {};
      let aborted = false;
      let settled = false;
      let responseStarted = false;
      let bodyError: { readonly error: unknown } | undefined;
      const abort = (): void => {
        aborted = true;
        if (controller) controller.abort();
        else claim.request?.destroy();
      };

      let stream: Readable | undefined;
      if (typeof request.body === 'function') {
        stream = Readable.from(request.body());
        // Without a listener an 'error' event (our factory failing, or node-fetch destroying
        // the stream on abort) would crash the process.
        stream.on('error', (error: unknown) => {
          if (aborted || settled) return;
          bodyError = { error };
          abort();
        });
      }

      const succeed = (response: TransportResponse): void => {
        if (settled) return;
        settled = true;
        subscriber.next(response);
        subscriber.complete();
      };
      // The announced length of a body read by readBodyText, for a ResponseTooLargeError's message.
      let bodyBytes: number | undefined;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        if (bodyError) {
          subscriber.error(bodyError.error);
          return;
        }
        // Our own unsubscribe: the subscriber is gone and the error of the abort is expected.
        if (aborted) return;
        subscriber.error(toTransportError(request, error, responseStarted, bodyBytes));
      };
      const onResponse = (response: Response): void => {
        responseStarted = true;
        // An answer without a claimed request: not node-fetch after all. Later requests get a signal.
        if (!controller && claim.request === undefined) claimable = false;
        const { response: message } = claim;
        const body: unknown = response.body;
        // node-fetch's body is a Node stream (decoded already): read directly, without text()'s
        // promises, and the headers as Node parsed them (see nodeHeaders).
        if (message !== undefined && body instanceof Readable) {
          const headers = nodeHeaders(message, response);
          const done = (text: string): void => succeed({ status: response.status, headers, body: text });
          // A large body with an announced length (a results store) is copied into one buffer
          // as it arrives: gathering chunks to join at the end left twice its size to collect.
          const length = Number(headers['content-length']);
          if (length >= PREALLOCATE_FROM_BYTES) {
            bodyBytes = length;
            readBodyText(response, headers).then(done, fail);
            return;
          }
          readNodeBody(
            body,
            (bytes) => {
              let text: string;
              try {
                text = bodyText(request, bytes);
              } catch (error) {
                // Thrown from an event handler it would take the process down.
                fail(error);
                return;
              }
              done(text);
            },
            fail,
          );
          return;
        }
        // Read inside the same cancellable scope: an unsubscribe mid-download aborts this too.
        response.text().then((text) => succeed({ status: response.status, headers: lowerCaseHeaders(response.headers), body: text }), fail);
      };

      // node-fetch's own option (other fetches ignore it): see failIncompleteBodies. Called by
      // node-fetch for this request (and for each redirect it follows) right before
      // http.request: the request that the agent then sees is this subscription's.
      const agent = controller
        ? agentFor
        : (url: URL): http.Agent => {
            pendingClaim = claim;
            return agentFor(url);
          };
      const init: RequestInit & { duplex?: 'half'; agent?: (url: URL) => http.Agent } = {
        method: request.method,
        agent,
        // Not copied: every fetch copies them into its own Headers and never writes to ours.
        headers: request.headers as Record<string, string>,
      };
      if (controller) init.signal = controller.signal;
      if (request.body !== undefined) {
        // node-fetch 2 takes a Node Readable; Node's own fetch takes it as an async iterable with duplex 'half'.
        init.body = (stream ?? request.body) as RequestInit['body'];
        if (stream) init.duplex = 'half';
        // fetch would follow a 302/303 of a submit as a GET without the body and answer with
        // that GET's result (or fail on a streamed body): the 3xx itself reaches the client,
        // an ApiError, as nodeHttpTransport reports it. GETs still follow: they carry
        // nothing to lose, the same read answers at the new place, and a gateway that
        // redirects reads keeps working for users of the default transport.
        init.redirect = 'manual';
      }
      let pending: Promise<Response>;
      try {
        pending = fetchImpl(request.url, init);
      } catch (error) {
        // A fetch that throws instead of rejecting: the same failure.
        pending = Promise.reject(error);
      }
      // A request Node refused before it reached the agent leaves the claim unused: drop it.
      if (pendingClaim === claim) pendingClaim = undefined;
      // A throw inside onResponse fails this request too (as the async function this replaced
      // did), rather than becoming an unhandled rejection with the subscriber left waiting.
      pending.then(onResponse).catch(fail);

      return () => {
        if (!settled) abort();
        if (stream && !stream.destroyed) stream.destroy();
      };
    });
}

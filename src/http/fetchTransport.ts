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
import { readBodyText } from './readBodyText';
import type { Transport, TransportRequest, TransportResponse } from './transport';
import { freeSocketTimeout, incompleteBodyError, keepAliveAgent, toConnectionError } from './transportSupport';

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
    if (pendingClaim) {
      pendingClaim.request = request;
      pendingClaim = undefined;
    }
    request.once('response', (response: http.IncomingMessage) => {
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
        http: failIncompleteBodies(keepAliveAgent(http.Agent, freeSocketTimeoutMs)),
        https: failIncompleteBodies(keepAliveAgent(https.Agent, freeSocketTimeoutMs)),
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
      const body = stream ?? request.body;
      // Called by node-fetch for this request (and for each redirect it follows) right before
      // http.request: the request that the agent then sees is this subscription's.
      const claimingAgent = (url: URL): http.Agent => {
        pendingClaim = claim;
        return agentFor(url);
      };

      const send = async (): Promise<TransportResponse> => {
        const init: RequestInit & { duplex?: 'half'; agent?: (url: URL) => http.Agent } = {
          method: request.method,
          // node-fetch's own option (other fetches ignore it): see failIncompleteBodies.
          agent: controller ? agentFor : claimingAgent,
          // Not copied: every fetch copies them into its own Headers and never writes to ours.
          headers: request.headers as Record<string, string>,
          ...(controller ? { signal: controller.signal } : {}),
          // node-fetch 2 takes a Node Readable; Node's own fetch takes it as an async iterable with duplex 'half'.
          body: body as RequestInit['body'],
          ...(stream ? { duplex: 'half' as const } : {}),
          // fetch would follow a 302/303 of a submit as a GET without the body and answer with
          // that GET's result (or fail on a streamed body): the 3xx itself reaches the client,
          // an ApiError, as nodeHttpTransport reports it. GETs still follow: they carry
          // nothing to lose, the same read answers at the new place, and a gateway that
          // redirects reads keeps working for users of the default transport.
          ...(request.body !== undefined ? { redirect: 'manual' as const } : {}),
        };
        const pending = fetchImpl(request.url, init);
        // A request Node refused before it reached the agent leaves the claim unused: drop it.
        if (pendingClaim === claim) pendingClaim = undefined;
        const response = await pending;
        responseStarted = true;
        // An answer without a claimed request: not node-fetch after all. Later requests get a signal.
        if (!controller && claim.request === undefined) claimable = false;
        const headers = lowerCaseHeaders(response.headers);
        // Read inside the same cancellable scope: an unsubscribe mid-download aborts this too.
        // readBodyText relies on node-fetch 2's handling of a failed body: cross-fetch's only.
        const text = fetchImpl === crossFetch ? await readBodyText(response, headers) : await response.text();
        return { status: response.status, headers, body: text };
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
          // Our own unsubscribe: the subscriber is gone and the error of the abort is expected.
          if (aborted) return;
          subscriber.error(toConnectionError(request, error, responseStarted));
        },
      );

      return () => {
        if (!settled) abort();
        if (stream && !stream.destroyed) stream.destroy();
      };
    });
}

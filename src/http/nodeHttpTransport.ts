/**
 * An opt-in transport on Node's own `http`/`https` modules: what {@link fetchTransport} does,
 * without node-fetch's Request/Headers/stream layers around every request.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { Observable } from 'rxjs';
import type { Transport, TransportRequest, TransportResponse } from './transport';
import { bodyText, freeSocketTimeout, incompleteBodyError, keepAliveAgent, maxSockets, toConnectionError, toTransportError } from './transportSupport';

/** Options of {@link nodeHttpTransport}. */
export interface NodeHttpTransportOptions {
  /** The agent of `http:` URLs; by default one keep-alive agent shared by every nodeHttpTransport. */
  readonly httpAgent?: http.Agent;
  /** The agent of `https:` URLs; by default one keep-alive agent shared by every nodeHttpTransport. */
  readonly httpsAgent?: https.Agent;
  /**
   * The longest an idle socket of the default agents is reused, in ms (3000 by default):
   * lower it for a server whose keep-alive timeout is shorter and that does not announce it.
   */
  readonly freeSocketTimeoutMs?: number;
  /** The most connections the default agents open to one host at once (64 by default; `Infinity` for no cap): further requests wait for a free one. */
  readonly maxSockets?: number;
}

// One pair per idle timeout and connection cap, created on first use so that merely importing this module opens nothing.
const defaultAgents = new Map<string, { readonly http: http.Agent; readonly https: https.Agent }>();

// What node-fetch (the default transport) sends when the request does not say: the same
// server sees the same request from either transport. The request's own headers win,
// whatever their case (Node's setHeader is case-insensitive and the later one stays).
const DEFAULT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  accept: '*/*',
  'accept-encoding': 'gzip, deflate',
  'user-agent': 'c9-batch-rx (node:http)',
});

// Lenient like node-fetch: a compressed body cut short yields what arrived, as curl does.
const ZLIB_OPTIONS: zlib.ZlibOptions = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };

/** The decoder of a response's Content-Encoding, or undefined when its bytes are the body. */
function decoderFor(method: string, response: http.IncomingMessage): zlib.Gunzip | zlib.Unzip | zlib.BrotliDecompress | undefined {
  const coding = response.headers['content-encoding']?.trim().toLowerCase();
  if (coding === undefined || method === 'HEAD' || response.statusCode === 204 || response.statusCode === 304) return undefined;
  // Unzip tells gzip from zlib-wrapped deflate by their headers.
  if (coding === 'gzip' || coding === 'x-gzip' || coding === 'deflate' || coding === 'x-deflate') return zlib.createUnzip(ZLIB_OPTIONS);
  if (coding === 'br') return zlib.createBrotliDecompress();
  return undefined;
}

/** A response's headers as the transport answers them: a repeated Set-Cookie joined by ", " like fetch's `get`. */
function plainHeaders(headers: http.IncomingHttpHeaders): Readonly<Record<string, string>> {
  const cookies = headers['set-cookie'];
  // Node's names are already lower-case and every other value a string: no copy on the common path.
  if (cookies === undefined) return headers as Record<string, string>;
  return { ...(headers as Record<string, string>), 'set-cookie': cookies.join(', ') };
}

/**
 * A {@link Transport} on `node:http`/`node:https`, for when the client's own CPU matters:
 * many batches polled at once, or a busy process. It keeps {@link fetchTransport}'s
 * behaviour: one request per subscription over keep-alive agents, unsubscribing aborts it
 * even mid-download and is never reported as an error, a body cut short fails instead of
 * hanging, network failures become {@link ConnectionError}s that say whether the request
 * may have reached the server, a body factory is streamed (chunked) and its own error is
 * the request's, gzip/deflate/br bodies are decoded. It does not follow redirects: a 3xx
 * reaches the client as an unexpected status.
 *
 * ```
 * subscribe:     ^-----------------r|      (r = { status, headers, body })
 * unsubscribe:   ^------!                  (request aborted, nothing emitted)
 * ```
 *
 * Example: `createClient({ endpoint, apiKey, transport: nodeHttpTransport() })`
 *
 * @param options the agents to use instead of the shared keep-alive ones, or how long those reuse an idle socket and how many they open to a host
 */
export function nodeHttpTransport(options: NodeHttpTransportOptions = {}): Transport {
  const { httpAgent, httpsAgent } = options;
  const freeSocketTimeoutMs = freeSocketTimeout(options.freeSocketTimeoutMs);
  const socketsPerHost = maxSockets(options.maxSockets);
  const key = `${freeSocketTimeoutMs}/${socketsPerHost}`;
  const shared = (): { readonly http: http.Agent; readonly https: https.Agent } => {
    let agents = defaultAgents.get(key);
    if (agents === undefined) {
      agents = { http: keepAliveAgent(http.Agent, freeSocketTimeoutMs, socketsPerHost), https: keepAliveAgent(https.Agent, freeSocketTimeoutMs, socketsPerHost) };
      defaultAgents.set(key, agents);
    }
    return agents;
  };
  return (request: TransportRequest) =>
    new Observable<TransportResponse>((subscriber) => {
      // True once the subscriber got its answer or error, or left: nothing after counts.
      let done = false;
      let responseStarted = false;
      let req: http.ClientRequest | undefined;
      let source: Readable | undefined;
      let decoder: zlib.Gunzip | zlib.Unzip | zlib.BrotliDecompress | undefined;

      const stop = (): void => {
        req?.destroy();
        decoder?.destroy();
        if (source && !source.destroyed) source.destroy();
      };
      const fail = (error: unknown): void => {
        if (done) return;
        done = true;
        stop();
        subscriber.error(error);
      };
      const failOnNetwork = (error: unknown): void => fail(toTransportError(request, error, responseStarted));

      const onResponse = (res: http.IncomingMessage): void => {
        responseStarted = true;
        const chunks: Buffer[] = [];
        const onData = (chunk: Buffer): void => {
          chunks.push(chunk);
        };
        const onEnd = (): void => {
          if (done) return;
          let body: string;
          try {
            body = bodyText(request, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
          } catch (error) {
            // Thrown from an event handler it would take the process down.
            failOnNetwork(error);
            return;
          }
          done = true;
          subscriber.next({ status: res.statusCode ?? 0, headers: plainHeaders(res.headers), body });
          subscriber.complete();
        };
        // Node ends nothing when the connection closes before Content-Length was reached:
        // without this the body would wait forever. Checked on 'close', after any 'end'.
        res.on('close', () => {
          if (!res.complete) failOnNetwork(incompleteBodyError());
        });
        res.on('error', () => failOnNetwork(incompleteBodyError()));
        try {
          decoder = decoderFor(request.method, res);
        } catch (error) {
          failOnNetwork(error);
          return;
        }
        if (decoder) {
          decoder.on('data', onData);
          decoder.on('end', onEnd);
          decoder.on('error', failOnNetwork);
          res.pipe(decoder);
        } else {
          res.on('data', onData);
          res.on('end', onEnd);
        }
      };

      try {
        const url = new URL(request.url);
        const secure = url.protocol === 'https:';
        if (!secure && url.protocol !== 'http:') throw new TypeError(`only http: and https: URLs are supported, not ${url.protocol}`);
        const agent = secure ? (httpsAgent ?? shared().https) : (httpAgent ?? shared().http);
        const init: http.RequestOptions = { method: request.method, agent, headers: { ...DEFAULT_HEADERS, ...request.headers } };
        req = (secure ? https : http).request(url, init, onResponse);
      } catch (error) {
        // A URL or header Node refuses: nothing was sent.
        fail(toConnectionError(request, error, false));
        return undefined;
      }
      // Also after an abort: a destroyed request reports "socket hang up", which must not crash the process.
      req.on('error', failOnNetwork);

      const { body } = request;
      if (typeof body === 'function') {
        source = Readable.from(body());
        // The factory's own failure is the request's error, as fetchTransport reports it.
        source.on('error', fail);
        source.pipe(req);
      } else {
        req.end(body);
      }

      return () => {
        if (done) return;
        done = true;
        stop();
      };
    });
}

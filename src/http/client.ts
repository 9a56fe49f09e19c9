/**
 * The API client: one object per endpoint and key, exposing each endpoint as a function
 * that returns an Observable. Nothing is sent until subscription; unsubscribing aborts.
 */
import * as t from 'io-ts';
import { Observable, asyncScheduler, map } from 'rxjs';
import type { SchedulerLike, Subscriber, Subscription, TeardownLogic } from 'rxjs';
import {
  AccountResults,
  BatchAccepted,
  BatchStatus,
  HealthcheckEntries,
  PROCESSING_MODES,
  SyncResponse,
  decodeOrThrow,
} from '../codecs';
import type { AccountResult, PortfolioRequest, ProcessingMode } from '../codecs';
import { endpoints, normalizeEndpoint } from './endpoints';
import type { EndpointRoute } from './endpoints';
import { InvalidResponseError, RateLimitError, ResponseTimeoutError, makeApiError } from './errors';
import { fetchTransport } from './fetchTransport';
import { registerSecret } from './redact';
import { scanAccountRows } from './scanAccountRows';
import { createThrottle, parseRetryAfter, resolveRetryPolicy, subscribeWithRetry } from './retry';
import type { RetryConfig } from './retry';
import { isStreamedPortfolio, serializePayload, serializeStreamedPayload } from './serializePayload';
import type { StreamedPortfolioRequest } from './serializePayload';
import type { RequestBody, Transport, TransportRequest, TransportResponse } from './transport';

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Base URL of the API, e.g. `https://your-endpoint.example` or the emulator's URL. */
  readonly endpoint: string;
  /** The API key (`sk-…`), sent as `Authorization: Bearer`; never logged or shown. */
  readonly apiKey: string;
  /** A fetch implementation; cross-fetch by default. Ignored when `transport` is given. */
  readonly fetch?: typeof globalThis.fetch;
  /** The transport; by default one built on `fetch`. Tests inject one that returns `cold(...)` observables. */
  readonly transport?: Transport;
  /** The retry policy shared by every request of this client. */
  readonly retry?: RetryConfig;
  /**
   * Longest wait for one answer to a GET or a synchronous calculation, per attempt, in ms:
   * a server that accepts and never answers must not hang a caller. Default 60 000.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Longest wait for the answer to one batch submit, in ms, body upload included (a large
   * portfolio on a slow link takes a while). A timed-out submit is not sent again. Default 600 000.
   */
  readonly submitTimeoutMs?: number;
  /** The scheduler for every wait (retries, throttle). Defaults to `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** `getBatchStatus` answers with the status and any polling hint the server sent. */
export interface BatchStatusResponse {
  readonly status: BatchStatus;
  /** The server's `Retry-After` on a 200, in ms: when it asks to be polled next. */
  readonly retryAfterMs: number | undefined;
}

/** Options of {@link C9Client.getAccountResults}. */
export interface AccountResultsQuery {
  /**
   * Keep only these accounts' rows and the sub-account rows whose parent row is kept.
   * Filtering happens before decoding, so a large live store costs little more than its parse.
   * The set is read when the answer arrives: accounts added while the request is in flight
   * are kept too (the results fetcher adds the batches that finish meanwhile).
   */
  readonly accountCodes?: ReadonlySet<string>;
}

/**
 * The API, one method per endpoint. Every method is cold and cancellable, and each
 * subscription emits exactly one answer and completes at it (or errors): operators such as
 * {@link pollUntilTerminal} rely on that, so a hand-written implementation must keep it.
 */
export interface C9Client {
  /** The base URL (never the key). */
  readonly endpoint: string;
  /**
   * `POST /portfolios/batch` → the new batch's id. A {@link StreamedPortfolioRequest} (e.g. from
   * `openPortfolio`) is written as it is read, and read again for a retried attempt.
   */
  submitBatch(payload: PortfolioRequest | StreamedPortfolioRequest, options?: { readonly processingMode?: ProcessingMode }): Observable<BatchAccepted>;
  /** `GET /portfolios/batch/{id}` → its status. The id is validated before it is put in the URL. */
  getBatchStatus(batchId: string): Observable<BatchStatusResponse>;
  /** `GET /results/accounts` → the caller's live rows (optionally only some accounts'). */
  getAccountResults(query?: AccountResultsQuery): Observable<AccountResult[]>;
  /** `POST /portfolios` → synchronous result (at most 100 accounts). */
  calculate(payload: PortfolioRequest): Observable<SyncResponse>;
  /** `GET /results?request_id=` → the result of an async `POST /portfolios`. */
  getResults(requestId: string): Observable<SyncResponse>;
  /** `GET /healthcheck/analytics-engine`. */
  healthcheck(): Observable<HealthcheckEntries>;
}

/** Positions above which a submit body is streamed in chunks instead of sent as one string (about 1 MB). */
export const STREAM_BODY_POSITIONS = 2000;

const JSON_CONTENT = 'application/json';

/** A parsed answer and its headers, as the methods receive it. */
export interface ParsedResponse {
  readonly json: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

/** What one request needs besides its route. */
interface SendOptions {
  readonly headers?: Record<string, string>;
  readonly body?: () => RequestBody;
  readonly idempotent: boolean;
  readonly timeoutMs?: number;
  /** Reads the answer instead of {@link parseResponse}, which it must fall back to for anything it does not handle itself. */
  readonly parse?: (response: TransportResponse, context: RequestContext) => unknown;
}

/** Where the answer came from, for error messages. */
export interface RequestContext {
  readonly method: string;
  readonly path: string;
  readonly nowMs: number;
}

/** The server's request id, under whichever header name the server or its proxy uses. */
function requestIdOf(headers: Readonly<Record<string, string>>): string | undefined {
  return headers['x-request-id'] ?? headers['x-amzn-requestid'] ?? headers['request-id'];
}

/**
 * Turns a transport response into parsed JSON or the error it stands for: a non-2xx status
 * becomes the matching {@link ApiError}, a 2xx body that is not JSON an {@link InvalidResponseError}.
 *
 * Example: `parseResponse({ status: 200, headers: {}, body: '{"a":1}' }, ctx)` → `{ a: 1 }`
 *
 * @param response what the transport answered
 * @param context the request's method and path (for messages) and the scheduler's clock (for Retry-After)
 */
export function parseResponse(response: TransportResponse, context: RequestContext): unknown {
  const { status, headers } = response;
  const contentType = headers['content-type'];
  const requestId = requestIdOf(headers);
  if (status < 200 || status > 299) {
    throw makeApiError({
      status,
      method: context.method,
      path: context.path,
      requestId,
      contentType,
      body: response.body,
      retryAfterMs: parseRetryAfter(headers['retry-after'], context.nowMs),
    });
  }
  // Some servers and proxies prefix JSON with a byte order mark, which JSON.parse refuses.
  const body = response.body.charCodeAt(0) === 0xfeff ? response.body.slice(1) : response.body;
  if (body.trim() === '') {
    throw new InvalidResponseError({ status, contentType, body, requestId, reason: 'empty body', method: context.method, path: context.path });
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    const looksLikeHtml = /html/i.test(contentType ?? '') || /^\s*</.test(body);
    const reason = looksLikeHtml ? 'an HTML page' : 'malformed or truncated JSON';
    throw new InvalidResponseError({ status, contentType, body, requestId, reason, method: context.method, path: context.path });
  }
}

/** The optional fields of a batch status, where `null` means the same as absent. */
const BATCH_STATUS_NULLISH = ['queue_position', 'created_at', 'completed_at', 'runtime_ms', 'completed_pct', 'error'] as const;

/**
 * Sets the batch status fields that hold `null` to `undefined` in the freshly parsed JSON
 * (which nothing else holds), as their decoder would. A typical status carries
 * `completed_at: null`, which fails the codec's `is` and sends every poll down io-ts's
 * slow decode; with the nulls gone, the `is` fast path of decodeOrThrow takes it.
 * Anything else is left to decodeOrThrow.
 *
 * Example: `nullFieldsToUndefined({ status: 'queued', completed_at: null })` → `{ status: 'queued', completed_at: undefined }`
 *
 * @param json the parsed body of a `GET /portfolios/batch/{id}` answer
 */
function nullFieldsToUndefined(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const record = json as Record<string, unknown>;
  for (const key of BATCH_STATUS_NULLISH) {
    if (record[key] === null) record[key] = undefined;
  }
  return json;
}

/** Rows already picked by {@link scanAccountRows}: a class, so no parsed body can pass for it. */
class ScannedRows {
  constructor(readonly rows: unknown[]) {}
}

/**
 * Keeps the rows of the given accounts and the sub-account rows whose parent row is kept,
 * without decoding anything: the caller decodes only what survives.
 *
 * Example: `filterAccountRows(rows, new Set(['ACC1']))`
 *
 * @param rows the parsed `GET /results/accounts` array
 * @param accountCodes the submitted account codes
 */
export function filterAccountRows(rows: readonly unknown[], accountCodes: ReadonlySet<string>): unknown[] {
  // Plain loops over every row of the store (100,000 at times), each row's fields read once.
  // The portfolio ids of kept rows are collected only when the store has sub-account rows:
  // hashing one per row into a set was a third of this function's time on a store without.
  const keptByCode = new Uint8Array(rows.length);
  let anyParent = false;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (typeof row !== 'object' || row === null) continue;
    const { account_code: code, parent_portfolio_id: parent } = row as Record<string, unknown>;
    if (typeof parent === 'string') anyParent = true;
    if (typeof code === 'string' && accountCodes.has(code)) keptByCode[r] = 1;
  }
  const kept: unknown[] = [];
  if (!anyParent) {
    for (let r = 0; r < rows.length; r++) if (keptByCode[r] === 1) kept.push(rows[r]);
    return kept;
  }
  const keptIds = new Set<string>();
  for (let r = 0; r < rows.length; r++) {
    if (keptByCode[r] !== 1) continue;
    const id = (rows[r] as Record<string, unknown>).portfolio_id;
    if (typeof id === 'string') keptIds.add(id);
  }
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (keptByCode[r] === 1) kept.push(row);
    else if (typeof row === 'object' && row !== null) {
      const parent = (row as Record<string, unknown>).parent_portfolio_id;
      if (typeof parent === 'string' && keptIds.has(parent)) kept.push(row);
    }
  }
  return kept;
}

/** The options of every status request. */
const STATUS_REQUEST: SendOptions = Object.freeze({ idempotent: true });

/** What every attempt of one call shares: made once per call. */
interface CallPlan<T> {
  readonly method: EndpointRoute['method'];
  readonly path: string;
  readonly url: string;
  readonly timeoutMs: number;
  readonly extra: SendOptions;
  readonly decode: (parsed: ParsedResponse) => T;
}

/** An attempt as the throttle and the scheduler see it. */
interface AttemptLike {
  start(): TeardownLogic;
  timedOut(): void;
}

/** Starts an attempt once the throttle lets it through (a function, not a closure per attempt). */
const startAttempt = (attempt: AttemptLike): TeardownLogic => attempt.start();

/** The action of an attempt's response timeout; the attempt is its state. */
function attemptTimedOut(attempt?: AttemptLike): void {
  attempt?.timedOut();
}

/**
 * Makes the API client. Every method is cold: nothing is sent until subscription, each
 * subscription sends again, and unsubscribing aborts. Failures are retried per the one
 * policy ({@link subscribeWithRetry}); a 429 with `Retry-After` holds every request of this
 * client until then.
 *
 * Example:
 * ```ts
 * const client = createClient({ endpoint: 'https://api.example', apiKey: process.env.C9_API_SECRET! });
 * client.submitBatch(payload, { processingMode: 'priority' }).subscribe(({ batch_id }) => console.log(batch_id));
 * ```
 *
 * @param options endpoint, key, and optionally fetch/transport, retry policy and scheduler
 */
export function createClient(options: ClientOptions): C9Client {
  const { apiKey, retry: retryConfig = {}, requestTimeoutMs = 60_000, submitTimeoutMs = 600_000 } = options;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') throw new TypeError('apiKey must be a non-empty string');
  for (const [name, value] of [['requestTimeoutMs', requestTimeoutMs], ['submitTimeoutMs', submitTimeoutMs]] as const) {
    // A timer longer than 2^31-1 ms fires at once in Node, which would fail every request.
    if (typeof value !== 'number' || !(value > 0) || value > 2 ** 31 - 1) {
      throw new TypeError(`${name} must be a number of ms > 0 and <= 2147483647, got ${String(value)}`);
    }
  }
  registerSecret(apiKey);
  const endpoint = normalizeEndpoint(options.endpoint);
  const scheduler = options.scheduler ?? retryConfig.scheduler ?? asyncScheduler;
  const transport = options.transport ?? fetchTransport(options.fetch);
  const policy = { ...retryConfig, scheduler };
  // Made once here so an invalid policy fails at creation, not at the first request.
  const retryIdempotent = resolveRetryPolicy({ ...policy, idempotent: true });
  const retrySubmit = resolveRetryPolicy({ ...policy, idempotent: false });
  const { maxDelayMs } = retryIdempotent;
  const throttle = createThrottle(scheduler);
  const authorization = `Bearer ${apiKey}`;
  // The headers of a request without body or extra headers (every poll), made once: the
  // transport copies what it sends, never changes this object.
  const plainHeaders: Readonly<Record<string, string>> = Object.freeze({ authorization, accept: JSON_CONTENT });

  // Made once, not per poll.
  const decodeStatus = ({ json, headers }: ParsedResponse): BatchStatusResponse => {
    const retryAfter = headers['retry-after'];
    return {
      status: decodeOrThrow(BatchStatus, nullFieldsToUndefined(json), 'batch status'),
      // The clock is read only when there is a hint to read against it.
      retryAfterMs: retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, scheduler.now()),
    };
  };

  /** Sends one request (per subscription, per retry) and yields the parsed response. */
  function send(route: EndpointRoute, extra: SendOptions): Observable<ParsedResponse> {
    return sendDecoded(route, extra, (parsed) => parsed);
  }

  /**
   * {@link send} with the answer decoded inside the attempt rather than by a `map` after it:
   * one operator layer less on the path every status poll takes. A decode error is not
   * retryable, so the retry policy passes it on as it would have passed the `map`'s.
   */
  function sendDecoded<T>(route: EndpointRoute, extra: SendOptions, decode: (parsed: ParsedResponse) => T): Observable<T> {
    const { method, path } = route;
    const call: CallPlan<T> = {
      method,
      path,
      // Built once per call, not per attempt: `endpoint` is already normalized and every
      // route path starts with one '/', so this is what joinUrl would return.
      url: endpoint + path,
      timeoutMs: extra.timeoutMs ?? requestTimeoutMs,
      extra,
      decode,
    };
    // Written as one Observable instead of defer → timeout → map → tap, and its retries as a
    // loop inside it instead of a retry operator, because it runs on every poll: the operator
    // layers and the timer of an answer that came synchronously were most of the client's
    // CPU per poll. A 429's pause is waited out before each attempt (see createThrottle).
    const policy = extra.idempotent ? retryIdempotent : retrySubmit;
    return new Observable<T>((subscriber) =>
      subscribeWithRetry(subscriber, policy, (fail) => throttle.whenOpen(startAttempt, new Attempt(call, subscriber, fail))),
    );
  }

  /**
   * One attempt: the transport's answer parsed and decoded, with a time limit on the first
   * answer. One object that is the transport's observer, the timer's state and the teardown,
   * instead of a closure for each: it is made on every poll.
   */
  class Attempt<T> implements RequestContext {
    private answered = false;
    private done = false;
    private deadline: Subscription | undefined;
    private inner: Subscription | undefined;

    constructor(
      private readonly call: CallPlan<T>,
      private readonly subscriber: Subscriber<T>,
      private readonly failed: (error: unknown) => void,
    ) {}

    // The attempt is also the RequestContext of its answer: the clock is read only when an
    // error status needs it for Retry-After, not on every poll.
    get method(): string {
      return this.call.method;
    }

    get path(): string {
      return this.call.path;
    }

    get nowMs(): number {
      return scheduler.now();
    }

    start(): this {
      const { method, url, extra } = this.call;
      const body = extra.body?.();
      const request: TransportRequest =
        body === undefined && extra.headers === undefined
          ? { method, url, headers: plainHeaders }
          : {
              method,
              url,
              headers: {
                authorization,
                accept: JSON_CONTENT,
                ...(body === undefined ? {} : { 'content-type': JSON_CONTENT }),
                ...extra.headers,
              },
              ...(body === undefined ? {} : { body }),
            };
      this.inner = transport(request).subscribe(this);
      // Only a request still waiting for its first answer needs a timer.
      if (!this.answered && !this.done) this.deadline = scheduler.schedule(attemptTimedOut, this.call.timeoutMs, this);
      return this;
    }

    next(response: TransportResponse): void {
      if (this.done) return;
      if (!this.answered) {
        this.answered = true;
        this.deadline?.unsubscribe();
      }
      const { extra, decode } = this.call;
      let value: T;
      try {
        const json = (extra.parse ?? parseResponse)(response, this);
        value = decode({ json, headers: response.headers });
      } catch (error) {
        this.fail(error);
        return;
      }
      // One answer per attempt: a transport that emitted twice must not fork the caller's chain.
      this.done = true;
      this.subscriber.next(value);
      this.subscriber.complete();
    }

    error(error: unknown): void {
      if (!this.done) this.fail(error);
    }

    complete(): void {
      if (this.done) return;
      this.done = true;
      this.subscriber.complete();
    }

    timedOut(): void {
      this.inner?.unsubscribe();
      const { method, path, timeoutMs } = this.call;
      this.fail(new ResponseTimeoutError({ method, path, timeoutMs }));
    }

    unsubscribe(): void {
      this.deadline?.unsubscribe();
      this.inner?.unsubscribe();
    }

    private fail(error: unknown): void {
      this.done = true;
      // One 429 with a hint holds every request of this client, not only the one that got it.
      if (error instanceof RateLimitError && error.retryAfterMs !== undefined) {
        throttle.pauseUntil(scheduler.now() + Math.min(error.retryAfterMs, maxDelayMs));
      }
      this.failed(error);
    }
  }

  function payloadBody(payload: PortfolioRequest | StreamedPortfolioRequest): () => RequestBody {
    if (isStreamedPortfolio(payload)) {
      // Checked once per call; the transport calls the factory per attempt, for a fresh read.
      const chunks = serializeStreamedPayload(payload);
      return () => chunks;
    }
    if (typeof payload !== 'object' || payload === null || !Array.isArray(payload.portfolio)) {
      throw new TypeError('payload must be an object with a portfolio array');
    }
    return () => (payload.portfolio.length < STREAM_BODY_POSITIONS ? JSON.stringify(payload) : serializePayload(payload));
  }

  return {
    endpoint,

    submitBatch(payload, submitOptions = {}) {
      const { processingMode = 'fifo' } = submitOptions;
      if (!(PROCESSING_MODES as readonly string[]).includes(processingMode)) {
        throw new TypeError(`processingMode must be one of ${PROCESSING_MODES.join(', ')}, got ${JSON.stringify(processingMode)}`);
      }
      const body = payloadBody(payload);
      const route = endpoints.submitBatch();
      return send(route, { headers: { 'x-processing-mode': processingMode }, body, idempotent: false, timeoutMs: submitTimeoutMs }).pipe(
        map(({ json }) => decodeOrThrow(BatchAccepted, json, 'batch submit answer')),
      );
    },

    getBatchStatus(batchId) {
      return sendDecoded(endpoints.batchStatus(batchId), STATUS_REQUEST, decodeStatus);
    },

    getAccountResults(query = {}) {
      const { accountCodes } = query;
      // With accounts given, the body is scanned and only their rows are parsed. The scanner
      // gives up on anything but a well-formed array, which then goes the usual way, so its
      // error (or decode error) is exactly the one JSON.parse + filter gives.
      const parse =
        accountCodes === undefined
          ? undefined
          : (response: TransportResponse, context: RequestContext): unknown => {
              if (response.status >= 200 && response.status <= 299) {
                const body = response.body.charCodeAt(0) === 0xfeff ? response.body.slice(1) : response.body;
                const kept = scanAccountRows(body, accountCodes);
                if (kept !== undefined) return new ScannedRows(kept);
              }
              return parseResponse(response, context);
            };
      return send(endpoints.accountResults(), { idempotent: true, parse }).pipe(
        map(({ json }) => {
          if (json instanceof ScannedRows) return decodeOrThrow(AccountResults, json.rows, 'account results');
          const rows = decodeOrThrow(t.UnknownArray, json, 'account results');
          const kept = accountCodes === undefined ? rows : filterAccountRows(rows, accountCodes);
          return decodeOrThrow(AccountResults, kept, 'account results');
        }),
      );
    },

    calculate(payload) {
      const body = payloadBody(payload);
      // The same portfolio calculated twice gives the same result and queues nothing, so a
      // retry after an unclear failure does no harm (unlike a batch submit).
      return send(endpoints.calculate(), { body, idempotent: true }).pipe(
        map(({ json }) => decodeOrThrow(SyncResponse, json, 'calculation result')),
      );
    },

    getResults(requestId) {
      return send(endpoints.results(requestId), { idempotent: true }).pipe(
        map(({ json }) => decodeOrThrow(SyncResponse, json, 'calculation result')),
      );
    },

    healthcheck() {
      return send(endpoints.healthcheck(), { idempotent: true }).pipe(
        map(({ json }) => decodeOrThrow(HealthcheckEntries, json, 'healthcheck')),
      );
    },
  };
}

/**
 * The one error hierarchy of c9-batch-rx. Every failure a caller can see is one of these
 * classes, so `instanceof` and the `code` field are enough to decide what to do.
 *
 * None of them ever holds the API key: messages and body excerpts pass through
 * {@link redact} before they are stored, and `toJSON` lists only known, safe fields.
 */
import { constants as bufferConstants } from 'node:buffer';
import { redact } from './redact';

/** The longest body excerpt an error keeps; enough to recognise an HTML error page. */
export const BODY_EXCERPT_LENGTH = 200;

/** How deep a chain of causes is copied; deeper ones are cut (a cycle would never end). */
const MAX_CAUSE_DEPTH = 4;

/**
 * A copy of a cause that is safe to keep: the raw error of a fetch or a parser may carry the
 * request (axios-style `config.headers`) or echo a header in its message, and `util.inspect`
 * shows a cause in full. Our own errors are safe as they are; any other error is copied with
 * its message, stack and primitive fields (`code`, `errno`, `syscall`…) redacted, its objects
 * left out, and its own causes copied the same way; a string is redacted.
 */
function safeCause(cause: unknown, depth = 0): unknown {
  if (cause instanceof C9Error || cause === null || (typeof cause !== 'object' && typeof cause !== 'string')) return cause;
  if (typeof cause === 'string') return redact(cause);
  if (!(cause instanceof Error)) return '[cause left out: not an Error]';
  const copy = new Error(redact(cause.message));
  copy.name = redact(cause.name);
  copy.stack = cause.stack === undefined ? undefined : redact(cause.stack);
  const fields = copy as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(cause)) {
    if (typeof value === 'string') fields[key] = redact(value);
    else if (typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  const { cause: inner, errors } = cause as { cause?: unknown; errors?: unknown };
  if (depth < MAX_CAUSE_DEPTH) {
    if (inner !== undefined) copy.cause = safeCause(inner, depth + 1);
    if (Array.isArray(errors)) fields.errors = errors.map((e: unknown) => safeCause(e, depth + 1));
  }
  return copy;
}

/** Base class of every error this library throws. */
export class C9Error extends Error {
  /** A stable, machine-readable name for the kind of failure. */
  readonly code: string = 'C9_ERROR';

  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(message), options?.cause === undefined ? undefined : { cause: safeCause(options.cause) });
    this.name = new.target.name;
  }

  /** Safe serialisation: `JSON.stringify(error)` shows these fields and nothing else. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** What the transport knows about an HTTP answer, used to build an {@link ApiError}. */
export interface ApiErrorInit {
  readonly status: number;
  readonly method?: string;
  readonly path?: string;
  readonly requestId?: string;
  readonly contentType?: string;
  readonly body?: string;
  /** Parsed `Retry-After` in milliseconds, when the server sent a usable one. */
  readonly retryAfterMs?: number;
}

/** Redacts a field that came from outside (a header, a path, a server's words) before it is stored. */
function redactField(value: string | undefined): string | undefined {
  return value === undefined ? undefined : redact(value);
}

/** Cuts a response body to a short, single-line, redacted excerpt. */
export function bodyExcerpt(body: string | undefined): string {
  if (body === undefined) return '';
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat.length <= BODY_EXCERPT_LENGTH) return redact(flat);
  // Redact before cutting, up to the next space: a key cut in half at the excerpt's end
  // would no longer be recognised, and its first half would leak. Keys hold no spaces.
  const space = flat.indexOf(' ', BODY_EXCERPT_LENGTH);
  const head = redact(space < 0 ? flat : flat.slice(0, space));
  return `${head.slice(0, BODY_EXCERPT_LENGTH)}…`;
}

/** Pulls the human message out of the API's error bodies (`{error: "…"}` or `{error: {message}}`). */
function serverMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const error = (parsed as { error?: unknown }).error;
    if (typeof error === 'string') return error;
    if (typeof error === 'object' && error !== null) {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    const message = (parsed as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

/** The server answered with an HTTP status that is not a success. */
export class ApiError extends C9Error {
  override readonly code: string = 'API_ERROR';
  readonly status: number;
  readonly requestId: string | undefined;
  readonly contentType: string | undefined;
  readonly bodyExcerpt: string;
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(init: ApiErrorInit, message?: string) {
    const fromServer = serverMessage(init.body);
    const where = init.method && init.path ? ` (${init.method} ${init.path})` : '';
    super(message ?? `HTTP ${init.status}${where}: ${fromServer ?? (bodyExcerpt(init.body) || 'no body')}`);
    this.status = init.status;
    this.requestId = redactField(init.requestId);
    this.contentType = redactField(init.contentType);
    this.bodyExcerpt = bodyExcerpt(init.body);
    this.method = redactField(init.method);
    this.path = redactField(init.path);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      requestId: this.requestId,
      contentType: this.contentType,
      bodyExcerpt: this.bodyExcerpt,
      method: this.method,
      path: this.path,
    };
  }
}

/** 400: the payload was refused; the message names the first bad field. Never retried. */
export class BadRequestError extends ApiError {
  override readonly code: string = 'BAD_REQUEST';
}

/** 401: the key was refused. Never retried; the key is never echoed. */
export class AuthenticationError extends ApiError {
  override readonly code: string = 'AUTHENTICATION';
  constructor(init: ApiErrorInit) {
    super(init, `HTTP 401: the API key was refused (${serverMessage(init.body) ?? 'unauthorized'})`);
  }
}

/** 404: unknown batch (or another caller's batch, which the API does not reveal). */
export class NotFoundError extends ApiError {
  override readonly code: string = 'NOT_FOUND';
}

/** 413: the payload is larger than the server accepts. */
export class PayloadTooLargeError extends ApiError {
  override readonly code: string = 'PAYLOAD_TOO_LARGE';
}

/** 408: the server timed out waiting for the request. Retryable. */
export class RequestTimeoutError extends ApiError {
  override readonly code: string = 'REQUEST_TIMEOUT';
}

/** 429: over the per-user rate limit; `retryAfterMs` holds the server's hint when usable. */
export class RateLimitError extends ApiError {
  override readonly code: string = 'RATE_LIMITED';
  readonly retryAfterMs: number | undefined;
  constructor(init: ApiErrorInit) {
    super(init);
    this.retryAfterMs = init.retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/** 5xx: a server or proxy fault (often an HTML page from a proxy). Retryable. */
export class InternalServerError extends ApiError {
  override readonly code: string = 'SERVER_ERROR';
  readonly retryAfterMs: number | undefined;
  constructor(init: ApiErrorInit) {
    super(init);
    this.retryAfterMs = init.retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/** The one factory that maps an HTTP status to its error class. */
export function makeApiError(init: ApiErrorInit): ApiError {
  switch (init.status) {
    case 400:
      return new BadRequestError(init);
    case 401:
      return new AuthenticationError(init);
    case 404:
      return new NotFoundError(init);
    case 408:
      return new RequestTimeoutError(init);
    case 413:
      return new PayloadTooLargeError(init);
    case 429:
      return new RateLimitError(init);
    default:
      return init.status >= 500 ? new InternalServerError(init) : new ApiError(init);
  }
}

/** A 2xx answer whose body is not the JSON we expect (HTML page, empty, truncated). */
export class InvalidResponseError extends C9Error {
  override readonly code: string = 'INVALID_RESPONSE';
  readonly status: number;
  readonly contentType: string | undefined;
  readonly bodyExcerpt: string;
  readonly requestId: string | undefined;
  /** The request answered, when known: a run polls and fetches for many batches, and a proxy's page may answer any of them. */
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(init: { status: number; contentType?: string; body: string; requestId?: string; reason: string; method?: string; path?: string }) {
    const excerpt = bodyExcerpt(init.body);
    const to = init.method && init.path ? ` to ${init.method} ${init.path}` : '';
    super(
      `HTTP ${init.status} answer${to} is not valid JSON (${init.reason}; content-type ${init.contentType ?? 'none'}): ` +
        (excerpt === '' ? 'empty body' : JSON.stringify(excerpt)),
    );
    this.status = init.status;
    this.contentType = redactField(init.contentType);
    this.bodyExcerpt = excerpt;
    this.requestId = redactField(init.requestId);
    this.method = redactField(init.method);
    this.path = redactField(init.path);
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      contentType: this.contentType,
      bodyExcerpt: this.bodyExcerpt,
      requestId: this.requestId,
      method: this.method,
      path: this.path,
    };
  }
}

/**
 * The connection failed (refused, reset, DNS). `mayHaveReachedServer` is true when the
 * request body may already have been delivered: such a submit must not be retried.
 */
export class ConnectionError extends C9Error {
  override readonly code: string = 'CONNECTION';
  readonly mayHaveReachedServer: boolean;
  constructor(message: string, options: { cause?: unknown; mayHaveReachedServer: boolean }) {
    super(message, { cause: options.cause });
    this.mayHaveReachedServer = options.mayHaveReachedServer;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), mayHaveReachedServer: this.mayHaveReachedServer };
  }
}

/**
 * No answer arrived within the client's per-request time limit. The request may have reached
 * the server, so a submit that times out is not sent again; a GET is retried like any
 * connection failure.
 */
export class ResponseTimeoutError extends ConnectionError {
  override readonly code: string = 'RESPONSE_TIMEOUT';
  readonly timeoutMs: number;
  constructor(init: { method: string; path: string; timeoutMs: number }) {
    super(`no answer to ${init.method} ${init.path} within ${formatMs(init.timeoutMs)}`, { mayHaveReachedServer: true });
    this.timeoutMs = init.timeoutMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), timeoutMs: this.timeoutMs };
  }
}

/**
 * An answer's body is too long to read as text: Node.js makes no string longer than
 * `buffer.constants.MAX_STRING_LENGTH` (2^29 − 24 characters, about 512 MB of JSON), so a
 * `GET /results/accounts` of a live store larger than that cannot be read in one request.
 * Not retried: the same answer would come again.
 */
export class ResponseTooLargeError extends C9Error {
  override readonly code: string = 'RESPONSE_TOO_LARGE';
  /** The body's length in bytes, when it was read. */
  readonly bytes: number | undefined;
  constructor(init: { method: string; url: string; bytes?: number; cause?: unknown }) {
    const size = init.bytes === undefined ? '' : ` (${(init.bytes / 2 ** 20).toFixed(1)} MB)`;
    super(
      `${init.method} ${init.url}: the answer's body${size} is longer than the longest string Node.js makes ` +
        `(${(bufferConstants.MAX_STRING_LENGTH / 2 ** 20).toFixed(0)} M characters), so it cannot be read as text`,
      { cause: init.cause },
    );
    this.bytes = init.bytes;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), bytes: this.bytes };
  }
}

/** A response did not match its codec. `paths` lists the bad fields, never their values. */
export class DecodeError extends C9Error {
  override readonly code: string = 'DECODE';
  readonly paths: readonly string[];
  constructor(what: string, paths: readonly string[], lines: readonly string[]) {
    super(`invalid ${what}:\n${lines.join('\n')}`);
    this.paths = paths.map(redact);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), paths: this.paths };
  }
}

/** The batch ended in `failed`; its results must not be fetched. */
export class BatchFailedError extends C9Error {
  override readonly code: string = 'BATCH_FAILED';
  readonly batchId: string;
  readonly reason: string | undefined;
  constructor(batchId: string, reason?: string) {
    super(`batch ${batchId} failed${reason ? `: ${reason}` : ''}`);
    this.batchId = redact(batchId);
    this.reason = redactField(reason);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), batchId: this.batchId, reason: this.reason };
  }
}

/** The overall deadline passed before the batch reached a terminal state. */
export class BatchTimeoutError extends C9Error {
  override readonly code: string = 'BATCH_TIMEOUT';
  readonly batchId: string;
  /** The last status seen, or undefined when no poll had answered yet. */
  readonly lastStatus: string | undefined;
  readonly queuePosition: number | undefined;
  readonly elapsedMs: number;
  constructor(init: { batchId: string; lastStatus?: string; queuePosition?: number; elapsedMs: number }) {
    const state = init.lastStatus ?? 'no status yet';
    const queue = init.queuePosition === undefined ? '' : `, queue position ${init.queuePosition}`;
    super(`batch ${init.batchId} timed out after ${formatMs(init.elapsedMs)} (last status: ${state}${queue})`);
    this.batchId = redact(init.batchId);
    this.lastStatus = redactField(init.lastStatus);
    this.queuePosition = init.queuePosition;
    this.elapsedMs = init.elapsedMs;
  }
  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      batchId: this.batchId,
      lastStatus: this.lastStatus,
      queuePosition: this.queuePosition,
      elapsedMs: this.elapsedMs,
    };
  }
}

/** Formats a duration for humans: `850ms`, `12.5s`, `3m20s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

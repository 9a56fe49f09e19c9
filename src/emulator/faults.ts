/**
 * Fault injection: what a test can make the emulator do wrong, per emulator instance.
 */
import { STATUS_CODES } from 'node:http';

/** The emulator's routes, by name. */
export const ROUTE_NAMES = ['sync', 'submit', 'status', 'results', 'asyncResult', 'health'] as const;
/**
 * `sync` POST /portfolios, `submit` POST /portfolios/batch, `status` GET /portfolios/batch/{id},
 * `results` GET /results/accounts, `asyncResult` GET /results?request_id=, `health` GET /healthcheck/analytics-engine.
 */
export type RouteName = (typeof ROUTE_NAMES)[number];

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Replace the next responses of a route (the request is answered at once and never reaches the handler, like a proxy error). */
export interface ReplaceResponse {
  readonly status: number;
  /** How many responses. Default 1. */
  readonly count?: number;
  /** The body: a string is sent as it is, anything else as JSON. Default: an nginx-like HTML page for 502/503/504, else the CONTRACT.md body of the status. */
  readonly body?: Json;
  /** `html` or `json` content type. Default html for 502/503/504 (a proxy page), json otherwise. */
  readonly format?: 'html' | 'json';
  /** Extra headers, e.g. `{ 'retry-after': '2' }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Drop the connection of the next responses of a route. The handler still runs (a submit does create its batch). */
export interface DropConnection {
  /** `beforeHeaders`: the socket is destroyed with nothing written; `afterHeaders`: headers and half the body, then destroyed. */
  readonly when: 'beforeHeaders' | 'afterHeaders';
  /** Default 1. */
  readonly count?: number;
}

/** Write the bodies of a route slowly. */
export interface SlowBody {
  /** Bytes per write. Default 16. */
  readonly chunkBytes?: number;
  /** Pause between writes. Default 50 ms. */
  readonly delayMs?: number;
  /** How many responses. Default: all, until cleared. */
  readonly count?: number;
}

/** The state a held batch is kept in. */
export type HoldState = 'queued' | 'processing';

/** The test-facing controls. Every method takes effect on the next request or processing step. */
export interface FaultController {
  /** Adds `ms` of latency before every response of `route` (0 removes it). */
  setLatency(route: RouteName, ms: number): void;
  /** Answers the next `count` requests of `route` with another status and body; a second call's come after those still pending. */
  failNext(route: RouteName, spec: ReplaceResponse): void;
  /** Drops the connection of the next `count` responses of `route`; a second call's come after those still pending. */
  dropNext(route: RouteName, spec: DropConnection): void;
  /** Writes the next `count` bodies of `route` in small, delayed chunks. */
  slowBody(route: RouteName, spec?: SlowBody): void;
  /**
   * Keeps a batch (or, with '*', every batch, later ones included) in a state: `queued` ones
   * are never started; `processing` ones stop before their next chunk.
   */
  holdBatch(batchId: string, state: HoldState): void;
  /** Ends a hold: one batch, or every hold with '*'. */
  releaseBatch(batchId: string): void;
  /** Reports `status` instead of the real status of a batch (undefined: back to the real one). Processing goes on. */
  overrideStatus(batchId: string, status: string | undefined): void;
  /** The next status responses of a batch report these `completed_pct` values, one per response (e.g. [60, 40] to go backwards). */
  reportPct(batchId: string, values: readonly number[]): void;
  /** After a batch ends, the owner's next `n` `GET /results/accounts` answer with the rows as they were before that batch ran. */
  lagResults(n: number): void;
  /** Removes every fault and hold. */
  clear(): void;
}

/** What a replaced response writes. */
export interface Replacement {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

interface Counted<T> {
  spec: T;
  left: number;
}

function take<T>(map: Map<RouteName, Counted<T>>, route: RouteName): T | undefined {
  const c = map.get(route);
  if (!c) return undefined;
  c.left--;
  if (c.left <= 0) map.delete(route);
  return c.spec;
}

/** Takes the next of a queue of counted faults (see {@link take}), moving on to the next call's when one is used up. */
function takeQueued<T>(map: Map<RouteName, Counted<T>[]>, route: RouteName): T | undefined {
  const queue = map.get(route);
  const c = queue?.[0];
  if (queue === undefined || c === undefined) return undefined;
  c.left--;
  if (c.left <= 0) queue.shift();
  if (queue.length === 0) map.delete(route);
  return c.spec;
}

/** Appends a call's faults after those of earlier calls still pending on the route. */
function enqueue<T>(map: Map<RouteName, Counted<T>[]>, route: RouteName, spec: T, count: number | undefined, name: string): void {
  check(count === undefined || (Number.isInteger(count) && count >= 1), `${name}: count must be an integer >= 1`);
  const queue = map.get(route);
  const entry = { spec, left: count ?? 1 };
  if (queue) queue.push(entry);
  else map.set(route, [entry]);
}

function defaultBody(status: number): Json {
  switch (status) {
    case 400:
      return { error: 'Invalid request body' };
    case 401:
      return { error: { message: 'Invalid or expired API key' } };
    case 404:
      return { error: 'batch not found' };
    case 429:
      return { error: 'Rate limit exceeded' };
    case 500:
      return { error: 'Internal Server Error' };
    default:
      return { error: STATUS_CODES[status] ?? `HTTP ${status}` };
  }
}

function htmlPage(status: number): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new TypeError(message);
}

/** The fault state of one emulator. The server reads it through the `take…`/`…Of` methods. */
export class Faults implements FaultController {
  private readonly latency = new Map<RouteName, number>();
  // Queues: a second call on a route adds its responses after those still pending.
  private readonly replace = new Map<RouteName, Counted<ReplaceResponse>[]>();
  private readonly drop = new Map<RouteName, Counted<DropConnection>[]>();
  private readonly slow = new Map<RouteName, Counted<SlowBody>>();
  private readonly holds = new Map<string, HoldState | 'released'>();
  private readonly statuses = new Map<string, string>();
  private readonly pcts = new Map<string, number[]>();
  private lag = 0;

  /** @param onRelease called when a hold ends, so waiting batches move on */
  constructor(private readonly onRelease: () => void) {}

  setLatency(route: RouteName, ms: number): void {
    check(Number.isFinite(ms) && ms >= 0, 'setLatency: ms must be a number >= 0');
    if (ms === 0) this.latency.delete(route);
    else this.latency.set(route, ms);
  }

  failNext(route: RouteName, spec: ReplaceResponse): void {
    check(Number.isInteger(spec.status) && spec.status >= 100 && spec.status <= 599, 'failNext: status must be an HTTP status');
    enqueue(this.replace, route, spec, spec.count, 'failNext');
  }

  dropNext(route: RouteName, spec: DropConnection): void {
    enqueue(this.drop, route, spec, spec.count, 'dropNext');
  }

  slowBody(route: RouteName, spec: SlowBody = {}): void {
    this.slow.set(route, { spec, left: spec.count ?? Infinity });
  }

  holdBatch(batchId: string, state: HoldState): void {
    this.holds.set(batchId, state);
  }

  releaseBatch(batchId: string): void {
    if (batchId === '*') this.holds.clear();
    else this.holds.set(batchId, 'released');
    this.onRelease();
  }

  overrideStatus(batchId: string, status: string | undefined): void {
    if (status === undefined) this.statuses.delete(batchId);
    else this.statuses.set(batchId, status);
  }

  reportPct(batchId: string, values: readonly number[]): void {
    this.pcts.set(batchId, [...values]);
  }

  lagResults(n: number): void {
    check(Number.isInteger(n) && n >= 0, 'lagResults: n must be an integer >= 0');
    this.lag = n;
  }

  clear(): void {
    this.latency.clear();
    this.replace.clear();
    this.drop.clear();
    this.slow.clear();
    this.statuses.clear();
    this.pcts.clear();
    this.lag = 0;
    const held = this.holds.size > 0;
    this.holds.clear();
    if (held) this.onRelease();
  }

  /** Added latency of a route, ms. */
  latencyOf(route: RouteName): number {
    return this.latency.get(route) ?? 0;
  }

  /** The replacement for this response, if one is pending (and counts it). */
  takeReplacement(route: RouteName): Replacement | undefined {
    const spec = takeQueued(this.replace, route);
    if (!spec) return undefined;
    const html = spec.format ? spec.format === 'html' : spec.status >= 502 && spec.status <= 504;
    const body = spec.body ?? (html ? htmlPage(spec.status) : defaultBody(spec.status));
    return {
      status: spec.status,
      contentType: html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: spec.headers ?? {},
    };
  }

  /** The drop for this response, if one is pending (and counts it). */
  takeDrop(route: RouteName): DropConnection | undefined {
    return takeQueued(this.drop, route);
  }

  /** The slow-body setting for this response, if any (and counts it). */
  takeSlow(route: RouteName): Required<Omit<SlowBody, 'count'>> | undefined {
    const spec = take(this.slow, route);
    return spec && { chunkBytes: Math.max(1, spec.chunkBytes ?? 16), delayMs: Math.max(0, spec.delayMs ?? 50) };
  }

  /** The hold on a batch, if any. */
  holdOf(batchId: string): HoldState | undefined {
    const own = this.holds.get(batchId);
    if (own === 'released') return undefined;
    return own ?? this.holds.get('*') as HoldState | undefined;
  }

  /** The status to report instead of the real one, if any. */
  statusOf(batchId: string): string | undefined {
    return this.statuses.get(batchId);
  }

  /** The next scripted `completed_pct` of a batch, if any (and consumes it). */
  takePct(batchId: string): number | undefined {
    const values = this.pcts.get(batchId);
    if (!values) return undefined;
    const v = values.shift();
    if (values.length === 0) this.pcts.delete(batchId);
    return v;
  }

  /** How many results requests lag after a batch ends. */
  get resultsLag(): number {
    return this.lag;
  }
}

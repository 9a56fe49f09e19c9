/**
 * The emulator's HTTP server: routing, auth, rate limit, fault injection and the handlers.
 *
 * Built on node:http rather than a framework because the faults it must inject live at the
 * socket level (drop before or after headers, slow bodies) and because an oversized body
 * must be cut off while it streams, not after a framework has buffered it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { bearerToken, findByKey, hashKey, resolveEmulatorKeys, SlidingWindow } from './auth';
import { BatchEngine, PROCESSING_MODES, type BatchOwner, type ProcessingMode } from './batches';
import { Faults, ROUTE_NAMES, type FaultController, type RouteName } from './faults';
import { CONTRACTS, DEFAULT_VALUATION_DATE } from './margin/contracts';
import { dateTime } from './margin/expiry';
import { accountRows, type AccountRow } from './rows';
import { ResultStore } from './store';
import { Timers } from './timers';
import { validatePayload, type ValidatedRequest } from './validate';
import { readBody, writeOut, type Outgoing } from './wire';

/** Settings of {@link startEmulator}. Every one has a default. */
export interface EmulatorOptions {
  /** Accepted keys, one user each. Default: `C9_API_SECRET` of `env` (comma-separated), else one generated `sk-demo-…` key. */
  readonly apiKeys?: readonly string[];
  /** Where `C9_API_SECRET` is looked up. Default `{}`: the emulator never reads process.env by itself. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (an ephemeral port). */
  readonly port?: number;
  /** Batches of one user processed at once. Default 2. */
  readonly workers?: number;
  /** Processing time per account. Default 20 ms. */
  readonly msPerAccount?: number;
  /** Fixed processing time per batch, before its first account. Default 0. */
  readonly msPerBatch?: number;
  /** Accounts per processing step (progress rises once per step). Default: a tenth of the batch, at least 1. */
  readonly chunkAccounts?: number;
  /** Per-user sliding-window limit. Default: none. */
  readonly rateLimit?: { readonly requests: number; readonly windowMs?: number };
  /** Largest request body. Default 500 MiB (524,288,000 bytes). */
  readonly maxPayloadBytes?: number;
  /** Most distinct accounts in one `POST /portfolios`. Default 100. */
  readonly maxSyncAccounts?: number;
  /** Valuation date (YYYYMMDD) when a payload has no `bdate`/`price_date`. Default 20260102. */
  readonly valuationDate?: number;
  /** The clock of timestamps, runtimes and the rate limit. Default Date.now. */
  readonly now?: () => number;
  /**
   * Keep each user's last parsed payload in `stats.lastSubmittedPayloads`. Default true (specs
   * want it); turn it off for very large payloads, where it keeps one parsed payload alive per user.
   */
  readonly capturePayloads?: boolean;
  /**
   * Keep the parsed payload of every accepted batch in `stats.batchPayloads`, by batch id, so a
   * test can check what each batch of a run received (chunks, 413 halves). Default false: a
   * long-running emulator would keep every payload it was ever sent.
   */
  readonly recordBatchPayloads?: boolean;
}

/** Counters and captures for tests. */
export interface EmulatorStats {
  /** Requests per route (`unknown` for paths that match none), faulted ones included. */
  readonly requests: Readonly<Record<RouteName | 'unknown', number>>;
  /** The last parsed payload each user POSTed (sync or batch), by API key, exactly as received (unless `capturePayloads` is false). */
  readonly lastSubmittedPayloads: ReadonlyMap<string, unknown>;
  /** Batch ids in the order their processing started. */
  readonly startedBatches: readonly string[];
  /** The parsed payload of each accepted batch, by batch id, in the order accepted (only with `recordBatchPayloads`). */
  readonly batchPayloads: ReadonlyMap<string, unknown>;
}

/** A running emulator. */
export interface EmulatorHandle {
  /** e.g. `http://127.0.0.1:43117` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** The accepted keys (a copy: changing it changes nothing). */
  readonly apiKeys: string[];
  readonly faults: FaultController;
  readonly stats: EmulatorStats;
  /** Stops listening, destroys every open socket and cancels every timer. */
  close(): Promise<void>;
}

interface User extends BatchOwner {
  readonly key: string;
  readonly keyHash: Buffer;
  readonly window: SlidingWindow | undefined;
  /** Asynchronous `POST /portfolios` requests, by request id. */
  readonly requests: Map<string, { status: 'loading' | 'success' | 'failed'; body: SyncBody | undefined }>;
}

/** `POST /portfolios` → 200 and `GET /results?request_id=` → 200. */
interface SyncBody {
  request_id: string;
  username: string;
  status: 'success' | 'loading' | 'failed';
  data?: AccountRow[];
  runtime?: number;
  parameters?: Record<string, string | number | boolean>;
  memo?: string;
  error?: { message: string };
}

const VERSION = 'c9-emulator-0.1.0';
const JSON_TYPE = 'application/json; charset=utf-8';
/** How long a refused body is still read after the 413 before the socket goes (nginx lingers up to 30 s; 1 s keeps an endless body short). */
const LINGER_MS = 1000;

function json(status: number, body: unknown, headers?: Record<string, string>): Outgoing {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(body), headers };
}

const UNAUTHORIZED = json(401, { error: { message: 'Invalid or expired API key' } });
const BATCH_NOT_FOUND = (): Outgoing => json(404, { error: 'batch not found' });

function need(cond: boolean, message: string): void {
  if (!cond) throw new TypeError(`startEmulator: ${message}`);
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  need(Number.isFinite(v) && v >= 0, `${name} must be a number >= 0`);
  return v;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  need(Number.isInteger(v) && v >= 1, `${name} must be an integer >= 1`);
  return v;
}

type Matched = { readonly name: RouteName; readonly batchId?: string };

function matchRoute(method: string | undefined, path: string): Matched | undefined {
  if (method === 'POST' && path === '/portfolios') return { name: 'sync' };
  if (method === 'POST' && path === '/portfolios/batch') return { name: 'submit' };
  if (method === 'GET' && path === '/results/accounts') return { name: 'results' };
  if (method === 'GET' && path === '/results') return { name: 'asyncResult' };
  if (method === 'GET' && path === '/healthcheck/analytics-engine') return { name: 'health' };
  const m = method === 'GET' ? /^\/portfolios\/batch\/([^/]+)$/.exec(path) : null;
  if (m) {
    let batchId: string;
    try {
      batchId = decodeURIComponent(m[1]);
    } catch {
      batchId = '';
    }
    return { name: 'status', batchId };
  }
  return undefined;
}

/**
 * Starts an emulator of the batch margin API on 127.0.0.1 (an ephemeral port by default).
 *
 * It implements CONTRACT.md, (ours) decisions included, with a deterministic SPAN-like margin
 * model, one live result store and one batch queue per API key, and a {@link FaultController}
 * for tests.
 *
 * Example:
 * ```ts
 * const emu = await startEmulator({ apiKeys: ['sk-test-1'], msPerAccount: 1 });
 * const res = await fetch(`${emu.url}/healthcheck/analytics-engine`, { headers: { authorization: 'Bearer sk-test-1' } });
 * await emu.close();
 * ```
 *
 * @param options keys, timing, limits and clock (see {@link EmulatorOptions})
 * @throws TypeError for an invalid option (synchronously, before anything listens)
 */
export function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const keys = resolveEmulatorKeys({ apiKeys: options.apiKeys, env: options.env ?? {} });
  const now = options.now ?? Date.now;
  const workers = positiveInt(options.workers, 2, 'workers');
  const msPerAccount = nonNegative(options.msPerAccount, 20, 'msPerAccount');
  const msPerBatch = nonNegative(options.msPerBatch, 0, 'msPerBatch');
  const chunkAccounts = options.chunkAccounts === undefined ? undefined : positiveInt(options.chunkAccounts, 1, 'chunkAccounts');
  const maxPayloadBytes = positiveInt(options.maxPayloadBytes, 500 * 1024 * 1024, 'maxPayloadBytes');
  const maxSyncAccounts = positiveInt(options.maxSyncAccounts, 100, 'maxSyncAccounts');
  const valuationDate = options.valuationDate ?? DEFAULT_VALUATION_DATE;
  need(dateTime(valuationDate) !== undefined, 'valuationDate must be a YYYYMMDD date');
  const rate = options.rateLimit && {
    requests: positiveInt(options.rateLimit.requests, 1, 'rateLimit.requests'),
    windowMs: positiveInt(options.rateLimit.windowMs, 60_000, 'rateLimit.windowMs'),
  };
  const capturePayloads = options.capturePayloads ?? true;
  const recordBatchPayloads = options.recordBatchPayloads ?? false;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  need(Number.isInteger(port) && port >= 0 && port <= 65535, 'port must be an integer 0–65535');

  const timers = new Timers();
  const requests = Object.fromEntries([...ROUTE_NAMES, 'unknown'].map((r) => [r, 0])) as Record<RouteName | 'unknown', number>;
  const lastSubmittedPayloads = new Map<string, unknown>();
  const batchPayloads = new Map<string, unknown>();
  // The parsed body behind each validated request, kept only while its batch is created.
  const parsedOf = new WeakMap<ValidatedRequest, unknown>();
  const startedBatches: string[] = [];
  let engine: BatchEngine | undefined;
  const faults = new Faults(() => engine?.wake());
  engine = new BatchEngine({ workers, msPerAccount, msPerBatch, chunkAccounts }, timers, now, faults, startedBatches);
  const batches = engine;
  const startTime = new Date(now()).toISOString();

  const users: User[] = keys.map((key, i) => ({
    key,
    keyHash: hashKey(key),
    username: `user${i + 1}@emulator.local`,
    store: new ResultStore(),
    queue: [],
    processing: new Set(),
    lag: undefined,
    window: rate && new SlidingWindow(rate.requests, rate.windowMs),
    requests: new Map(),
  }));

  /** Reads and validates a POST body; an Outgoing is an error answer. */
  async function payload(req: IncomingMessage, user: User): Promise<ValidatedRequest | Outgoing | undefined> {
    const body = await readBody(req, maxPayloadBytes);
    if (body.kind === 'aborted') return undefined;
    if (body.kind === 'tooLarge') return { ...json(413, { error: `Payload Too Large: the limit is ${maxPayloadBytes} bytes` }, { connection: 'close' }), lingerMs: LINGER_MS };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      return json(400, { error: 'Invalid request body: malformed JSON' });
    }
    if (capturePayloads) lastSubmittedPayloads.set(user.key, parsed);
    const v = validatePayload(parsed, valuationDate);
    if (!v.ok) return json(400, { error: v.error });
    if (recordBatchPayloads) parsedOf.set(v.value, parsed);
    return v.value;
  }

  function calculate(user: User, v: ValidatedRequest, requestId: string): SyncBody {
    const started = now();
    const stamp = { requestId, username: user.username, submittedTime: new Date(started).toISOString() };
    const data: AccountRow[] = [];
    for (const group of v.accounts) {
      const outcome = accountRows(group, v, stamp);
      data.push(outcome.master, ...outcome.subs);
      if (v.persist && outcome.ok) user.store.put(group.accountCode, { master: outcome.master, subs: outcome.subs });
    }
    return {
      request_id: requestId,
      username: user.username,
      status: 'success',
      data,
      runtime: Math.max(0, Math.round(now() - started)),
      parameters: { engine: 'span', currency_code: v.currency, use_closest_match: v.useClosestMatch, price_date: v.valuationDate },
      ...(v.memo === undefined ? {} : { memo: v.memo }),
    };
  }

  async function sync(req: IncomingMessage, user: User): Promise<Outgoing | undefined> {
    const v = await payload(req, user);
    if (!v || !('accounts' in v)) return v;
    if (v.accounts.length > maxSyncAccounts) {
      return json(400, { error: `"portfolio" must contain at most ${maxSyncAccounts} distinct account_code values` });
    }
    const requestId = v.requestId ?? randomUUID();
    if (v.executionMode === 'sync') return json(200, calculate(user, v, requestId));
    const entry: { status: 'loading' | 'success' | 'failed'; body: SyncBody | undefined } = { status: 'loading', body: undefined };
    user.requests.set(requestId, entry);
    timers.after(msPerBatch + v.accounts.length * msPerAccount, () => {
      // In a timer an exception would end the process: report it as the request's failure instead.
      try {
        entry.body = calculate(user, v, requestId);
        entry.status = 'success';
      } catch {
        entry.body = { request_id: requestId, username: user.username, status: 'failed', error: { message: 'Internal Server Error' } };
        entry.status = 'failed';
      }
    });
    return json(200, { request_id: requestId, username: user.username, status: 'loading' });
  }

  async function submit(req: IncomingMessage, user: User): Promise<Outgoing | undefined> {
    const header = req.headers['x-processing-mode'];
    const raw = (Array.isArray(header) ? header[0] : header ?? 'fifo').trim().toLowerCase() || 'fifo';
    if (!(PROCESSING_MODES as readonly string[]).includes(raw)) {
      return json(400, { error: `"x-processing-mode" must be one of [${PROCESSING_MODES.join(', ')}]` });
    }
    const v = await payload(req, user);
    if (!v || !('accounts' in v)) return v;
    const batch = batches.submit(user, v, raw as ProcessingMode);
    if (recordBatchPayloads) batchPayloads.set(batch.id, parsedOf.get(v));
    return json(202, { batch_id: batch.id });
  }

  function results(user: User): Outgoing {
    const lag = user.lag;
    if (lag && lag.remaining > 0) {
      lag.remaining--;
      if (lag.remaining === 0) user.lag = undefined;
      return { status: 200, contentType: JSON_TYPE, body: user.store.body(lag.undo) };
    }
    return { status: 200, contentType: JSON_TYPE, body: user.store.body() };
  }

  function asyncResult(user: User, url: URL): Outgoing {
    const id = url.searchParams.get('request_id');
    if (!id) return json(400, { error: '"request_id" is required' });
    const entry = user.requests.get(id);
    if (!entry) return json(404, { error: 'request not found' });
    return json(200, entry.body ?? { request_id: id, username: user.username, status: 'loading' });
  }

  function health(): Outgoing {
    const base = { status: 'OK', version: VERSION, healthcheck: now(), start_time: startTime };
    return json(200, [
      { service: 'span', ...base, parameters: { contracts: CONTRACTS.length, valuation_date: valuationDate } },
      { service: 'emulator', ...base, parameters: 'deterministic SPAN-like model; see src/emulator/margin' },
    ]);
  }

  async function answer(route: Matched, req: IncomingMessage, url: URL): Promise<Outgoing | undefined> {
    const token = bearerToken(req.headers.authorization);
    const user = token === undefined ? undefined : findByKey(users, token);
    if (!user) return UNAUTHORIZED;
    const wait = user.window?.tryAcquire(now()) ?? 0;
    if (wait > 0) return json(429, { error: 'Rate limit exceeded' }, { 'retry-after': String(Math.ceil(wait / 1000)) });
    switch (route.name) {
      case 'sync':
        return sync(req, user);
      case 'submit':
        return submit(req, user);
      case 'status': {
        const b = route.batchId ? batches.find(route.batchId, user) : undefined;
        return b ? json(200, batches.statusBody(b)) : BATCH_NOT_FOUND();
      }
      case 'results':
        return results(user);
      case 'asyncResult':
        return asyncResult(user, url);
      case 'health':
        return health();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const route = matchRoute(req.method, path);
    if (!route) {
      requests.unknown++;
      writeOut(res, json(404, { error: 'Not Found' }), {}, timers);
      return;
    }
    requests[route.name]++;
    const latency = faults.latencyOf(route.name);
    if (latency > 0) await timers.delay(latency);
    const replaced = faults.takeReplacement(route.name);
    const out = replaced ?? (await answer(route, req, url));
    if (!out || res.destroyed) return;
    writeOut(res, out, { drop: faults.takeDrop(route.name), slow: faults.takeSlow(route.name) }, timers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else writeOut(res, json(500, { error: 'Internal Server Error' }), {}, timers);
    });
  });
  // Idle keep-alive sockets are the client's to close (its agents drop them after 3 s), as
  // with API gateways that keep them a minute or more. Node's default (5 s) lets a busy
  // emulator, whose expired keep-alive timer runs before it reads a request that arrived
  // meanwhile, reset a socket a client had just sent a submit on: measured, 3 of 8 chunked
  // runs of a 33 MB file lost a batch that way; 0 of 5 with this.
  server.keepAliveTimeout = 65_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${hostPart}:${address.port}`,
        port: address.port,
        apiKeys: [...keys],
        faults,
        stats: { requests, lastSubmittedPayloads, startedBatches, batchPayloads },
        close: () => {
          closing ??= new Promise<void>((done) => {
            timers.clearAll();
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}

/**
 * The text `c9-batch serve` prints: where the emulator listens and which keys it accepts.
 *
 * Example: `console.log(describeEmulator(await startEmulator({ env: process.env })))`
 *
 * @param handle a running emulator
 */
export function describeEmulator(handle: Pick<EmulatorHandle, 'url' | 'apiKeys'>): string {
  return [
    `C9 batch API emulator listening on ${handle.url}`,
    `Accepted API keys (one user each):`,
    ...handle.apiKeys.map((k) => `  ${k}`),
    ``,
    `Point a client at it with:`,
    `  C9_API_ENDPOINT=${handle.url}`,
    `  C9_API_SECRET=${handle.apiKeys[0]}`,
  ].join('\n');
}

/**
 * One fault case's world: the emulator on 127.0.0.1, the counting proxy in front of it, and
 * a client of the library pointed at the proxy with small retry and poll delays, so a case
 * with several retries still takes a fraction of a second.
 */
import crossFetch from 'cross-fetch';
import { Subscription, defer, tap } from 'rxjs';
import type { PortfolioRequest, Position } from '../../../src/codecs';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../../src/emulator';
import { createClient, type C9Client } from '../../../src/http/client';
import { nodeHttpTransport } from '../../../src/http/nodeHttpTransport';
import type { Transport } from '../../../src/http/transport';
import { ApiError, BatchFailedError, BatchTimeoutError, ConnectionError, DecodeError, InvalidResponseError, ResponseTimeoutError } from '../../../src/http/errors';
import type { RetryConfig } from '../../../src/http/retry';
import type { PollConfig } from '../../../src/operators/pollUntilTerminal';
import { runBatch, type RunBatchConfig } from '../../../src/streams/runBatch';
import type { BatchEvent, BatchResults } from '../../../src/types';
import { startProxy, type CountingProxy } from './proxy';

/** The one key every case runs with (the no-secrets checks look for it). */
export const KEY = 'sk-fault-matrix-known-key-5b8e21c47d';
/** A second user, for isolation cases. */
export const OTHER_KEY = 'sk-fault-matrix-other-user-90aa13';

/** Retry policy of the cases: 3 retries, 5 ms doubling, no jitter, waits capped at 300 ms. */
export const FAST_RETRY: RetryConfig = { maxRetries: 3, initialDelayMs: 5, factor: 2, maxDelayMs: 300, jitter: 0 };
/** Polling of the cases: every 10 ms, 3 s deadline. */
export const FAST_POLL: PollConfig = { initialIntervalMs: 10, factor: 1, maxIntervalMs: 10, jitter: 0, timeoutMs: 3000 };

/** Options of {@link startRig}. */
export interface RigOptions {
  readonly emulator?: EmulatorOptions;
  readonly retry?: RetryConfig;
  readonly poll?: PollConfig;
  /** Make the client with this key instead of {@link KEY}. */
  readonly apiKey?: string;
  /** 'node': the client sends through the opt-in nodeHttpTransport instead of cross-fetch. */
  readonly transport?: 'node';
}

/** A runBatch subscription in progress. */
export interface RunningBatch {
  readonly events: BatchEvent[];
  /** Settles when the stream ends, errs, or is unsubscribed through {@link RunningBatch.cancel}. */
  readonly done: Promise<RunResult>;
  cancel(): void;
}

/** How a runBatch subscription ended. */
export interface RunResult {
  readonly events: readonly BatchEvent[];
  readonly results: BatchResults | undefined;
  readonly error: unknown;
  readonly cancelled: boolean;
}

/** A request as the client saw it: when `fetch` was called, and when and how its answer arrived. */
export interface ClientRequestLog {
  readonly method: string;
  readonly path: string;
  /** performance.now() when fetch was called. */
  readonly sentAt: number;
  /** performance.now() when the status line arrived. */
  answeredAt: number | undefined;
  status: number | undefined;
}

export interface Rig {
  readonly emu: EmulatorHandle;
  readonly proxy: CountingProxy;
  readonly client: C9Client;
  /** Every request of `client`, from the client's side (the proxy's log is the server's side). */
  readonly sent: readonly ClientRequestLog[];
  /** Starts runBatch (FAST_POLL unless `config.poll` says otherwise); `onEvent` runs synchronously with each event. */
  start(payload: PortfolioRequest, config?: RunBatchConfig, onEvent?: (event: BatchEvent) => void): RunningBatch;
  /** runBatch to its end. */
  run(payload: PortfolioRequest, config?: RunBatchConfig, onEvent?: (event: BatchEvent) => void): Promise<RunResult>;
  /** Batches the emulator started processing (every accepted batch, unless a case holds it queued). */
  batchesStarted(): number;
  close(): Promise<void>;
}

/**
 * Starts the emulator (1 ms per account, 4 workers), a proxy in front, and a client on the proxy.
 *
 * @param options emulator settings, retry policy and poll config overrides
 */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const emu = await startEmulator({ apiKeys: [KEY, OTHER_KEY], msPerAccount: 1, workers: 4, ...options.emulator });
  const proxy = await startProxy(emu.url);
  const sent: ClientRequestLog[] = [];
  // cross-fetch, as the client uses by default, plus a note of each call: only the client knows when it sent.
  const loggingFetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const entry: ClientRequestLog = { method: init?.method ?? 'GET', path: url.pathname, sentAt: performance.now(), answeredAt: undefined, status: undefined };
    sent.push(entry);
    const response = await crossFetch(input, init);
    entry.answeredAt = performance.now();
    entry.status = response.status;
    return response;
  }) as typeof globalThis.fetch;
  // The same note of each request, taken at the transport when there is no fetch to wrap.
  const loggingNodeHttp = (inner: Transport): Transport => (request) =>
    defer(() => {
      const entry: ClientRequestLog = { method: request.method, path: new URL(request.url).pathname, sentAt: performance.now(), answeredAt: undefined, status: undefined };
      sent.push(entry);
      return inner(request).pipe(
        tap((response) => {
          entry.answeredAt = performance.now();
          entry.status = response.status;
        }),
      );
    });
  const sending = options.transport === 'node' ? { transport: loggingNodeHttp(nodeHttpTransport()) } : { fetch: loggingFetch };
  const client = createClient({ endpoint: proxy.url, apiKey: options.apiKey ?? KEY, ...sending, retry: { ...FAST_RETRY, ...options.retry } });
  const poll = { ...FAST_POLL, ...options.poll };

  const start = (payload: PortfolioRequest, config: RunBatchConfig = {}, onEvent?: (event: BatchEvent) => void): RunningBatch =>
    startRun(client, payload, { ...config, poll: { ...poll, ...config.poll } }, onEvent);

  return {
    emu,
    proxy,
    client,
    sent,
    start,
    run: (payload, config, onEvent) => start(payload, config, onEvent).done,
    batchesStarted: () => emu.stats.startedBatches.length,
    close: async () => {
      await proxy.close();
      await emu.close();
    },
  };
}

/**
 * Subscribes to runBatch and keeps what it emits.
 *
 * @param client the client
 * @param payload the portfolio
 * @param config runBatch's config, as given
 * @param onEvent runs synchronously with each event (before the next step is subscribed)
 */
export function startRun(client: C9Client, payload: PortfolioRequest, config: RunBatchConfig, onEvent?: (event: BatchEvent) => void): RunningBatch {
  const events: BatchEvent[] = [];
  let results: BatchResults | undefined;
  let settle: (r: RunResult) => void = () => undefined;
  const done = new Promise<RunResult>((resolve) => {
    settle = resolve;
  });
  const subscription = new Subscription();
  subscription.add(
    runBatch(client, payload, config).subscribe({
      next: (event) => {
        events.push(event);
        if (event.type === 'results') results = event.results;
        onEvent?.(event);
      },
      error: (error: unknown) => settle({ events, results, error, cancelled: false }),
      complete: () => settle({ events, results, error: undefined, cancelled: false }),
    }),
  );
  return {
    events,
    done,
    // The first settle wins: a run that had already ended stays `cancelled: false`.
    cancel: () => {
      subscription.unsubscribe();
      settle({ events, results, error: undefined, cancelled: true });
    },
  };
}

// ---------------------------------------------------------------------------------------
// Portfolios

/** A Brent future position (ICE.EU B, Dec 2026): a contract the emulator margins. */
export function brent(account: string, qty = 5, extra: Record<string, unknown> = {}): Position {
  return { account_code: account, exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202612', net_position: qty, ...extra };
}

/** A position on a contract the emulator does not know: it becomes an `exceptions` entry. */
export function unknownContract(account: string): Position {
  return { account_code: account, exchange_code: 'ICE.EU', contract_code: 'NOPE', contract_type: 'FUT', contract_expiry: '202612', net_position: 1 };
}

/** One Brent position per account. */
export function book(...accounts: string[]): PortfolioRequest {
  return { portfolio: accounts.map((a) => brent(a)) };
}

/** `n` accounts named `<prefix>0000…`. */
export function manyAccounts(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
}

/**
 * Fills the user's live store with rows straight through the emulator (no proxy, no
 * library), and waits until the batch is done.
 *
 * @param emu the emulator
 * @param payload what to margin
 * @param apiKey whose store
 */
export async function seedStore(emu: EmulatorHandle, payload: PortfolioRequest, apiKey = KEY): Promise<string> {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const submitted = await fetch(`${emu.url}/portfolios/batch`, { method: 'POST', headers, body: JSON.stringify(payload) });
  const { batch_id: id } = (await submitted.json()) as { batch_id: string };
  for (;;) {
    const res = await fetch(`${emu.url}/portfolios/batch/${id}`, { headers });
    const { status } = (await res.json()) as { status: string };
    if (status !== 'queued' && status !== 'processing') return id;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Submits a batch straight to the emulator (another caller of the same user, or another user). */
export async function submitDirect(emu: EmulatorHandle, payload: PortfolioRequest, mode = 'fifo', apiKey = KEY): Promise<string> {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-processing-mode': mode };
  const res = await fetch(`${emu.url}/portfolios/batch`, { method: 'POST', headers, body: JSON.stringify(payload) });
  return ((await res.json()) as { batch_id: string }).batch_id;
}

// ---------------------------------------------------------------------------------------
// Outcomes, as the matrix prints them

/** One short line for an error: its class, and the detail that tells this failure apart. */
export function describeError(error: unknown): string {
  if (error instanceof BatchTimeoutError) {
    const queue = error.queuePosition === undefined ? '' : ` q=${error.queuePosition}`;
    return `BatchTimeoutError(${error.lastStatus ?? 'no status'}${queue})`;
  }
  if (error instanceof BatchFailedError) return `BatchFailedError(${error.reason ?? 'no reason'})`;
  if (error instanceof ApiError) return `${error.name}(${error.status})`;
  if (error instanceof InvalidResponseError) {
    const reason = /\((an HTML page|empty body|malformed or truncated JSON);/.exec(error.message)?.[1] ?? '?';
    return `InvalidResponseError(${error.status}, ${reason})`;
  }
  if (error instanceof ResponseTimeoutError) return `ResponseTimeoutError(${error.mayHaveReachedServer ? 'may have reached' : 'not sent'})`;
  if (error instanceof ConnectionError) return `ConnectionError(${error.mayHaveReachedServer ? 'may have reached' : 'not sent'})`;
  if (error instanceof DecodeError) return `DecodeError(${error.paths.join(' ')})`;
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 80);
  return `non-error: ${String(error)}`.slice(0, 80);
}

/** One short line for a run: its results or its error. */
export function describeRun(r: RunResult): string {
  if (r.cancelled) return 'cancelled';
  if (r.error !== undefined) return describeError(r.error);
  const res = r.results;
  if (!res) return 'ended without results';
  const parts = [`${res.status} rows=${res.rows.length}`];
  if (res.subAccountRows.length > 0) parts.push(`subs=${res.subAccountRows.length}`);
  if (res.missing.length > 0) parts.push(`missing=${res.missing.join('|')}`);
  if (res.stale.length > 0) parts.push(`stale=${res.stale.map((row) => row.account_code).join('|')}`);
  if (res.exceptions.length > 0) parts.push(`exceptions=${res.exceptions.length}`);
  return parts.join(' ');
}

/** The account codes of a run's fresh master rows, in order. */
export function rowAccounts(r: RunResult): string {
  return (r.results?.rows ?? []).map((row) => row.account_code).join('|');
}

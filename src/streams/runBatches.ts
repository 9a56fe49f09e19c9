/**
 * Many batches at once: chunking, a concurrency limit, the overlap guard, shared polling and
 * results, 413 splitting, and one report at the end.
 */
import {
  asyncScheduler,
  BehaviorSubject,
  catchError,
  concat,
  defer,
  EMPTY,
  filter,
  finalize,
  from,
  map,
  merge,
  mergeMap,
  Observable,
  of,
  type SchedulerLike,
  type Subscriber,
  Subscription,
  take,
  tap,
  throwError,
} from 'rxjs';
import { accountCodesOf, isTerminalStatus, PROCESSING_MODES, type BatchStatus, type PortfolioRequest, type ProcessingMode } from '../codecs';
import type { C9Client } from '../http/client';
import { endpointWithoutUserInfo } from '../http/endpoints';
import { AuthenticationError, BatchFailedError, C9Error, PayloadTooLargeError } from '../http/errors';
import { submitMayHaveQueued } from '../http/retry';
import { isStreamedPortfolio, type StreamedPortfolioRequest } from '../http/serializePayload';
import { adaptivePollInterval, type AdaptivePollIntervalConfig } from '../operators/adaptivePollInterval';
import type { PollConfig } from '../operators/pollUntilTerminal';
import { trackProgress } from '../operators/trackProgress';
import type { BatchResults, BatchRunEvent, SubmittedBatch } from '../types';
import { createBatchWatcher, type BatchWatcher } from './batchWatcher';
import { chunkByAccount, isChunkable, type ChunkableRequest } from './chunkByAccount';
import { AccountOverlapError, createOverlapGuard, type OverlapGuard, type OverlapPolicy } from './overlapGuard';
import { buildReport, isUnsubmitted, type RunOutcome, type RunReport, type UnsubmittedOutcome } from './report';
import { createResultsFetcher, type ResultsFetcher, type ResultsFetcherConfig } from './resultsFetcher';

/**
 * One big portfolio, to be cut into batches of whole accounts by {@link chunkByAccount}: a
 * loaded payload, or a file opened with `openPortfolio` (a {@link ChunkableRequest}), which
 * is cut the same way without its positions ever being held.
 */
export interface ChunkedInput {
  readonly payload: PortfolioRequest | ChunkableRequest;
  /** At most this many distinct accounts per batch. */
  readonly maxAccounts?: number;
  /** At most this many bytes of JSON per batch. */
  readonly maxBytes?: number;
}

/**
 * What {@link runBatches} runs: ready-made batch payloads (a streamed one, e.g. from
 * `openPortfolio`, is read from its file while it is sent), or one portfolio to chunk.
 */
export type RunBatchesInput = readonly (PortfolioRequest | StreamedPortfolioRequest)[] | ChunkedInput;

/** A 413 that was handled by splitting, as the final report lists it. */
export interface SplitRecord {
  readonly chunk: string;
  readonly accounts: number;
  readonly into: readonly [string, string];
}

/** Everything {@link runBatches} emits: per-batch events, then one report. */
export type RunBatchesEvent =
  | BatchRunEvent
  /** The last event: the run's report (`buildReport`) and the 413 splits that happened. */
  | { readonly type: 'report'; readonly report: RunReport; readonly splits: readonly SplitRecord[] };

/** Options shared by {@link runBatches} and {@link resumeBatches}. */
export interface FollowConfig {
  /**
   * Polling backoff and deadline (per batch, from its first poll). Unless `nextInterval` is
   * set here or `adaptive` is false, polls are timed by {@link adaptivePollInterval}.
   */
  readonly poll?: PollConfig;
  /** Options of the adaptive poll timing, or `false` for the plain backoff. Default `{}` (on). */
  readonly adaptive?: AdaptivePollIntervalConfig | false;
  /** Answers in a row without change before a `stalled` event. Default 10. */
  readonly stallPolls?: number;
  /** The shared results fetch: window, re-fetches of missing/stale rows, clock skew. */
  readonly results?: Omit<ResultsFetcherConfig, 'scheduler'>;
  /** How many of the largest accounts the report lists. Default 5. */
  readonly top?: number;
  /** The scheduler of every wait and timestamp. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** A watcher to share with other runs (its own poll config then applies). Default: one per call. */
  readonly watcher?: BatchWatcher;
  /** A results fetcher to share with other runs. Default: one per call. */
  readonly fetcher?: ResultsFetcher;
}

/** Options of {@link runBatches}. */
export interface RunBatchesConfig extends FollowConfig {
  /** Batches in progress at once (submit to results). Default 4. */
  readonly concurrency?: number;
  /**
   * `x-processing-mode`. With `replace_all` only the run's first accepted submit uses it
   * and the others wait for that answer and go as `fifo`: otherwise the run would drop its
   * own queued batches. Default `fifo`.
   */
  readonly processingMode?: ProcessingMode;
  /** A batch sharing an account with one in flight: `wait` (default) or `fail`. */
  readonly onOverlap?: OverlapPolicy;
  /** A guard to share with other runs of the same client (so they never overlap either). Default: one per call. */
  readonly guard?: OverlapGuard;
  /** Split a batch the server refuses as too large (413) in halves by account. Default true. */
  readonly splitOnTooLarge?: boolean;
}

/** The chunk label of a batch's halves. */
const halves = (chunk: string): [string, string] => [`${chunk}.1`, `${chunk}.2`];

/** The two halves of a payload by account (first half gets the extra account), positions in their order. */
function splitPayload(payload: PortfolioRequest, accountCodes: readonly string[]): [PortfolioRequest, PortfolioRequest] {
  const left = new Set(accountCodes.slice(0, Math.ceil(accountCodes.length / 2)));
  const { portfolio, ...options } = payload;
  return [
    { ...options, portfolio: portfolio.filter((p) => left.has(p.account_code)) },
    { ...options, portfolio: portfolio.filter((p) => !left.has(p.account_code)) },
  ];
}

/** An error as an `Error` (anything thrown that is not one is wrapped). */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Failures that would hit every other batch of the run too: they end the run instead of being reported per batch. */
function isFatal(error: unknown): boolean {
  return error instanceof AuthenticationError;
}

function positiveInteger(name: string, value: number): void {
  if (value !== Infinity && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) {
    throw new TypeError(`runBatches: ${name} must be an integer >= 1 or Infinity; got ${String(value)}`);
  }
}

/** The parts made once per call: watcher, fetcher, progress tracker, and how to follow one batch. */
function follower(client: C9Client, config: FollowConfig) {
  const { poll = {}, adaptive = {}, stallPolls = 10, results = {}, top = 5, scheduler = asyncScheduler } = config;
  const nextInterval = poll.nextInterval ?? (adaptive === false ? undefined : adaptivePollInterval(adaptive));
  const watcher = config.watcher ?? createBatchWatcher(client, { ...poll, scheduler: poll.scheduler ?? scheduler, ...(nextInterval ? { nextInterval } : {}) });
  const fetcher = config.fetcher ?? createResultsFetcher(client, { ...results, scheduler });
  const track = trackProgress({ stallPolls });
  // Validated now, so a bad value fails where it was written.
  buildReport([], { top });

  /** Polls one accepted batch (shared loop) and fetches its results (shared fetch); errors become `error` events. */
  const follow = (chunk: string, batch: SubmittedBatch): Observable<BatchRunEvent> =>
    watcher.watch(batch).pipe(
      track,
      mergeMap(({ status, anomaly }) => {
        const events: BatchRunEvent[] = [{ type: 'status', batch, status }];
        if (anomaly?.kind === 'stalled') events.push({ type: 'stalled', batch, status, polls: anomaly.polls });
        if (anomaly?.kind === 'regressed') events.push({ type: 'regressed', batch, status, fromPct: anomaly.fromPct, toPct: anomaly.toPct });
        if (!isTerminalStatus(status.status)) return from(events);
        if (status.status === 'failed') {
          const error = new BatchFailedError(batch.batchId, status.error ?? undefined);
          return from([...events, { type: 'error', chunk, accountCodes: batch.accountCodes, batch, error } satisfies BatchRunEvent]);
        }
        return concat(
          from(events),
          fetcher.fetch({ batch, status }).pipe(map((picked): BatchRunEvent => ({ type: 'results', batch, results: picked }))),
        );
      }),
      catchError((error: unknown) =>
        isFatal(error) ? throwError(() => error) : of<BatchRunEvent>({ type: 'error', chunk, accountCodes: batch.accountCodes, batch, error: asError(error) }),
      ),
    );

  return { follow, top, scheduler };
}

/**
 * Collects each batch's outcome from the events, for the report. Per subscription.
 */
function outcomeCollector() {
  type Outcome = { chunk: string; batch: SubmittedBatch; status?: BatchStatus; results?: BatchResults; error?: Error };
  const byBatch = new Map<string, Outcome>();
  const chunkOf = new Map<string, string>();
  const order: (Outcome | UnsubmittedOutcome)[] = [];
  const splits: SplitRecord[] = [];
  /** Tells which chunk a batch id came from (before its `submitted` event), so the report follows the input order. */
  const noteChunk = (batchId: string, chunk: string): void => {
    chunkOf.set(batchId, chunk);
  };
  const record = (event: BatchRunEvent): void => {
    switch (event.type) {
      case 'submitted': {
        const outcome: Outcome = { chunk: chunkOf.get(event.batch.batchId) ?? '', batch: event.batch };
        byBatch.set(event.batch.batchId, outcome);
        order.push(outcome);
        break;
      }
      case 'status': {
        const outcome = byBatch.get(event.batch.batchId);
        if (outcome) outcome.status = event.status;
        break;
      }
      case 'results': {
        const outcome = byBatch.get(event.batch.batchId);
        if (outcome) outcome.results = event.results;
        break;
      }
      case 'split':
        splits.push({ chunk: event.chunk, accounts: event.accountCodes.length, into: event.into });
        break;
      case 'error': {
        const outcome = event.batch ? byBatch.get(event.batch.batchId) : undefined;
        if (outcome) outcome.error = event.error;
        // Never accepted, so there is no batch id: the report lists the chunk and why.
        else order.push({ chunk: event.chunk, accountCodes: event.accountCodes, error: event.error });
        break;
      }
      default:
        break;
    }
  };
  // Input order: chunk "2" before "10", and a chunk's halves ("3.1", "3.2.1") where the chunk was.
  const compareChunks = (a: string, b: string): number => {
    const x = a.split('.').map(Number);
    const y = b.split('.').map(Number);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  const outcomes = (): RunOutcome[] =>
    [...order].sort((a, b) => compareChunks(a.chunk, b.chunk)).map((o) => (isUnsubmitted(o) ? o : { batch: o.batch, status: o.status, results: o.results, error: o.error }));
  return { record, noteChunk, outcomes, splits };
}

/**
 * The run's `concurrency` slots, one per batch from submit to results. A chunk waits for a
 * slot in input order ({@link Slots.take}); the second half of a 413 split only takes one that
 * is free at once ({@link Slots.tryTake}), else it goes after the first half in the chunk's
 * own slot. Halves never wait for a slot: the slots may all be held by chunks waiting in the
 * overlap guard for the very accounts the halves hold. As with mergeMap's concurrency, a slot
 * passes to the next waiter only when its work completes; work that errors or is unsubscribed
 * just frees it (the run is ending: starting a waiter then would send a request for nothing).
 */
class Slots {
  private free: number;
  private readonly queue: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Runs `work` once a slot is free, in the order asked. */
  take<T>(work: () => Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      let teardown: (() => void) | undefined;
      const start = (): void => {
        teardown = this.hold(work, subscriber);
      };
      if (this.free > 0 && this.queue.length === 0) {
        this.free--;
        start();
      } else this.queue.push(start);
      return () => {
        if (teardown !== undefined) teardown();
        else {
          const at = this.queue.indexOf(start);
          if (at >= 0) this.queue.splice(at, 1);
        }
      };
    });
  }

  /** `work` in a slot taken now (to be subscribed at once), or undefined when none is free. */
  tryTake<T>(work: () => Observable<T>): Observable<T> | undefined {
    if (this.free <= 0 || this.queue.length > 0) return undefined;
    this.free--;
    return new Observable<T>((subscriber) => this.hold(work, subscriber));
  }

  /** Runs `work` in a slot already taken, and gives the slot back when it ends. */
  private hold<T>(work: () => Observable<T>, subscriber: Subscriber<T>): () => void {
    let held = true;
    const inner = work().subscribe({
      next: (value) => subscriber.next(value),
      error: (error: unknown) => {
        held = false;
        this.free++;
        subscriber.error(error);
      },
      complete: () => {
        held = false;
        subscriber.complete();
        const next = this.queue.shift();
        if (next === undefined) this.free++;
        else next();
      },
    });
    return () => {
      inner.unsubscribe();
      if (held) {
        held = false;
        this.free++;
      }
    };
  }
}

/**
 * Runs many batches: submits each payload (or each chunk of one big portfolio, cut by
 * account with {@link chunkByAccount}), polls it and fetches its results, with at most
 * `concurrency` batches in progress, and emits every batch's events, then one `report`.
 *
 * - **Overlap guard.** The results store keeps one row per account, so a chunk that shares
 *   an account with one in flight waits for it (a `waiting` event) or, with
 *   `onOverlap: 'fail'`, gets an `error` event at once. Never both in flight. A batch whose end
 *   is unknown (its polling failed or timed out, or its submit's answer was lost, a 5xx but 503 or unreadable) may still
 *   run on the server: a later chunk holding one of its accounts gets an `error` event
 *   ({@link AccountOverlapError}) and is not sent.
 * - **Shared work.** Each batch id has one polling loop ({@link createBatchWatcher});
 *   batches finishing close together share one results request ({@link createResultsFetcher}),
 *   which re-fetches a few times while submitted accounts are missing or stale.
 * - **Adaptive polling** ({@link adaptivePollInterval}) unless turned off; a batch with no
 *   change for `stallPolls` answers gets a `stalled` event, one whose percentage falls a
 *   `regressed` event. Neither stops it.
 * - **413.** A chunk refused as too large is split in half by account (`split` event) and
 *   the halves resubmitted, side by side when a slot of `concurrency` is free, else one
 *   after the other, down to single accounts; a single account still too large
 *   gets an `error` event. The report lists the splits.
 * - **Errors are per batch.** A refused submit, a failed batch, a timeout or a failed
 *   results request gives that chunk an `error` event and the report an entry with the
 *   error; the other batches go on and the stream still ends with the report. Only a
 *   refused key (`AuthenticationError`) ends the whole run with an error, as every other
 *   request would be refused too.
 * - A 429 holds every request of the client (the client's shared throttle), so a rate
 *   limit hit by one batch slows all of them instead of each spending its own 429.
 *
 * Cold: every subscription runs everything again. Unsubscribing cancels every poll,
 * request and wait.
 *
 * ```
 * concurrency 2, chunks 1 {A}, 2 {B}, 3 {A}
 * 1:  ^--S--Q----C--R|
 * 2:  ^--S---C--R|
 * 3:  W-------------^--S--C--R|      W = waiting for 1 (shares A), starts when 1 is done
 * out: W-S-S-Q-C-R-C-R--S--C--R-(report|)
 * ```
 *
 * Example:
 * ```ts
 * runBatches(client, { payload, maxAccounts: 500 }, { concurrency: 8 }).subscribe((event) => {
 *   if (event.type === 'status') bars.update(event.batch.batchId, event.status.completed_pct);
 *   if (event.type === 'report') console.log(formatReportText(event.report));
 * });
 * ```
 *
 * @param client the API client (its retry policy and 429 throttle apply to every request)
 * @param input batch payloads, or `{ payload, maxAccounts?, maxBytes? }` to chunk one portfolio (loaded, or a file from `openPortfolio`)
 * @param config concurrency, mode, overlap policy, polling, results and scheduler; see {@link RunBatchesConfig}
 * @throws TypeError at call time when the input or any part of the configuration is invalid
 */
export function runBatches(client: C9Client, input: RunBatchesInput, config: RunBatchesConfig = {}): Observable<RunBatchesEvent> {
  const { concurrency = 4, processingMode = 'fifo', onOverlap = 'wait', splitOnTooLarge = true } = config;
  positiveInteger('concurrency', concurrency);
  if (!(PROCESSING_MODES as readonly string[]).includes(processingMode)) {
    throw new TypeError(`runBatches: processingMode must be one of ${PROCESSING_MODES.join(', ')}; got ${JSON.stringify(processingMode)}`);
  }
  const payloads = chunksOf(input);
  const guard = config.guard ?? createOverlapGuard({ onOverlap });
  const { follow, top, scheduler } = follower(client, config);

  return defer(() => {
    const outcomes = outcomeCollector();
    const slots = new Slots(concurrency);
    // Accounts of batches whose end is unknown: a batch whose polling failed or timed out may
    // still run on the server, and a submit whose answer was lost may have created one. Its
    // rows could then overwrite a later batch's, or be taken for them (written after that
    // batch started, they pass the freshness test by time), so a later chunk holding one of
    // these accounts is refused, not sent (see `work` in `run`).
    const unsettled = new Map<string, string>();
    const terminalSeen = new Set<string>();
    const noteUnsettled = (event: BatchRunEvent): void => {
      if (event.type === 'status' && isTerminalStatus(event.status.status)) terminalSeen.add(event.batch.batchId);
      if (event.type !== 'error') return;
      const { batch, error } = event;
      const holder =
        batch !== undefined
          ? terminalSeen.has(batch.batchId) || error instanceof BatchFailedError
            ? undefined
            : `batch ${batch.batchId}, whose end is unknown (${error.constructor.name}),`
          : submitMayHaveQueued(error)
            ? `chunk ${event.chunk}, whose submit may have created a batch (${error.constructor.name}),`
            : undefined;
      if (holder !== undefined) for (const code of event.accountCodes) unsettled.set(code, holder);
    };
    // True once the subscriber has left or a fatal error ends the run: see `work` in `run`.
    let closing = false;

    // replace_all: 'open' until a replace_all submit is accepted; 'pending' while one is in flight.
    const modeState = new BehaviorSubject<'open' | 'pending' | 'done'>(processingMode === 'replace_all' ? 'open' : 'done');
    const sendWithMode = <T>(send: (mode: ProcessingMode) => Observable<T>): Observable<T> =>
      defer(() => {
        if (processingMode !== 'replace_all') return send(processingMode);
        const state = modeState.value;
        if (state === 'done') return send('fifo');
        if (state === 'pending') {
          return modeState.pipe(
            filter((s) => s !== 'pending'),
            take(1),
            mergeMap(() => sendWithMode(send)),
          );
        }
        modeState.next('pending');
        let accepted = false;
        return send('replace_all').pipe(
          tap(() => (accepted = true)),
          finalize(() => modeState.next(accepted ? 'done' : 'open')),
        );
      });

    /** Submits one chunk; on 413 splits it and submits the halves; then follows each accepted batch. */
    const submit = (chunk: string, payload: PortfolioRequest | StreamedPortfolioRequest): Observable<BatchRunEvent> => {
      const accountCodes = accountCodesOfRequest(payload);
      const accepted = sendWithMode((mode) =>
        defer(() => {
          const sentAt = scheduler.now();
          const requested = isStreamedPortfolio(payload) ? payload.options.request_id : payload.request_id;
          const requestId = typeof requested === 'string' && requested !== '' ? requested : undefined;
          return client.submitBatch(payload, { processingMode: mode }).pipe(
            take(1),
            map(
              (answer): SubmittedBatch => ({
                batchId: answer.batch_id,
                accountCodes,
                submittedAt: new Date(sentAt).toISOString(),
                processingMode: mode,
                endpoint: client.endpoint,
                ...(requestId === undefined ? {} : { requestId }),
              }),
            ),
          );
        }),
      );
      return accepted.pipe(
        map((batch) => ({ batch }) as const),
        catchError((error: unknown) => of({ error } as const)),
        mergeMap((outcome): Observable<BatchRunEvent> => {
          if ('batch' in outcome) {
            outcomes.noteChunk(outcome.batch.batchId, chunk);
            return concat(of<BatchRunEvent>({ type: 'submitted', batch: outcome.batch }), follow(chunk, outcome.batch));
          }
          const { error } = outcome;
          if (isFatal(error)) return throwError(() => error);
          const splittable = !isStreamedPortfolio(payload) || payload.subset !== undefined;
          if (error instanceof PayloadTooLargeError && splitOnTooLarge && accountCodes.length > 1 && splittable) {
            const into = halves(chunk);
            const [left, right] = splitRequest(payload, accountCodes);
            // The first half goes in the chunk's slot; the second beside it only when a slot is
            // free, else after it: both at once in one slot (each splitting again) broke `concurrency`.
            const announced = of<BatchRunEvent>({ type: 'split', chunk, accountCodes, into, error });
            return defer(() => {
              const beside = slots.tryTake(() => submit(into[1], right));
              if (beside === undefined) return concat(announced, submit(into[0], left), submit(into[1], right));
              return concat(announced, merge(submit(into[0], left), beside));
            });
          }
          return of<BatchRunEvent>({ type: 'error', chunk, accountCodes, error: asError(error) });
        }),
      );
    };

    const run = (chunk: string, payload: PortfolioRequest | StreamedPortfolioRequest): Observable<BatchRunEvent> => {
      const accountCodes = accountCodesOfRequest(payload);
      // A chunk the guard frees while the run itself is being unsubscribed sends nothing: it
      // is torn down right after, and its submit could reach the server before the abort.
      const work = (): Observable<BatchRunEvent> => {
        if (closing) return EMPTY;
        const shared = accountCodes.filter((code) => unsettled.has(code));
        if (shared.length > 0) {
          const holders = [...new Set(shared.map((code) => unsettled.get(code) ?? ''))];
          return of<BatchRunEvent>({ type: 'error', chunk, accountCodes, error: new AccountOverlapError(chunk, shared, holders) });
        }
        return submit(chunk, payload).pipe(
          tap({
            next: noteUnsettled,
            // A fatal error ends the run; the guard frees this chunk's accounts before passing
            // it on, which starts the chunks waiting for them: they must send nothing either.
            // (Anything else that escapes submit, a streamed request's subset() throwing, say,
            // becomes this chunk's error event and the run goes on.)
            error: (error: unknown) => {
              if (isFatal(error)) closing = true;
            },
          }),
        );
      };
      return guard
        .run<BatchRunEvent>({ label: chunk, accountCodes }, work, (blockedBy) => ({ type: 'waiting', chunk, accountCodes, blockedBy }))
        .pipe(
          catchError((error: unknown) =>
            // Besides a fatal error, only the guard's own refusal arrives here: submit made everything else an event.
            isFatal(error) ? throwError(() => error) : of<BatchRunEvent>({ type: 'error', chunk, accountCodes, error: asError(error) }),
          ),
        );
    };

    const events = from(payloads.map((payload, i) => [String(i + 1), payload] as const)).pipe(
      mergeMap(([chunk, payload]) => slots.take(() => run(chunk, payload))),
      tap((event) => outcomes.record(event)),
    );
    const all = concat(
      events,
      defer(() => of<RunBatchesEvent>({ type: 'report', report: buildReport(outcomes.outcomes(), { top, splits: outcomes.splits }), splits: [...outcomes.splits] })),
    );
    return new Observable<RunBatchesEvent>((subscriber) => {
      // An observer of its own, not the subscriber: the chunks' teardowns must run after ours.
      // Our teardown is added before subscribing: a subscriber that leaves on an event sent
      // while the chunks are still being subscribed (a `waiting` one, say) must stop the chunks
      // after it from sending, and `all` does not see that it left.
      const subscription = new Subscription();
      subscriber.add(() => {
        // Set before the chunks are torn down one by one (see `work`).
        closing = true;
        subscription.unsubscribe();
      });
      subscription.add(
        all.subscribe({
          next: (event) => subscriber.next(event),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
    });
  });
}

/** The account codes a request is submitted with (a streamed one knows them without its positions). */
function accountCodesOfRequest(payload: PortfolioRequest | StreamedPortfolioRequest): string[] {
  return isStreamedPortfolio(payload) ? [...payload.accountCodes] : accountCodesOf(payload.portfolio);
}

/** The two halves of a request by account; a streamed one through its own `subset`. */
function splitRequest(payload: PortfolioRequest | StreamedPortfolioRequest, accountCodes: readonly string[]): [PortfolioRequest | StreamedPortfolioRequest, PortfolioRequest | StreamedPortfolioRequest] {
  if (!isStreamedPortfolio(payload)) return splitPayload(payload, accountCodes);
  const cut = Math.ceil(accountCodes.length / 2);
  const subset = payload.subset?.bind(payload);
  if (subset === undefined) throw new TypeError('runBatches: a streamed request without subset() cannot be split');
  return [subset(accountCodes.slice(0, cut)), subset(accountCodes.slice(cut))];
}

/** The input as a list of payloads, checked now. */
function chunksOf(input: RunBatchesInput): readonly (PortfolioRequest | StreamedPortfolioRequest)[] {
  const isPayload = (p: unknown): p is PortfolioRequest =>
    typeof p === 'object' && p !== null && Array.isArray((p as { portfolio?: unknown }).portfolio);
  if (Array.isArray(input)) {
    const list: readonly unknown[] = input;
    list.forEach((p, i) => {
      if (!isPayload(p) && !isStreamedPortfolio(p)) throw new TypeError(`runBatches: input[${i}] must be a portfolio request with a portfolio array, or a streamed request`);
    });
    return list as readonly (PortfolioRequest | StreamedPortfolioRequest)[];
  }
  const chunked = input as ChunkedInput;
  if (typeof chunked !== 'object' || chunked === null || !(isPayload(chunked.payload) || isChunkable(chunked.payload))) {
    throw new TypeError('runBatches: input must be an array of portfolio requests or { payload, maxAccounts?, maxBytes? } (payload loaded, or opened with openPortfolio)');
  }
  const { payload, maxAccounts, maxBytes } = chunked;
  const limits = { ...(maxAccounts === undefined ? {} : { maxAccounts }), ...(maxBytes === undefined ? {} : { maxBytes }) };
  // An opened file cuts itself from the sizes counted when it was opened, each chunk read from the file when sent.
  return isChunkable(payload) ? payload.chunks(limits) : chunkByAccount(payload, limits);
}

/** Options of {@link resumeBatches}. */
export type ResumeBatchesConfig = FollowConfig;

/**
 * Picks up saved batches (see `saveHandles`/`loadHandles`) after a crash or Ctrl-C:
 * announces each again as `submitted`, polls it and fetches its results exactly as
 * {@link runBatches} does (shared loops, shared results fetch, re-fetches, stall reports),
 * then emits the report. Nothing is submitted; a batch id given twice is followed once. All handles are followed at once: they are
 * already queued at the server, and polling them costs one request each per interval.
 * A handle saved for another endpoint than the client's gets an `error` event (its id would
 * mean nothing there, or worse, another batch).
 *
 * ```
 * handles:  [h1, h2]
 * out:      (S1 S2)-Q1-C2-R2-C1-R1-(report|)
 * ```
 *
 * Example:
 * ```ts
 * resumeBatches(client, await loadHandles('run.state.json')).subscribe(render);
 * ```
 *
 * @param client the API client of the same endpoint (any key of the same user)
 * @param handles the saved batches
 * @param config polling, results, report and scheduler; see {@link FollowConfig}
 * @throws TypeError at call time when a handle or the configuration is invalid
 */
export function resumeBatches(client: C9Client, handles: readonly SubmittedBatch[], config: ResumeBatchesConfig = {}): Observable<RunBatchesEvent> {
  if (!Array.isArray(handles)) throw new TypeError('resumeBatches: handles must be an array');
  const given: readonly SubmittedBatch[] = handles;
  given.forEach((h, i) => {
    if (typeof h?.batchId !== 'string' || !Array.isArray(h.accountCodes) || typeof h.submittedAt !== 'string') {
      throw new TypeError(`resumeBatches: handles[${i}] is not a batch handle`);
    }
  });
  // A batch id given twice (state files merged, say) is one batch: followed and reported once,
  // not once as done and once as without results.
  const ids = new Set<string>();
  const list = given.filter((h) => !ids.has(h.batchId) && ids.add(h.batchId) !== undefined);
  const { follow, top, scheduler } = follower(client, config);
  // Compared without user info: saveHandles writes none, and the client may have been made with it.
  const here = endpointWithoutUserInfo(client.endpoint);
  const sameEndpoint = (endpoint: string | undefined): boolean => {
    if (endpoint === undefined) return true;
    // A value that is no URL comes back as it is, and so differs from `here`.
    return endpointWithoutUserInfo(endpoint) === here;
  };

  return defer(() => {
    const outcomes = outcomeCollector();
    const events = from(list.map((batch, i) => [String(i + 1), batch] as const)).pipe(
      mergeMap(([chunk, batch]): Observable<BatchRunEvent> => {
        outcomes.noteChunk(batch.batchId, chunk);
        const announced = of<BatchRunEvent>({ type: 'submitted', batch });
        if (!sameEndpoint(batch.endpoint)) {
          const error = new C9Error(`batch ${batch.batchId} was submitted to ${endpointWithoutUserInfo(batch.endpoint ?? '?')}, not to ${here}`);
          return concat(announced, of<BatchRunEvent>({ type: 'error', chunk, accountCodes: batch.accountCodes, batch, error }));
        }
        return concat(announced, follow(chunk, batch));
      }),
      tap((event) => outcomes.record(event)),
    );
    return concat(
      events,
      defer(() => of<RunBatchesEvent>({ type: 'report', report: buildReport(outcomes.outcomes(), { top, splits: outcomes.splits }), splits: [...outcomes.splits] })),
    );
  });
}

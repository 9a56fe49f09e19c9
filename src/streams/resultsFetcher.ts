/**
 * One `GET /results/accounts` for every batch that finishes at about the same time.
 */
import { asyncScheduler, defer, map, mergeMap, Observable, of, take, throwError, timer, type SchedulerLike, type Subscription } from 'rxjs';
import { isTerminalStatus, type AccountResult } from '../codecs';
import type { C9Client } from '../http/client';
import { BatchFailedError } from '../http/errors';
import { selectBatchResults } from '../operators/selectBatchResults';
import type { BatchResults, TerminalBatch } from '../types';

/** Options of {@link createResultsFetcher}. All times are in milliseconds. */
export interface ResultsFetcherConfig {
  /** How long the first request of a round waits for others to join it. 0 still gathers the requests of the same moment. Default 50. */
  readonly windowMs?: number;
  /**
   * Requests in flight at once. A round whose window has passed while this many are in
   * flight waits for one to end, gathering every batch that finishes meanwhile. Default 1:
   * each request downloads the whole store, so two at once share the link and the client's
   * CPU and both arrive later, and the later round would hold fresher rows anyway.
   */
  readonly maxInFlight?: number;
  /** Extra fetches when submitted accounts are missing or stale (the store may lag behind the batch). Default 3. */
  readonly refetchAttempts?: number;
  /** Wait before the first extra fetch; each later one waits `refetchFactor` times longer. Default 250. */
  readonly refetchDelayMs?: number;
  /** Growth of the wait between extra fetches. Default 2. */
  readonly refetchFactor?: number;
  /**
   * A batch that finishes while a request is in flight also reads that request's answer (its
   * accounts are added to the request's before the answer arrives): when all its submitted
   * accounts are there with rows carrying the batch's own request id, the answer was made
   * after the batch's rows were written, and it needs no round of its own (a row fresh only
   * by its time may be another batch's, written before this one's). Otherwise it waits for the next round as usual. Set
   * false to serve every batch only from a request sent after it finished (a server that
   * writes an account's sub-account rows after its master row would otherwise show a master
   * row without all its sub-accounts in such an answer). Default true.
   */
  readonly joinInFlight?: boolean;
  /** Freshness tolerance against the client's clock; see `selectBatchResults`. Default 0. */
  readonly clockSkewMs?: number;
  /** The scheduler of the window and the waits. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** Fetches results for terminal batches, sharing requests; see {@link createResultsFetcher}. */
export interface ResultsFetcher {
  /**
   * The results of one terminal batch: one value, then completion. Errors with
   * `BatchFailedError` after `failed` (nothing is requested) and with a TypeError for a
   * status that is not terminal.
   */
  fetch(terminal: TerminalBatch): Observable<BatchResults>;
}

/** A caller waiting for rows. */
interface Waiter {
  readonly accountCodes: readonly string[];
  readonly subscriber: { next(rows: readonly AccountResult[]): void; error(error: unknown): void; complete(): void };
  /** Whether the answer of a request sent before this waiter came will do for it (see `joinInFlight`). */
  readonly takesEarly: ((rows: readonly AccountResult[]) => boolean) | undefined;
}

/** One request serving a group of waiters. */
interface Flight {
  readonly waiters: Set<Waiter>;
  /** Waiters that came while it was in flight, served by its answer only when their rows will do. */
  readonly riders: Set<Waiter>;
  /** The accounts asked for: riders add theirs, and the client reads the set when the answer arrives. */
  readonly accountCodes: Set<string>;
  subscription?: Subscription;
  /** Answered, failed or cancelled: no longer counted in flight. */
  ended: boolean;
}

/** Rows of one answer, indexed so each batch reads only its own instead of the whole store. */
interface RowIndex {
  readonly byAccount: Map<string, AccountResult[]>;
  readonly byParent: Map<string, AccountResult[]>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function indexRows(rows: readonly AccountResult[]): RowIndex {
  const byAccount = new Map<string, AccountResult[]>();
  const byParent = new Map<string, AccountResult[]>();
  for (const row of rows) {
    push(byAccount, row.account_code, row);
    if (row.parent_portfolio_id) push(byParent, row.parent_portfolio_id, row);
  }
  return { byAccount, byParent };
}

/** The rows that can matter to these accounts: their own, and the sub-account rows of those. */
function rowsOf(index: RowIndex, accountCodes: readonly string[]): AccountResult[] {
  const own: AccountResult[] = [];
  for (const code of new Set(accountCodes)) for (const row of index.byAccount.get(code) ?? []) own.push(row);
  const picked = new Set(own);
  for (const row of own) {
    if (!row.portfolio_id || row.parent_portfolio_id) continue;
    // A Set: a sub-account row whose own account code was also submitted is already in.
    for (const child of index.byParent.get(row.portfolio_id) ?? []) picked.add(child);
  }
  return [...picked];
}

/**
 * Makes a results fetcher: batches that reach a terminal state within `windowMs` of each
 * other share one `GET /results/accounts` (asking for the union of their accounts), and
 * each gets its own rows, picked exactly as {@link fetchBatchResults} picks them
 * (`selectBatchResults`). At most `maxInFlight` requests run at once: a round ready while
 * they do is sent when one ends, with every batch that finished meanwhile, so under a
 * stream of finishing batches requests follow each other back to back whatever the window.
 * A batch that finishes while a request is in flight rides it too (`joinInFlight`): when that
 * answer already holds all its rows, carrying its own request id, it is served then, without
 * waiting for a round of its own.
 * When some submitted accounts are missing or stale, the store may not have caught up yet:
 * the batch fetches again, up to `refetchAttempts` times, waiting `refetchDelayMs`, then
 * `refetchFactor` times longer each time (those fetches join rounds too), before reporting
 * them. A request is cancelled when every batch it serves has unsubscribed; a round nobody
 * waits for any more is never sent.
 *
 * ```
 * windowMs = 20, maxInFlight = 1, each request takes 60 ms
 * fetch(a):  ^-----------------r|                      a, b: one round
 * fetch(b):   ^----------------r|
 * fetch(c):          ^------------------------r|       window passed at c+20, request in flight:
 * fetch(d):                ^------------------r|       c and d go out when it ends
 * requests:  |-20-|R-----60-----|R-----60-----|
 *
 * joinInFlight (default): c and d also read the first answer; when it holds all their rows
 * (their own request ids), they get them there (r at 80) and the second request is not sent
 * ```
 *
 * Example:
 * ```ts
 * const fetcher = createResultsFetcher(client, { windowMs: 50 });
 * watcher.watch(batch).pipe(last(), mergeMap((status) => fetcher.fetch({ batch, status })))
 *   .subscribe((results) => console.log(results.rows.length, results.missing));
 * ```
 *
 * @param client the API client
 * @param config window, re-fetch policy, freshness tolerance and scheduler
 * @throws TypeError when a value is out of range (at call time)
 */
export function createResultsFetcher(client: C9Client, config: ResultsFetcherConfig = {}): ResultsFetcher {
  const { windowMs = 50, maxInFlight = 1, refetchAttempts = 3, refetchDelayMs = 250, refetchFactor = 2, joinInFlight = true, clockSkewMs = 0, scheduler = asyncScheduler } = config;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const fail = (rule: string, value: unknown): never => {
    throw new TypeError(`createResultsFetcher: ${rule}; got ${String(value)}`);
  };
  if (!finite(windowMs) || windowMs < 0) fail('windowMs must be a finite number >= 0', windowMs);
  if (!(maxInFlight === Infinity || (Number.isInteger(maxInFlight) && maxInFlight >= 1))) fail('maxInFlight must be an integer >= 1 or Infinity', maxInFlight);
  if (!Number.isInteger(refetchAttempts) || refetchAttempts < 0) fail('refetchAttempts must be an integer >= 0', refetchAttempts);
  if (!finite(refetchDelayMs) || refetchDelayMs < 0) fail('refetchDelayMs must be a finite number >= 0', refetchDelayMs);
  if (!finite(refetchFactor) || refetchFactor < 1) fail('refetchFactor must be a finite number >= 1', refetchFactor);
  if (!finite(clockSkewMs) || clockSkewMs < 0) fail('clockSkewMs must be a finite number >= 0', clockSkewMs);
  if (typeof joinInFlight !== 'boolean') fail('joinInFlight must be a boolean', joinInFlight);
  if (typeof scheduler?.now !== 'function' || typeof scheduler.schedule !== 'function') fail('scheduler must be an RxJS scheduler', scheduler);

  // The round still gathering waiters, its timer, and whether its window has passed (it is
  // then sent as soon as fewer than maxInFlight requests run).
  let gathering: Set<Waiter> | undefined;
  let windowTimer: Subscription | undefined;
  let windowPassed = false;
  let inFlight = 0;
  const flightOf = new Map<Waiter, Flight>();
  // Requests sent and not answered yet, which a waiter that comes now may ride.
  const unanswered = new Set<Flight>();
  const ridingOn = new Map<Waiter, Flight[]>();

  /** Takes a waiter out of the round still gathering (dropping the round when it was the last). */
  const leaveGathering = (waiter: Waiter): void => {
    if (gathering?.delete(waiter) && gathering.size === 0) {
      windowTimer?.unsubscribe();
      gathering = undefined;
      windowTimer = undefined;
      windowPassed = false;
    }
  };
  const indexes = new WeakMap<readonly AccountResult[], RowIndex>();

  const sendIfReady = (): void => {
    if (gathering !== undefined && windowPassed && inFlight < maxInFlight) launch(gathering);
  };

  const end = (flight: Flight): void => {
    if (flight.ended) return;
    flight.ended = true;
    inFlight--;
    sendIfReady();
  };

  const launch = (waiters: Set<Waiter>): void => {
    gathering = undefined;
    windowTimer = undefined;
    windowPassed = false;
    inFlight++;
    const accountCodes = new Set<string>();
    const flight: Flight = { waiters, riders: new Set(), accountCodes, ended: false };
    for (const waiter of waiters) {
      flightOf.set(waiter, flight);
      for (const code of waiter.accountCodes) accountCodes.add(code);
    }
    // Each waiter is settled once and forgotten first, so a waiter's reaction (unsubscribing
    // others, starting new fetches) never sees a half-settled round.
    const settle = (deliver: (waiter: Waiter) => void, rows?: readonly AccountResult[]): void => {
      unanswered.delete(flight);
      // Riders whose rows are all here leave the round still gathering first, so that it is
      // not sent (or sent smaller) for them.
      const early: Waiter[] = [];
      if (rows !== undefined) {
        for (const rider of flight.riders) {
          if (rider.takesEarly?.(rows)) {
            early.push(rider);
            leaveGathering(rider);
          }
        }
      }
      flight.riders.clear();
      // The next round goes out before this one's rows are handed out: its request is on the
      // wire while they are picked.
      end(flight);
      const all = [...flight.waiters];
      flight.waiters.clear();
      for (const waiter of all) flightOf.delete(waiter);
      for (const waiter of all) deliver(waiter);
      for (const rider of early) deliver(rider);
    };
    const answer = (waiter: Waiter, rows: readonly AccountResult[]): void => {
      waiter.subscriber.next(rows);
      waiter.subscriber.complete();
    };
    unanswered.add(flight);
    flight.subscription = client
      .getAccountResults({ accountCodes })
      .pipe(take(1))
      .subscribe({
        next: (rows) => settle((waiter) => answer(waiter, rows), rows),
        error: (error: unknown) => settle((waiter) => waiter.subscriber.error(error)),
        complete: () => settle((waiter) => waiter.subscriber.complete()),
      });
  };

  /**
   * The live rows of these accounts, from the next round's shared request, or from the answer
   * of a request already in flight when `takesEarly` says it will do.
   */
  const rowsFor = (accountCodes: readonly string[], takesEarly?: (rows: readonly AccountResult[]) => boolean): Observable<readonly AccountResult[]> =>
    new Observable<readonly AccountResult[]>((subscriber) => {
      const waiter: Waiter = { accountCodes, subscriber, takesEarly: joinInFlight ? takesEarly : undefined };
      if (waiter.takesEarly !== undefined && unanswered.size > 0) {
        const rides = [...unanswered];
        ridingOn.set(waiter, rides);
        for (const flight of rides) {
          flight.riders.add(waiter);
          for (const code of accountCodes) flight.accountCodes.add(code);
        }
      }
      if (gathering === undefined) {
        gathering = new Set<Waiter>();
        windowPassed = false;
        windowTimer = timer(windowMs, scheduler).subscribe(() => {
          windowPassed = true;
          sendIfReady();
        });
      }
      gathering.add(waiter);
      return () => {
        leaveGathering(waiter);
        for (const flight of ridingOn.get(waiter) ?? []) flight.riders.delete(waiter);
        ridingOn.delete(waiter);
        const flight = flightOf.get(waiter);
        if (flight === undefined) return;
        flightOf.delete(waiter);
        flight.waiters.delete(waiter);
        if (flight.waiters.size === 0) {
          // Cancelled: its answer never comes, so nobody may ride it any more.
          unanswered.delete(flight);
          flight.subscription?.unsubscribe();
          end(flight);
        }
      };
    });

  const pick = (terminal: TerminalBatch, rows: readonly AccountResult[]): BatchResults => {
    let index = indexes.get(rows);
    if (index === undefined) {
      index = indexRows(rows);
      indexes.set(rows, index);
    }
    return selectBatchResults(terminal.batch, terminal.status, rowsOf(index, terminal.batch.accountCodes), { clockSkewMs });
  };

  return {
    fetch(terminal: TerminalBatch): Observable<BatchResults> {
      const { batch, status } = terminal;
      if (status.status === 'failed') return throwError(() => new BatchFailedError(batch.batchId, status.error ?? undefined));
      if (!isTerminalStatus(status.status)) {
        // The store would answer with whatever ran before this batch: refuse rather than mislead.
        return throwError(() => new TypeError(`fetch: batch ${batch.batchId} is not terminal (status ${status.status})`));
      }
      const complete = (results: BatchResults): boolean => results.missing.length === 0 && results.stale.length === 0;
      // An answer in flight may have been made before this batch wrote its rows, and then an
      // account's row is another batch's: one that passes the test by time (created before this
      // batch and processed after it was created, or within clockSkewMs) would be taken for
      // this batch's. Only rows carrying the batch's own id show the answer came after its
      // writes, so without a start time or the payload's request id (the caller's, which a
      // previous run of the same file wrote too) the early test is by the batch id alone.
      const ownRowsOnly: TerminalBatch = { batch: { ...batch, submittedAt: '', requestId: undefined }, status: { ...status, created_at: undefined } };
      const attempt = (done: number): Observable<BatchResults> =>
        rowsFor(batch.accountCodes, (rows) => complete(pick(ownRowsOnly, rows))).pipe(
          take(1),
          map((rows) => pick(terminal, rows)),
          mergeMap((results) => {
            if (complete(results) || done >= refetchAttempts) return of(results);
            return timer(refetchDelayMs * refetchFactor ** done, scheduler).pipe(mergeMap(() => attempt(done + 1)));
          }),
        );
      return defer(() => attempt(0));
    },
  };
}

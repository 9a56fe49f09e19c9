/**
 * The whole documented flow as one stream: submit, poll until terminal, fetch the results.
 */
import { asyncScheduler, concat, concatMap, map, of, type Observable, type SchedulerLike } from 'rxjs';
import { isTerminalStatus, type PortfolioRequest, type ProcessingMode } from '../codecs';
import type { C9Client } from '../http/client';
import { fetchBatchResults, type FetchBatchResultsConfig } from '../operators/fetchBatchResults';
import { pollUntilTerminal, type PollConfig } from '../operators/pollUntilTerminal';
import { submitBatch } from '../operators/submitBatch';
import type { BatchEvent } from '../types';

/** Options of {@link runBatch}. */
export interface RunBatchConfig {
  /** `x-processing-mode` of the submit. Default `fifo`. */
  readonly processingMode?: ProcessingMode;
  /** Polling backoff and deadline; its `scheduler`, when set, wins over the one below. */
  readonly poll?: PollConfig;
  /** How result rows are picked. */
  readonly results?: FetchBatchResultsConfig;
  /** The scheduler of every wait and timestamp. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Submits one portfolio, polls its batch until a terminal status and fetches its results,
 * emitting one event per step. Cold: nothing is sent before subscription, and every
 * subscription submits a new batch. Unsubscribing at any point cancels the request in
 * flight and every pending wait.
 *
 * ```
 * submit:    ^--a
 * polls:        ^-q  ^-p   ^-c
 * results:                   ^--r
 * output:    ---S-Q----P-----C--(R|)
 * ```
 * S = `{type:'submitted', batch}`, Q/P/C = `{type:'status', batch, status}`,
 * R = `{type:'results', batch, results}`. After `failed` the stream errors with
 * `BatchFailedError` right after the `failed` status event; past the poll deadline, with
 * `BatchTimeoutError`.
 *
 * Example:
 * ```ts
 * runBatch(client, payload, { processingMode: 'priority', poll: { timeoutMs: 10 * 60_000 } })
 *   .subscribe((event) => {
 *     if (event.type === 'status') console.log(event.status.status, event.status.completed_pct);
 *     if (event.type === 'results') console.log(event.results.totalInitialMargin);
 *   });
 * ```
 *
 * @param client the API client
 * @param payload the portfolio request, sent unchanged
 * @param config processing mode, polling, result picking and scheduler
 * @throws TypeError at call time when any part of the configuration is invalid
 */
export function runBatch(client: C9Client, payload: PortfolioRequest, config: RunBatchConfig = {}): Observable<BatchEvent> {
  const { processingMode = 'fifo', poll = {}, results = {}, scheduler = asyncScheduler } = config;
  // Built now, not on subscribe, so a bad configuration fails where it was written.
  const submit = submitBatch(client, { processingMode, scheduler });
  const pollStatus = pollUntilTerminal(client, { ...poll, scheduler: poll.scheduler ?? scheduler });
  const fetchResults = fetchBatchResults(client, results);

  return of(payload).pipe(
    submit,
    concatMap((batch) =>
      concat(
        of<BatchEvent>({ type: 'submitted', batch }),
        of(batch).pipe(
          pollStatus,
          concatMap((status) => {
            const statusEvent = of<BatchEvent>({ type: 'status', batch, status });
            if (!isTerminalStatus(status.status)) return statusEvent;
            const resultsEvent = of({ batch, status }).pipe(
              fetchResults,
              map((picked): BatchEvent => ({ type: 'results', batch, results: picked })),
            );
            return concat(statusEvent, resultsEvent);
          }),
        ),
      ),
    ),
  );
}

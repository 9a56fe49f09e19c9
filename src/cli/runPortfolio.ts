/**
 * `c9-batch run <file>`: load, chunk, submit → poll → fetch every batch, report.
 */
import {
  asyncScheduler,
  catchError,
  concatMap,
  defer,
  EMPTY,
  from,
  ignoreElements,
  mergeMap,
  of,
  ReplaySubject,
  take,
  takeUntil,
  tap,
  timer,
  type Observable,
} from 'rxjs';
import { accountCodesOf, type BatchStatus, type CurrencyCode, type PortfolioRequest, type ProcessingMode } from '../codecs';
import { createClient } from '../http/client';
import { BatchTimeoutError, formatMs } from '../http/errors';
import { redact, registerSecret } from '../http/redact';
import { loadPortfolio } from '../input';
import { chunkByAccount } from '../streams/chunkByAccount';
import { buildReport, exitCodeFor, formatReportText, type BatchOutcome } from '../streams/report';
import { runBatch } from '../streams/runBatch';
import type { BatchResults, SubmittedBatch } from '../types';
import { connectForRun, type Target } from './endpoint';
import { formatError } from './formatError';
import { EXIT, interruptedExitCode, type CliIo } from './io';
import { createProgress, type ProgressDisplay } from './progress';
import { outFormatOf, writeRows } from './writeRows';

/** Options of `c9-batch run`, parsed. */
export interface RunOptions {
  readonly endpoint?: string;
  readonly mode: ProcessingMode;
  readonly calculationType?: string;
  readonly currency?: CurrencyCode;
  /** At most this many accounts per batch; one batch when undefined. */
  readonly chunkAccounts?: number;
  /** Batches in flight at once. */
  readonly concurrency: number;
  /** First wait between polls, ms; the library default when undefined. */
  readonly pollIntervalMs?: number;
  /** Deadline of the whole run, ms. */
  readonly timeoutMs: number;
  readonly out?: string;
  readonly format: 'text' | 'json';
  readonly verbose: boolean;
  readonly quiet: boolean;
}

/** Default deadline of a whole run: a stuck batch must not keep a night job waiting forever. */
export const DEFAULT_RUN_TIMEOUT_MS = 30 * 60_000;

interface ChunkState {
  startedAt?: number;
  batch?: SubmittedBatch;
  status?: BatchStatus;
  results?: BatchResults;
  error?: Error;
  done: boolean;
}

/**
 * Runs `c9-batch run <file>` and resolves to its exit code: 0 all batches completed; 2 a
 * batch completed with errors or an account has no fresh row; 1 bad input, bad key, a
 * failed batch, a timeout or any other error; 130 when `io.signal` aborts (Ctrl-C), after
 * cancelling every request and wait at once and listing the batches still running.
 *
 * Example: `process.exitCode = await runPortfolio('book.csv', { ...options }, { stdout, stderr, env, signal })`
 *
 * @param file the portfolio file (CSV, JSON or NDJSON)
 * @param options parsed command-line options
 * @param io streams, environment and the interrupt signal
 */
export async function runPortfolio(file: string, options: RunOptions, io: CliIo): Promise<number> {
  const verbose = options.verbose;
  const fail = (error: unknown): number => {
    io.stderr.write(formatError(error, { verbose }));
    return EXIT.error;
  };
  const info = (line: string): void => {
    if (!options.quiet) io.stderr.write(`${redact(line)}\n`);
  };

  if (options.out !== undefined && outFormatOf(options.out) === undefined) {
    return fail(new Error(`--out ${options.out}: the file name must end in .json or .csv`));
  }

  let payload: PortfolioRequest;
  try {
    payload = withOverrides(await loadPortfolio(file), options);
  } catch (error) {
    return fail(error);
  }
  const chunks = options.chunkAccounts === undefined ? [payload] : chunkByAccount(payload, { maxAccounts: options.chunkAccounts });
  const accountCount = accountCodesOf(payload.portfolio).length;
  info(`read ${payload.portfolio.length} position${plural(payload.portfolio.length)} (${accountCount} account${plural(accountCount)}) from ${file}; ${chunks.length} batch${chunks.length === 1 ? '' : 'es'}`);
  if (io.signal?.aborted) return interruptedExitCode(io.signal);

  let target: Target;
  try {
    target = await connectForRun(options.endpoint, io, info);
  } catch (error) {
    return fail(error);
  }
  registerSecret(target.apiKey);
  try {
    return await execute(chunks, options, io, target, fail, info);
  } finally {
    await target.close();
  }
}

function withOverrides(payload: PortfolioRequest, options: RunOptions): PortfolioRequest {
  let out = payload;
  if (options.calculationType !== undefined) out = { ...out, calculation_type: options.calculationType };
  if (options.currency !== undefined) out = { ...out, currency_code: options.currency };
  return out;
}

async function execute(
  chunks: readonly PortfolioRequest[],
  options: RunOptions,
  io: CliIo,
  target: Target,
  fail: (error: unknown) => number,
  info: (line: string) => void,
): Promise<number> {
  const scheduler = asyncScheduler;
  const client = createClient({ endpoint: target.endpoint, apiKey: target.apiKey });
  const states: ChunkState[] = chunks.map(() => ({ done: false }));
  const progress = createProgress(io.stderr, { total: chunks.length, quiet: options.quiet, now: () => scheduler.now() });
  if (options.verbose) info(`endpoint ${target.endpoint}; mode ${options.mode}; concurrency ${options.concurrency}; timeout ${formatMs(options.timeoutMs)}`);

  // replace_all drops the caller's queued batches: only the run's first batch may do that,
  // and the others are sent after it was accepted, so it cannot drop them.
  const firstAccepted = new ReplaySubject<void>(1);
  const runOne = (chunk: PortfolioRequest, index: number): Observable<never> =>
    defer(() => {
      const state = states[index];
      const gated = options.mode === 'replace_all' && index > 0;
      const gate: Observable<unknown> = gated ? firstAccepted.pipe(take(1)) : of(undefined);
      return gate.pipe(
        concatMap(() => {
          state.startedAt = scheduler.now();
          progress.started(index);
          return runBatch(client, chunk, {
            processingMode: gated ? 'fifo' : options.mode,
            // The run's own deadline below covers polling; one clock is enough.
            poll: { timeoutMs: Infinity, ...pollIntervals(options.pollIntervalMs) },
            scheduler,
          });
        }),
        tap((event) => {
          progress.event(index, event);
          if (event.type === 'submitted') {
            state.batch = event.batch;
            if (index === 0) firstAccepted.next();
          } else if (event.type === 'status') state.status = event.status;
          else state.results = event.results;
        }),
        ignoreElements(),
        catchError((error: unknown) => {
          const err = error instanceof Error ? error : new Error(String(error));
          // Before the server accepted anything (bad key, refused payload, no connection)
          // the same error awaits every other batch: stop the run.
          if (state.batch === undefined) throw err;
          state.error = err;
          progress.failed(index, err);
          progress.error(formatError(err, { verbose: options.verbose }).trimEnd());
          return EMPTY;
        }),
        tap({ complete: () => (state.done = true) }),
      );
    });

  let timedOut = false;
  const run$ = from(chunks).pipe(
    mergeMap((chunk, index) => runOne(chunk, index), options.concurrency),
    takeUntil(timer(options.timeoutMs, scheduler).pipe(tap(() => (timedOut = true)))),
  );

  const ending = await new Promise<{ kind: 'done' } | { kind: 'interrupted' } | { kind: 'error'; error: unknown }>((resolve) => {
    const signal = io.signal;
    const onAbort = (): void => {
      subscription.unsubscribe();
      resolve({ kind: 'interrupted' });
    };
    const subscription = run$.subscribe({
      error: (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ kind: 'error', error });
      },
      complete: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ kind: 'done' });
      },
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  progress.stop();

  const running = states.filter((s) => s.batch !== undefined && !s.done).map((s) => (s.batch as SubmittedBatch).batchId);
  if (ending.kind === 'interrupted') {
    io.stderr.write(
      running.length === 0
        ? 'interrupted: no batch was running\n'
        : `interrupted: ${running.length} batch${running.length === 1 ? '' : 'es'} still running on the server: ${running.join(', ')}\n`,
    );
    return interruptedExitCode(io.signal);
  }
  if (ending.kind === 'error') {
    const code = fail(ending.error);
    if (running.length > 0) io.stderr.write(`batches still running on the server: ${running.join(', ')}\n`);
    return code;
  }

  let code: number = EXIT.ok;
  if (timedOut) {
    const now = scheduler.now();
    states.forEach((state, index) => {
      if (state.done) return;
      if (state.batch === undefined) {
        code = EXIT.error;
        io.stderr.write(`error: the run timed out after ${formatMs(options.timeoutMs)} before batch ${index + 1} of ${chunks.length} was accepted\n`);
        return;
      }
      const queue = state.status?.queue_position;
      state.error = new BatchTimeoutError({
        batchId: state.batch.batchId,
        lastStatus: state.status?.status,
        queuePosition: queue ?? undefined,
        elapsedMs: now - (state.startedAt ?? now),
      });
      io.stderr.write(formatError(state.error, { verbose: false }));
    });
  }

  const outcomes: BatchOutcome[] = states.flatMap((s) => (s.batch === undefined ? [] : [{ batch: s.batch, status: s.status, results: s.results, error: s.error }]));
  const report = buildReport(outcomes);
  if (options.out !== undefined) {
    const rows = outcomes.flatMap((o) => (o.results === undefined ? [] : [...o.results.rows, ...o.results.subAccountRows]));
    try {
      await writeRows(options.out, rows);
      info(`wrote ${rows.length} row${plural(rows.length)} to ${options.out}`);
    } catch (error) {
      code = fail(error);
    }
  }
  io.stdout.write(options.format === 'json' ? `${redact(JSON.stringify(report))}\n` : formatReportText(report));
  return worst(code, exitCodeFor(report));
}

/** Combines exit codes: an error (1) outweighs a partial result (2), which outweighs success (0). */
function worst(a: number, b: number): number {
  return a === EXIT.error || b === EXIT.error ? EXIT.error : Math.max(a, b);
}

function pollIntervals(ms: number | undefined): { initialIntervalMs?: number; maxIntervalMs?: number } {
  return ms === undefined ? {} : { initialIntervalMs: ms, maxIntervalMs: Math.max(ms, 15_000) };
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}

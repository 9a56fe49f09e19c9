/**
 * The part `run` and `resume` share: follow a fan-out run's events to the end with progress,
 * one deadline, Ctrl-C and the state file, then write `--out` and print the report.
 */
import { asyncScheduler, fromEvent, identity, map, merge, NEVER, take, takeUntil, tap, timer, type Observable } from 'rxjs';
import { BatchTimeoutError, formatMs } from '../http/errors';
import { redact } from '../http/redact';
import type { AdaptivePollIntervalConfig } from '../operators/adaptivePollInterval';
import { recordHandles } from '../streams/batchHandle';
import { buildReport, exitCodeFor, formatReportText, isUnsubmitted, type RunReport } from '../streams/report';
import type { FollowConfig, RunBatchesEvent } from '../streams/runBatches';
import type { SubmittedBatch } from '../types';
import { formatError } from './formatError';
import { EXIT, interruptedExitCode, type CliIo } from './io';
import type { ProgressDisplay } from './progress';
import { DeadlineError, type RunTally } from './runTally';
import { writeErrorReason } from './outputFile';
import { writeRows } from './writeRows';

/** The polling options both commands take. */
export interface PollOptions {
  /** `--poll-interval`, ms: the shortest wait between two polls of a batch. */
  readonly pollIntervalMs?: number;
  /** False with `--no-adaptive-poll`: plain backoff from the poll interval. */
  readonly adaptivePoll: boolean;
}

/** Default poll interval of the plain backoff (`--no-adaptive-poll`), ms. */
const DEFAULT_FIXED_POLL_MS = 1000;
/** The largest delay a Node timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Longest wait between two polls, ms (unless the poll interval itself is longer). */
const MAX_POLL_MS = 15_000;

/**
 * The library's polling options for the CLI's flags. Adaptive polling is on: each poll is
 * aimed at the batch's estimated end (from its queue position and the rate its percentage
 * rises). `--poll-interval D` makes D the shortest wait between two polls of a batch and the
 * wait while there is nothing to estimate from yet (growing ×1.5 while nothing moves), so a
 * caller asking for gentle polling is never polled faster than D. `--no-adaptive-poll` uses
 * the plain backoff instead: D (default 1 s) after each change, ×1.5 while nothing changes.
 * Either way waits are capped at 15 s (or D when longer), a server hint wins, and the run's
 * own deadline (not a per-batch one) ends polling.
 *
 * Example: `runBatches(client, input, { ...followConfig({ pollIntervalMs: 2000, adaptivePoll: true }) })`
 *
 * @param options `--poll-interval` and `--no-adaptive-poll`
 */
export function followConfig(options: PollOptions): FollowConfig {
  const d = options.pollIntervalMs;
  const maxIntervalMs = Math.max(d ?? 0, MAX_POLL_MS);
  if (!options.adaptivePoll) {
    return { adaptive: false, poll: { timeoutMs: Infinity, initialIntervalMs: d ?? DEFAULT_FIXED_POLL_MS, maxIntervalMs } };
  }
  const adaptive: AdaptivePollIntervalConfig = d === undefined ? {} : { minIntervalMs: d, fallbackIntervalMs: d, maxIntervalMs };
  return { adaptive, poll: { timeoutMs: Infinity, maxIntervalMs } };
}

/** Options of {@link followRun}. */
export interface FollowRunOptions {
  /** Deadline of the whole run, ms, from the call. */
  readonly timeoutMs: number;
  readonly format: 'text' | 'json';
  readonly out?: string;
  readonly verbose: boolean;
  readonly quiet: boolean;
  /** `--state FILE`: accepted batches are written there as they are accepted. */
  readonly stateFile?: string;
  /** Handles already in the state file, kept in front (none for a fresh run). */
  readonly initialHandles?: readonly SubmittedBatch[];
  /** How to pick the batches up later, or why that is impossible; shown with the batches still running. */
  readonly resumeHint?: string;
}

type Ending = 'interrupted' | 'timeout';

/**
 * Subscribes to `events` (from `runBatches` or `resumeBatches`) until the final report,
 * the deadline or `io.signal`; shows progress; keeps `--state`; then writes `--out` and
 * prints the report on stdout (text or JSON). Resolves to the exit code: the report's
 * (0, 2 or 1), 1 on any other error, 130/143 when interrupted. Ctrl-C cancels every poll,
 * request and wait at once (the state file's last write is finished first) and lists the
 * batches still running; at the deadline the batches still running are reported as timed
 * out and the chunks never accepted as not submitted.
 *
 * Example: `return followRun(runBatches(client, chunks, config), tally, progress, options, io)`
 *
 * @param events the run's events, ending with `report`
 * @param tally fed with every event (what is running, their outcomes)
 * @param progress where progress, warnings and errors go
 * @param options deadline, output, state file
 * @param io streams and the interrupt signal
 */
export async function followRun(
  events: Observable<RunBatchesEvent>,
  tally: RunTally,
  progress: ProgressDisplay,
  options: FollowRunOptions,
  io: CliIo,
): Promise<number> {
  const fail = (error: unknown): number => {
    progress.error(formatError(error, { verbose: options.verbose }).trimEnd());
    return EXIT.error;
  };
  if (io.signal?.aborted) {
    progress.stop();
    return interruptedExitCode(io.signal);
  }

  let ending: Ending | undefined;
  let report: RunReport | undefined;
  // Beyond the largest timer delay Node would fire at once instead: such a deadline is none.
  const deadline = options.timeoutMs > MAX_TIMER_MS ? NEVER : timer(options.timeoutMs, asyncScheduler).pipe(map((): Ending => 'timeout'));
  const interrupt = io.signal === undefined ? NEVER : fromEvent(io.signal, 'abort').pipe(map((): Ending => 'interrupted'));
  const stop = merge(deadline, interrupt).pipe(
    take(1),
    tap((kind) => (ending = kind)),
  );
  const { stateFile } = options;
  const run = events.pipe(
    // Before recordHandles: stopping cancels the run at once, and the stream still waits
    // for the state file's last write, so every accepted batch is on disk when we return.
    takeUntil(stop),
    stateFile === undefined ? identity : recordHandles<RunBatchesEvent>(stateFile, options.initialHandles ?? []),
    tap((event) => {
      tally.record(event);
      if (event.type === 'report') report = event.report;
      else progress.event(tally.chunkOf(event), event);
    }),
  );

  const failure = await new Promise<{ readonly error: unknown } | undefined>((resolve) => {
    run.subscribe({ error: (error: unknown) => resolve({ error }), complete: () => resolve(undefined) });
  });
  progress.stop();

  const running = tally.running().map((b) => b.batchId);
  const stillRunning = (): void => {
    if (running.length === 0) return;
    const hint = options.resumeHint === undefined ? '' : `; ${options.resumeHint}`;
    io.stderr.write(redact(`${running.length} batch${running.length === 1 ? '' : 'es'} still running on the server: ${running.join(', ')}${hint}\n`));
  };

  if (failure !== undefined) {
    const code = fail(stateFile !== undefined && isFileError(failure.error) ? new Error(`--state ${stateFile}: ${writeErrorReason(failure.error, stateFile)}`, { cause: failure.error }) : failure.error);
    stillRunning();
    return code;
  }
  if (ending === 'interrupted') {
    if (running.length === 0) io.stderr.write('interrupted: no batch was running\n');
    else io.stderr.write('interrupted: ');
    stillRunning();
    return interruptedExitCode(io.signal);
  }

  let code: number = EXIT.ok;
  if (ending === 'timeout') {
    const outcomes = tally.outcomes({ deadlineMs: options.timeoutMs });
    report = buildReport(outcomes, { splits: tally.splits });
    for (const outcome of outcomes) {
      if (!isUnsubmitted(outcome) && outcome.error instanceof BatchTimeoutError) progress.error(formatError(outcome.error).trimEnd());
    }
    const unsent = outcomes.filter((o) => isUnsubmitted(o) && o.error instanceof DeadlineError).length;
    if (unsent > 0) progress.error(`error: the run timed out after ${formatMs(options.timeoutMs)} with ${unsent} batch${unsent === 1 ? '' : 'es'} not yet accepted`);
    stillRunning();
  }
  // Only a stream that ended without its report (never expected) gets one built here.
  report ??= buildReport(tally.outcomes(), { splits: tally.splits });

  if (options.out !== undefined) {
    const rows = tally.rows();
    try {
      await writeRows(options.out, rows);
      progress.log(`wrote ${rows.length} row${rows.length === 1 ? '' : 's'} to ${options.out}`);
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

function isFileError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * `c9-batch run <file>`: open the file (checked once, never held), chunk by account, run every batch with `runBatches`
 * (concurrency, overlap guard, shared polling and results, 413 splits), report.
 */
import type { CurrencyCode, ProcessingMode } from '../codecs';
import { createClient } from '../http/client';
import { formatMs } from '../http/errors';
import { redact, registerSecret } from '../http/redact';
import { openPortfolio } from '../input';
import type { StreamedPortfolioRequest } from '../http/serializePayload';
import { saveHandles } from '../streams/batchHandle';
import { runBatches } from '../streams/runBatches';
import { connectForRun, planRunTarget, type RunTargetPlan, type Target } from './endpoint';
import { followConfig, followRun, type PollOptions } from './followRun';
import { formatError } from './formatError';
import { EXIT, interruptedExitCode, type CliIo } from './io';
import { createProgress } from './progress';
import { RunTally } from './runTally';
import { unwritableReason, writeErrorReason } from './outputFile';
import { checkOutFile } from './writeRows';

/** Options of `c9-batch run`, parsed. */
export interface RunOptions extends PollOptions {
  readonly endpoint?: string;
  readonly mode: ProcessingMode;
  readonly calculationType?: string;
  readonly currency?: CurrencyCode;
  /** At most this many accounts per batch; no limit when undefined. */
  readonly chunkAccounts?: number;
  /** At most this many bytes of JSON per batch; no limit when undefined. */
  readonly chunkBytes?: number;
  /** Batches in progress at once (submit to results). */
  readonly concurrency: number;
  /** Deadline of the whole run, ms. */
  readonly timeoutMs: number;
  readonly out?: string;
  readonly format: 'text' | 'json';
  /** `--state FILE`: the accepted batches' handles, for `c9-batch resume FILE`. */
  readonly state?: string;
  readonly verbose: boolean;
  readonly quiet: boolean;
}

/** Default deadline of a whole run: a stuck batch must not keep a night job waiting forever. */
export const DEFAULT_RUN_TIMEOUT_MS = 30 * 60_000;

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
  const fail = (error: unknown): number => {
    io.stderr.write(formatError(error, { verbose: options.verbose }));
    return EXIT.error;
  };
  const info = (line: string): void => {
    if (!options.quiet) io.stderr.write(`${redact(line)}\n`);
  };
  // Shown with --quiet too: something the caller asked for will not do what they expect.
  const warn = (line: string): void => {
    io.stderr.write(`${redact(line)}\n`);
  };

  // Everything that needs no file and no server first: where to send, the key, and the
  // files to write. A million-row file is not read just to learn one of them is wrong.
  let plan: RunTargetPlan;
  try {
    if (options.out !== undefined) await checkOutFile(options.out);
    if (options.state !== undefined) {
      const reason = await unwritableReason(options.state, { viaRename: true });
      if (reason !== undefined) throw new Error(`--state ${options.state}: cannot write the state file: ${reason}`);
    }
    plan = planRunTarget(options.endpoint, io);
    if (!plan.embedded) registerSecret(plan.apiKey);
  } catch (error) {
    return fail(error);
  }
  if (io.signal?.aborted) return interruptedExitCode(io.signal);

  let chunks: StreamedPortfolioRequest[];
  let positionCount: number;
  let accountCount: number;
  try {
    // The file is checked once and never held (only each account's code, position count
    // and size are): each batch reads its positions from the file while its body is
    // written, a chunk only its own accounts' rows.
    const opened = await openPortfolio(file);
    const book = opened.withOptions(withOverrides(opened.options, options));
    chunks =
      options.chunkAccounts === undefined && options.chunkBytes === undefined
        ? [book]
        : book.chunks({
            ...(options.chunkAccounts === undefined ? {} : { maxAccounts: options.chunkAccounts }),
            ...(options.chunkBytes === undefined ? {} : { maxBytes: options.chunkBytes }),
          });
    positionCount = book.positionCount;
    accountCount = book.accountCodes.length;
  } catch (error) {
    return fail(error);
  }
  info(`read ${plural(positionCount, 'position')} (${plural(accountCount, 'account')}) from ${file}; ${chunks.length} batch${chunks.length === 1 ? '' : 'es'}`);
  if (io.signal?.aborted) return interruptedExitCode(io.signal);

  let target: Target;
  try {
    target = await connectForRun(plan, info);
  } catch (error) {
    return fail(error);
  }
  registerSecret(target.apiKey);
  try {
    if (options.state !== undefined) {
      // Written now, before anything is sent: a state file that cannot be written must not
      // be found out after batches were accepted.
      try {
        await saveHandles(options.state, []);
      } catch (error) {
        return fail(new Error(`--state ${options.state}: cannot write the state file: ${writeErrorReason(error, options.state)}`, { cause: error }));
      }
      if (target.embedded) warn(`warning: the embedded emulator stops with this run, so the batches in ${options.state} cannot be resumed after it`);
    }
    const client = createClient({ endpoint: target.endpoint, apiKey: target.apiKey });
    const tally = new RunTally(
      chunks.map((chunk, i) => ({ chunk: String(i + 1), accountCodes: [...chunk.accountCodes] })),
      () => Date.now(),
    );
    const progress = createProgress(io.stderr, { total: chunks.length, quiet: options.quiet, verbose: options.verbose });
    if (options.verbose) {
      progress.log(`endpoint ${target.endpoint}; mode ${options.mode}; concurrency ${options.concurrency}; timeout ${formatMs(options.timeoutMs)}`);
    }
    const events = runBatches(client, chunks, { ...followConfig(options), concurrency: options.concurrency, processingMode: options.mode });
    return await followRun(
      events,
      tally,
      progress,
      {
        timeoutMs: options.timeoutMs,
        format: options.format,
        out: options.out,
        verbose: options.verbose,
        quiet: options.quiet,
        stateFile: options.state,
        resumeHint: resumeHint(options.state, target.embedded),
      },
      io,
    );
  } finally {
    await target.close();
  }
}

function resumeHint(state: string | undefined, embedded: boolean): string | undefined {
  if (embedded) return 'they stop with the embedded emulator';
  if (state === undefined) return undefined;
  return `\`c9-batch resume ${state}\` picks them up`;
}

function withOverrides<P extends Readonly<Record<string, unknown>>>(payload: P, options: RunOptions): P {
  let out = payload;
  if (options.calculationType !== undefined) out = { ...out, calculation_type: options.calculationType };
  if (options.currency !== undefined) out = { ...out, currency_code: options.currency };
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

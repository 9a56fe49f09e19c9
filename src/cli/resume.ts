/**
 * `c9-batch resume FILE`: picks up the batches a `run --state FILE` saved (after a crash,
 * Ctrl-C or a deadline), polls them and fetches their results, and prints the same report.
 */
import { createClient } from '../http/client';
import { normalizeEndpoint } from '../http/endpoints';
import { DecodeError } from '../http/errors';
import { redact, registerSecret } from '../http/redact';
import { loadHandles, type BatchHandle } from '../streams/batchHandle';
import { resumeBatches } from '../streams/runBatches';
import { endpointFrom, requireKey, SetupError } from './endpoint';
import { followConfig, followRun, type PollOptions } from './followRun';
import { formatError } from './formatError';
import { EXIT, interruptedExitCode, type CliIo } from './io';
import { createProgress } from './progress';
import { RunTally } from './runTally';
import { checkOutFile } from './writeRows';

/** Options of `c9-batch resume`, parsed. */
export interface ResumeOptions extends PollOptions {
  /** `--endpoint`: follow the batches there even when they were saved for another URL. */
  readonly endpoint?: string;
  /** Deadline of the whole resume, ms. */
  readonly timeoutMs: number;
  readonly out?: string;
  readonly format: 'text' | 'json';
  readonly verbose: boolean;
  readonly quiet: boolean;
}

/**
 * Runs `c9-batch resume FILE` and resolves to its exit code (as `run`: 0, 2, 1, 130).
 *
 * The endpoint is `--endpoint`, else `C9_API_ENDPOINT`, else the one saved in the handles;
 * the embedded emulator is never started (a fresh one knows none of the batches). When
 * `C9_API_ENDPOINT` names another server than the handles, nothing is polled (an id means
 * nothing there, or another batch) unless `--endpoint` says to follow them there anyway.
 * A state file that cannot be read or is not a handle file is one error line naming the
 * file and the bad field.
 *
 * Example: `process.exitCode = await resumeRun('run.state.json', { timeoutMs: 600_000, format: 'text', adaptivePoll: true, verbose: false, quiet: false }, io)`
 *
 * @param file the state file written by `run --state`
 * @param options parsed command-line options
 * @param io streams, environment and the interrupt signal
 */
export async function resumeRun(file: string, options: ResumeOptions, io: CliIo): Promise<number> {
  const fail = (error: unknown): number => {
    io.stderr.write(formatError(error, { verbose: options.verbose }));
    return EXIT.error;
  };
  const info = (line: string): void => {
    if (!options.quiet) io.stderr.write(`${redact(line)}\n`);
  };

  let handles: BatchHandle[];
  let endpoint: string;
  let apiKey: string;
  try {
    // What needs no state file first, as run does: the --out file, the key, the URLs given.
    if (options.out !== undefined) await checkOutFile(options.out);
    apiKey = requireKey(io);
    endpointFrom(options.endpoint, io);
    handles = await readState(file);
    ({ endpoint, handles } = chooseEndpoint(file, handles, options.endpoint, io, info));
  } catch (error) {
    return fail(error);
  }
  if (io.signal?.aborted) return interruptedExitCode(io.signal);
  registerSecret(apiKey);

  let client: ReturnType<typeof createClient>;
  try {
    client = createClient({ endpoint, apiKey });
  } catch (error) {
    return fail(error);
  }
  info(`resuming ${handles.length} batch${handles.length === 1 ? '' : 'es'} from ${file} at ${client.endpoint}`);
  const tally = new RunTally(
    handles.map((h, i) => ({ chunk: String(i + 1), accountCodes: h.accountCodes })),
    () => Date.now(),
    new Map(handles.map((h, i) => [h.batchId, String(i + 1)])),
  );
  const progress = createProgress(io.stderr, { total: handles.length, quiet: options.quiet, verbose: options.verbose, resuming: true });
  return followRun(
    resumeBatches(client, handles, followConfig(options)),
    tally,
    progress,
    {
      timeoutMs: options.timeoutMs,
      format: options.format,
      out: options.out,
      verbose: options.verbose,
      quiet: options.quiet,
      resumeHint: `\`c9-batch resume ${file}\` picks them up again`,
    },
    io,
  );
}

/** The handles of `file`, with errors that name the file. */
async function readState(file: string): Promise<BatchHandle[]> {
  let handles: BatchHandle[];
  try {
    handles = await loadHandles(file);
  } catch (error) {
    if (error instanceof DecodeError) throw error; // "invalid state file FILE: handles.0.batchId …"
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') throw new SetupError(`state file ${file}: no such file`);
    if (code === 'EISDIR') throw new SetupError(`state file ${file}: is a folder`);
    if (code === 'EACCES' || code === 'EPERM') throw new SetupError(`state file ${file}: not readable (permission denied)`);
    throw new SetupError(`state file ${file}: cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (handles.length === 0) throw new SetupError(`state file ${file}: handles: no batch was accepted in that run, nothing to resume`);
  return handles;
}

/** The URL without user info, normalised, for comparing where batches live. */
function place(endpoint: string): string {
  const url = new URL(normalizeEndpoint(endpoint));
  url.username = '';
  url.password = '';
  return url.href.replace(/\/+$/, '');
}

function samePlace(a: string, b: string): boolean {
  try {
    return place(a) === place(b);
  } catch {
    return false;
  }
}

/**
 * `--endpoint`, else `C9_API_ENDPOINT`, else the handles' own endpoint. With `--endpoint`
 * the handles are re-pointed there (said on stderr when they named another server).
 */
function chooseEndpoint(
  file: string,
  handles: BatchHandle[],
  option: string | undefined,
  io: CliIo,
  info: (line: string) => void,
): { endpoint: string; handles: BatchHandle[] } {
  const saved = [...new Set(handles.flatMap((h) => (h.endpoint === undefined ? [] : [h.endpoint])))];
  const explicit = option === undefined ? undefined : endpointFrom(option, io);
  if (explicit !== undefined) {
    const elsewhere = saved.filter((e) => !samePlace(e, explicit));
    if (elsewhere.length > 0) info(`note: the batches in ${file} were submitted to ${elsewhere.join(', ')}; following them at ${explicit} as --endpoint says`);
    return { endpoint: explicit, handles: handles.map((h) => ({ ...h, endpoint: explicit })) };
  }
  const fromEnv = endpointFrom(undefined, io);
  if (fromEnv !== undefined) {
    const elsewhere = saved.filter((e) => !samePlace(e, fromEnv));
    if (elsewhere.length > 0) {
      throw new SetupError(
        `state file ${file}: its batches were submitted to ${elsewhere.join(', ')}, not to C9_API_ENDPOINT (${fromEnv}); pass --endpoint URL to follow them there anyway`,
      );
    }
    // The same server, perhaps spelt with user info: point the handles at it as spelt here.
    return { endpoint: fromEnv, handles: handles.map((h) => ({ ...h, endpoint: fromEnv })) };
  }
  if (saved.length === 1) return { endpoint: saved[0], handles };
  if (saved.length === 0) throw new SetupError(`no endpoint: state file ${file} names none; pass --endpoint URL or set C9_API_ENDPOINT`);
  throw new SetupError(`state file ${file}: its batches were submitted to several endpoints (${saved.join(', ')}); pass --endpoint URL`);
}

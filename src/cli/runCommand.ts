/**
 * The `c9-batch` command line: parses arguments and dispatches to the commands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { PROCESSING_MODES } from '../codecs';
import { redact } from '../http/redact';
import { formatError } from './formatError';
import { EXIT, type CliIo } from './io';
import { collect, parseDuration, parseNonNegative, parsePort, parsePositiveInt, parsePositiveNumber } from './parseArgs';
import { showResults, showStatus } from './remote';
import { resumeRun } from './resume';
import { DEFAULT_RUN_TIMEOUT_MS, runPortfolio } from './runPortfolio';
import { serve } from './serve';

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'AUD', 'CAD', 'BRL', 'CNH', 'HKD', 'INR', 'NZD'] as const;

interface RunFlags {
  endpoint?: string;
  mode: (typeof PROCESSING_MODES)[number];
  calculationType?: string;
  currency?: (typeof CURRENCIES)[number];
  chunkAccounts?: number;
  chunkMb?: number;
  concurrency: number;
  pollInterval?: number;
  adaptivePoll: boolean;
  timeout: number;
  out?: string;
  format: 'text' | 'json';
  state?: string;
  verbose?: boolean;
  quiet?: boolean;
}

interface ResumeFlags {
  endpoint?: string;
  pollInterval?: number;
  adaptivePoll: boolean;
  timeout: number;
  out?: string;
  format: 'text' | 'json';
  verbose?: boolean;
  quiet?: boolean;
}

const POLL_HELP =
  '\nPolling: adaptive by default; each poll is aimed at the batch\'s estimated end (from its queue position\n' +
  'and how fast completed_pct rises), between 100ms and 15s apart. --poll-interval D makes D the shortest\n' +
  'wait between two polls of a batch (and the wait while there is nothing to estimate from yet).\n' +
  '--no-adaptive-poll: plain backoff instead, D (default 1s) after each change, x1.5 while nothing changes.\n' +
  'A server Retry-After always wins; --timeout is one deadline for the whole command.\n';
const EXIT_HELP =
  '\nExit codes: 0 all batches completed; 2 completed with errors, or accounts missing or stale;\n1 bad input, bad key, a failed batch, a timeout or any other error; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).\n';

/**
 * Runs the `c9-batch` command line with `argv` (the arguments after the program name) and
 * resolves to the process's exit code. Everything it prints goes to `io.stdout` and
 * `io.stderr`; it reads the environment only from `io.env`; `io.signal` is Ctrl-C.
 *
 * Example: `process.exit(await runCommand(process.argv.slice(2), { stdout, stderr, env: process.env, signal }))`
 *
 * @param argv arguments, e.g. `['run', 'book.csv', '--format', 'json']`
 * @param io streams, environment and the interrupt signal
 */
export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('c9-batch')
    .description('Margin portfolios with the C9 batch API: run a file, resume a run, watch a batch, fetch results, or serve the emulator.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(redact(text)),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nEnvironment:\n  C9_API_ENDPOINT  base URL of the API (or --endpoint)\n  C9_API_SECRET    the API key; never given on the command line, never printed\n',
    );

  withFollowOptions(
    program
      .command('run')
      .description('submit a portfolio file, poll its batches until they finish, and report (without an endpoint: against the embedded emulator)')
      .argument('<file>', 'portfolio: .csv (header row), .json (payload or array of positions) or .ndjson (one position per line)')
      .option('--endpoint <url>', 'API base URL (default: $C9_API_ENDPOINT; none: start the embedded emulator)')
      .addOption(new Option('--mode <mode>', 'processing mode of the submit').choices(PROCESSING_MODES).default('fifo'))
      .option('--calculation-type <type>', 'calculation_type of the payload (margins, analytics, simm, all, or a comma list)')
      .addOption(new Option('--currency <code>', 'currency_code of the results').choices(CURRENCIES))
      .option('--chunk-accounts <n>', 'split into batches of at most n accounts (an account is never split)', parsePositiveInt)
      .option('--chunk-mb <mb>', 'split into batches of at most this many MB of JSON, e.g. 50 or 0.5 (an account is never split)', parsePositiveNumber)
      .option('--concurrency <n>', 'batches in progress at once (submit to results)', parsePositiveInt, 4)
      .option('--state <file>', 'keep the accepted batches in this file (never the key), for `c9-batch resume <file>` after a crash or Ctrl-C'),
    'run',
  )
    .addHelpText('after', POLL_HELP + EXIT_HELP)
    .action(async (file: string, flags: RunFlags) => {
      exitCode = await runPortfolio(
        file,
        {
          endpoint: flags.endpoint,
          mode: flags.mode,
          calculationType: flags.calculationType,
          currency: flags.currency,
          chunkAccounts: flags.chunkAccounts,
          chunkBytes: flags.chunkMb === undefined ? undefined : Math.max(1, Math.round(flags.chunkMb * 1024 * 1024)),
          concurrency: flags.concurrency,
          pollIntervalMs: flags.pollInterval,
          adaptivePoll: flags.adaptivePoll,
          timeoutMs: flags.timeout,
          out: flags.out,
          format: flags.format,
          state: flags.state,
          verbose: flags.verbose === true,
          quiet: flags.quiet === true,
        },
        io,
      );
    });

  withFollowOptions(
    program
      .command('resume')
      .description('pick up the batches a `run --state <file>` saved: poll them, fetch their results, and report as run does')
      .argument('<file>', 'the state file written by run --state')
      .option('--endpoint <url>', "API base URL (default: $C9_API_ENDPOINT, else the batches' own); given, the batches are followed there even if saved for another URL"),
    'resume',
  )
    .addHelpText(
      'after',
      '\nNever starts the embedded emulator: a fresh one knows none of the batches. When C9_API_ENDPOINT names\nanother server than the one the batches were saved for, nothing is polled unless --endpoint is given.\n' +
        POLL_HELP +
        EXIT_HELP,
    )
    .action(async (file: string, flags: ResumeFlags) => {
      exitCode = await resumeRun(
        file,
        {
          endpoint: flags.endpoint,
          pollIntervalMs: flags.pollInterval,
          adaptivePoll: flags.adaptivePoll,
          timeoutMs: flags.timeout,
          out: flags.out,
          format: flags.format,
          verbose: flags.verbose === true,
          quiet: flags.quiet === true,
        },
        io,
      );
    });

  program
    .command('serve')
    .description('run the embedded emulator on 127.0.0.1 until Ctrl-C; prints its URL and the keys it accepts')
    .option('--port <n>', 'port to listen on (default: a free one)', parsePort)
    .option('--api-key <key>', 'a key the emulator accepts, one user each (repeatable; default: $C9_API_SECRET, else a demo key)', collect, [])
    .option('--workers <n>', 'batches processed at once per user', parsePositiveInt)
    .option('--ms-per-account <n>', 'processing time per account, ms', parseNonNegative)
    .option('--rate-limit <n>', 'requests per user per 60 s sliding window (default: no limit)', parsePositiveInt)
    .option('--max-payload-mb <n>', 'largest accepted payload in MB (default 500)', parseNonNegative)
    .option('--verbose', 'stack traces on errors')
    .action(async (flags: { port?: number; apiKey: string[]; workers?: number; msPerAccount?: number; rateLimit?: number; maxPayloadMb?: number; verbose?: boolean }) => {
      exitCode = await serve({ ...flags, verbose: flags.verbose === true }, io);
    });

  program
    .command('status')
    .description('print the status of a batch as JSON')
    .argument('<batch_id>', 'the batch id printed by run')
    .option('--endpoint <url>', 'API base URL (default: $C9_API_ENDPOINT)')
    .option('--verbose', 'stack traces on errors')
    .action(async (batchId: string, flags: { endpoint?: string; verbose?: boolean }) => {
      exitCode = await showStatus(batchId, { endpoint: flags.endpoint, verbose: flags.verbose === true }, io);
    });

  program
    .command('results')
    .description("print the caller's live result rows as JSON (the latest row of every account)")
    .option('--account <code...>', 'only these accounts (and their sub-accounts)')
    .option('--endpoint <url>', 'API base URL (default: $C9_API_ENDPOINT)')
    .option('--verbose', 'stack traces on errors')
    .action(async (flags: { account?: string[]; endpoint?: string; verbose?: boolean }) => {
      exitCode = await showResults(flags.account ?? [], { endpoint: flags.endpoint, verbose: flags.verbose === true }, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already printed its own message (usage errors) or the help.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    io.stderr.write(formatError(error, { verbose: argv.includes('--verbose') }));
    return EXIT.error;
  }
}

function packageVersion(): string {
  try {
    // src/cli and dist/cli are both two levels below the package root.
    const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const version = (pkg as { version?: unknown }).version;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Adds the options `run` and `resume` share (how batches are followed and reported), so the
 * two commands cannot drift apart.
 *
 * @param command the command to extend
 * @param what the command's name, for the deadline's help text
 */
function withFollowOptions(command: Command, what: 'run' | 'resume'): Command {
  return command
    .option('--poll-interval <duration>', 'shortest wait between two polls of a batch, e.g. 500, 2s (see Polling)', parseDuration)
    .option('--no-adaptive-poll', 'plain backoff from --poll-interval instead of aiming polls at the estimated end')
    .addOption(new Option('--timeout <duration>', `deadline of the whole ${what}, e.g. 30s, 5m`).argParser(parseDuration).default(DEFAULT_RUN_TIMEOUT_MS, '30m'))
    .option('--out <file>', 'write the kept result rows to a .json or .csv file')
    .addOption(new Option('--format <format>', 'report format on stdout').choices(['text', 'json']).default('text'))
    .option('--verbose', 'more detail, and stack traces on errors')
    .option('--quiet', 'no progress or information on stderr (warnings and errors are still shown)');
}

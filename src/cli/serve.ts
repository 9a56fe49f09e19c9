/**
 * `c9-batch serve`: the embedded emulator as a long-running server.
 */
import { describeEmulator, resolveEmulatorKeys, startEmulator } from '../emulator';
import { formatError } from './formatError';
import { EXIT, type CliIo } from './io';

/** Options of `c9-batch serve`, parsed. */
export interface ServeOptions {
  readonly port?: number;
  readonly apiKey: readonly string[];
  readonly workers?: number;
  readonly msPerAccount?: number;
  readonly rateLimit?: number;
  readonly maxPayloadMb?: number;
  readonly verbose: boolean;
}

/**
 * Starts the emulator on 127.0.0.1, prints its URL and the keys it accepts on stdout, and
 * runs until `io.signal` aborts (SIGINT or SIGTERM); resolves to 0 after a clean close.
 * Keys come from `--api-key` (repeatable) or `C9_API_SECRET`; with none, a demo key is made.
 *
 * Example: `await serve({ port: 8080, apiKey: [], verbose: false }, io)`
 *
 * @param options port, keys and the emulator's knobs
 * @param io streams, environment and the stop signal
 */
export async function serve(options: ServeOptions, io: CliIo): Promise<number> {
  try {
    const handle = await startEmulator({
      port: options.port,
      apiKeys: resolveEmulatorKeys({ apiKeys: options.apiKey, env: io.env }),
      workers: options.workers,
      msPerAccount: options.msPerAccount,
      rateLimit: options.rateLimit === undefined ? undefined : { requests: options.rateLimit, windowMs: 60_000 },
      maxPayloadBytes: options.maxPayloadMb === undefined ? undefined : Math.round(options.maxPayloadMb * 1024 * 1024),
    });
    // The keys are printed on purpose: they are the emulator's own, and a tester needs them.
    io.stdout.write(`${describeEmulator(handle).trimEnd()}\nPress Ctrl-C to stop.\n`);
    await new Promise<void>((resolve) => {
      if (io.signal === undefined) return; // no way to stop: run until the process ends
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await handle.close();
    io.stderr.write('emulator stopped\n');
    return EXIT.ok;
  } catch (error) {
    io.stderr.write(formatError(error, { verbose: options.verbose }));
    return EXIT.error;
  }
}

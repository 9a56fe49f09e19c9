/**
 * `c9-batch status <batch_id>` and `c9-batch results`: one request each against a server.
 */
import { firstValueFrom, fromEvent, takeUntil, type Observable } from 'rxjs';
import { createClient } from '../http/client';
import { redact, registerSecret } from '../http/redact';
import { requireTarget } from './endpoint';
import { formatError } from './formatError';
import { EXIT, interruptedExitCode, type CliIo } from './io';

/** Options shared by `status` and `results`. */
export interface RemoteOptions {
  readonly endpoint?: string;
  readonly verbose: boolean;
}

/**
 * Prints the status of one batch as JSON on stdout; resolves to the exit code (0, or 1 on
 * any error, e.g. an unknown batch id).
 *
 * Example: `await showStatus('3f2a…', { verbose: false }, io)`
 *
 * @param batchId the id `run` printed
 * @param options endpoint and verbosity
 * @param io streams, environment and interrupt signal
 */
export function showStatus(batchId: string, options: RemoteOptions, io: CliIo): Promise<number> {
  return request(options, io, (client) => client.getBatchStatus(batchId), (answer) => answer.status);
}

/**
 * Prints the caller's live result rows as a JSON array on stdout, optionally only some
 * accounts' (and their sub-accounts'); resolves to the exit code.
 *
 * Example: `await showResults(['ACC1'], { verbose: false }, io)`
 *
 * @param accounts account codes to keep; all rows when empty
 * @param options endpoint and verbosity
 * @param io streams, environment and interrupt signal
 */
export function showResults(accounts: readonly string[], options: RemoteOptions, io: CliIo): Promise<number> {
  const query = accounts.length === 0 ? {} : { accountCodes: new Set(accounts) };
  return request(options, io, (client) => client.getAccountResults(query), (rows) => rows);
}

async function request<T>(
  options: RemoteOptions,
  io: CliIo,
  send: (client: ReturnType<typeof createClient>) => Observable<T>,
  pick: (answer: T) => unknown,
): Promise<number> {
  if (io.signal?.aborted) return interruptedExitCode(io.signal);
  try {
    const { endpoint, apiKey } = requireTarget(options.endpoint, io);
    registerSecret(apiKey);
    const client = createClient({ endpoint, apiKey });
    const answer$ = io.signal === undefined ? send(client) : send(client).pipe(takeUntil(fromEvent(io.signal, 'abort')));
    const answer = await firstValueFrom(answer$, { defaultValue: undefined });
    if (answer === undefined) return interruptedExitCode(io.signal);
    io.stdout.write(`${redact(JSON.stringify(pick(answer), null, 2))}\n`);
    return EXIT.ok;
  } catch (error) {
    io.stderr.write(formatError(error, { verbose: options.verbose }));
    return EXIT.error;
  }
}

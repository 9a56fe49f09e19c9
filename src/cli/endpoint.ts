/**
 * Where a command sends its requests: the endpoint and key from the options and the
 * environment, or, for `run` without an endpoint, the embedded emulator.
 */
import { startEmulator } from '../emulator';
import type { CliIo } from './io';

/** An endpoint and its key; `close` stops the embedded emulator when one was started. */
export interface Target {
  readonly endpoint: string;
  readonly apiKey: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

/** A missing endpoint or key, reported as one line. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** The endpoint from `--endpoint` or `C9_API_ENDPOINT`; undefined when neither is set. */
export function endpointFrom(option: string | undefined, io: CliIo): string | undefined {
  const value = (option ?? io.env.C9_API_ENDPOINT ?? '').trim();
  return value === '' ? undefined : value;
}

/**
 * The endpoint and key of a command that needs a real server (`status`, `results`).
 *
 * Example: `const { endpoint, apiKey } = requireTarget(options.endpoint, io)`
 *
 * @param option the `--endpoint` value
 * @param io environment
 * @throws SetupError when the endpoint or the key is missing
 */
export function requireTarget(option: string | undefined, io: CliIo): Target {
  const endpoint = endpointFrom(option, io);
  if (endpoint === undefined) throw new SetupError('no endpoint: pass --endpoint URL or set C9_API_ENDPOINT');
  return { endpoint, apiKey: requireKey(io), embedded: false, close: async () => undefined };
}

/**
 * The API key from `C9_API_SECRET` (never from the command line).
 *
 * Example: `const apiKey = requireKey(io)`
 *
 * @param io environment
 * @throws SetupError when it is not set
 */
export function requireKey(io: CliIo): string {
  const apiKey = (io.env.C9_API_SECRET ?? '').trim();
  if (apiKey === '') throw new SetupError('no API key: set C9_API_SECRET (the key is never taken on the command line)');
  return apiKey;
}

/**
 * The endpoint and key for `run`: the given endpoint with `C9_API_SECRET`, or, when no
 * endpoint is set, an embedded emulator on 127.0.0.1 and its key. Says which on `log`.
 *
 * Example: `const target = await connectForRun(options.endpoint, io, say); … await target.close()`
 *
 * @param option the `--endpoint` value
 * @param io environment
 * @param log where to say that the emulator was started
 */
export async function connectForRun(option: string | undefined, io: CliIo, log: (line: string) => void): Promise<Target> {
  const endpoint = endpointFrom(option, io);
  if (endpoint !== undefined) return { endpoint, apiKey: requireKey(io), embedded: false, close: async () => undefined };
  // Its own demo key, never the caller's C9_API_SECRET: a real key has no business here.
  const emulator = await startEmulator({});
  log(`no endpoint set (--endpoint or C9_API_ENDPOINT): running against the embedded emulator at ${emulator.url}`);
  return { endpoint: emulator.url, apiKey: emulator.apiKeys[0], embedded: true, close: () => emulator.close() };
}

/**
 * Where a command sends its requests: the endpoint and key from the options and the
 * environment, or, for `run` without an endpoint, the embedded emulator.
 */
import { startEmulator } from '../emulator';
import { normalizeEndpoint } from '../http/endpoints';
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

/**
 * The endpoint from `--endpoint` or `C9_API_ENDPOINT`; undefined when neither is set.
 * Checked here, before any file is read, so a bad URL is one line naming where it came from.
 *
 * Example: `endpointFrom(undefined, { env: { C9_API_ENDPOINT: 'not-a-url' } })` throws `C9_API_ENDPOINT: must be an absolute http(s) URL`
 *
 * @param option the `--endpoint` value
 * @param io environment
 * @throws SetupError when the value is not an http(s) URL
 */
export function endpointFrom(option: string | undefined, io: CliIo): string | undefined {
  const fromOption = option !== undefined;
  const value = (option ?? io.env.C9_API_ENDPOINT ?? '').trim();
  if (value === '') {
    if (fromOption) throw new SetupError('--endpoint: must not be empty (leave it out to use C9_API_ENDPOINT)');
    return undefined;
  }
  try {
    normalizeEndpoint(value);
  } catch (error) {
    // The value itself is not repeated: a mistyped URL may still hold a password.
    const reason = error instanceof Error ? error.message.replace(/^endpoint /, '') : 'must be an absolute http(s) URL';
    throw new SetupError(`${fromOption ? '--endpoint' : 'C9_API_ENDPOINT'}: ${reason}`);
  }
  return value;
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

/** Where `run` sends its batches: a server and its key, or the embedded emulator. */
export type RunTargetPlan = { readonly embedded: false; readonly endpoint: string; readonly apiKey: string } | { readonly embedded: true };

/**
 * Decides where `run` goes, before the portfolio is read: the given endpoint with
 * `C9_API_SECRET`, or, when no endpoint is set, the embedded emulator. A bad URL or a
 * missing key is found here, not after a million rows were read.
 *
 * Example: `const plan = planRunTarget(options.endpoint, io)`
 *
 * @param option the `--endpoint` value
 * @param io environment
 * @throws SetupError when the endpoint is not an http(s) URL, or it is set and the key is not
 */
export function planRunTarget(option: string | undefined, io: CliIo): RunTargetPlan {
  const endpoint = endpointFrom(option, io);
  return endpoint === undefined ? { embedded: true } : { embedded: false, endpoint, apiKey: requireKey(io) };
}

/**
 * The endpoint and key for `run` from its {@link planRunTarget} plan: the server as planned,
 * or an embedded emulator started on 127.0.0.1 with its own key. Says which on `log`.
 *
 * Example: `const target = await connectForRun(planRunTarget(options.endpoint, io), say); … await target.close()`
 *
 * @param plan where to go, from {@link planRunTarget}
 * @param log where to say that the emulator was started
 */
export async function connectForRun(plan: RunTargetPlan, log: (line: string) => void): Promise<Target> {
  if (!plan.embedded) return { endpoint: plan.endpoint, apiKey: plan.apiKey, embedded: false, close: async () => undefined };
  // Its own demo key, never the caller's C9_API_SECRET: a real key has no business here.
  const emulator = await startEmulator({});
  log(`no endpoint set (--endpoint or C9_API_ENDPOINT): running against the embedded emulator at ${emulator.url}`);
  return { endpoint: emulator.url, apiKey: emulator.apiKeys[0], embedded: true, close: () => emulator.close() };
}

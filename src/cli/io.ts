/**
 * What a command may touch of the outside world, passed in so the CLI runs the same in a
 * process and in a spec.
 */

/** A stream the CLI writes to; `isTTY` decides between live bars and plain lines. */
export type CliOutput = NodeJS.WritableStream & { readonly isTTY?: boolean };

/** The process's streams, environment and cancellation, as one value. */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Environment variables (`C9_API_ENDPOINT`, `C9_API_SECRET`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C (reason `'SIGINT'`) or SIGTERM (reason `'SIGTERM'`). */
  readonly signal?: AbortSignal;
}

/** Exit codes of the CLI. */
export const EXIT = Object.freeze({ ok: 0, error: 1, partial: 2, interrupted: 130 });

/** The exit code for a run stopped by `signal` (128 + signal number, as shells report it). */
export function interruptedExitCode(signal: AbortSignal | undefined): number {
  return signal?.reason === 'SIGTERM' ? 143 : EXIT.interrupted;
}

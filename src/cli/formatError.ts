/**
 * How the CLI shows an error: one clear line, a stack only on request, never the key.
 */
import { AuthenticationError, BatchTimeoutError, ConnectionError, C9Error } from '../http/errors';
import { redact } from '../http/redact';

/**
 * One line (or, with `verbose`, the line and the stack) describing `error` for a person.
 * Always redacted: the API key never reaches the terminal.
 *
 * Example: `stderr.write(formatError(err, { verbose: false }))` → `error: the API key was refused (HTTP 401) …\n`
 *
 * @param error anything thrown
 * @param options `verbose` adds the stack trace and the cause
 */
export function formatError(error: unknown, options: { readonly verbose?: boolean } = {}): string {
  let line = `error: ${oneLine(describe(error))}`;
  if (options.verbose && error instanceof Error) {
    if (error.stack) line += `\n${error.stack.split('\n').slice(1).join('\n')}`;
    if (error.cause !== undefined) line += `\ncaused by: ${error.cause instanceof Error ? (error.cause.stack ?? error.cause.message) : String(error.cause)}`;
  }
  return `${redact(line)}\n`;
}

function describe(error: unknown): string {
  if (error instanceof AuthenticationError) {
    return 'the API key was refused (HTTP 401): check C9_API_SECRET';
  }
  if (error instanceof BatchTimeoutError) return error.message;
  if (error instanceof ConnectionError) return error.message;
  if (error instanceof C9Error) return error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function oneLine(text: string): string {
  // `invalid x:\na\nb` reads `invalid x: a; b`.
  return text.replace(/(:?)\s*\n\s*/g, (_m, colon: string) => (colon ? ': ' : '; ')).trim();
}

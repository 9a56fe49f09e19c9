/**
 * The one redaction function. Every message, excerpt and log line that could carry a
 * secret passes through `redact` before it is stored or printed.
 *
 * Keys are removed in three ways, because any one alone can miss: the exact keys that
 * clients registered, anything shaped like the vendor's keys (`sk-…`), and whatever
 * follows `Bearer`.
 */

const registered = new Set<string>();

/** The text that replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * Remembers a secret so that `redact` removes it wherever it appears. Clients call this
 * with their API key when they are made; short strings are refused because removing them
 * would mangle ordinary text.
 *
 * @param secret the key to hide from every message
 */
export function registerSecret(secret: string): void {
  if (secret.length >= 6) registered.add(secret);
}

/**
 * Returns `text` with every known secret, `sk-…` key and bearer token replaced.
 *
 * Example: `redact('Authorization: Bearer sk-abc123')` → `'Authorization: Bearer [redacted]'`
 *
 * @param text any text that may be shown to a person or written to a file
 */
export function redact(text: string): string {
  let out = text;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(/\bsk-[A-Za-z0-9._~+/=-]+/g, REDACTED)
    .replace(/(Bearer\s+)(?!\[redacted\])[^\s"',;]+/gi, `$1${REDACTED}`);
}

/**
 * The one redaction function. Every message, excerpt and log line that could carry a
 * secret passes through `redact` before it is stored or printed.
 *
 * Keys are removed in three ways, because any one alone can miss: the exact keys that
 * clients registered (also URL- or JSON-encoded), anything shaped like the vendor's keys
 * (`sk-…`), and whatever follows `Bearer`. The user info of a URL (an endpoint's password)
 * goes too.
 */

const registered = new Set<string>();
// The registered secrets and their encoded forms, longest first, so that no form is left
// half-replaced by a shorter one it contains.
let forms: readonly string[] = [];

/** The text that replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * The ways a server or a log can echo a key besides verbatim: in a URL (query string or
 * path), inside a JSON string (quote and backslash escaped), and both at once. Redacting
 * only the plain key would leave the part after the first escaped character in the text.
 */
function encodedForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  return [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+'), json, encodeURIComponent(json)];
}

/**
 * Remembers a secret so that `redact` removes it wherever it appears, verbatim or URL- or
 * JSON-encoded. Clients call this with their API key when they are made; short strings are
 * refused because removing them would mangle ordinary text.
 *
 * @param secret the key to hide from every message
 */
export function registerSecret(secret: string): void {
  if (secret.length < 6 || registered.has(secret)) return;
  registered.add(secret);
  forms = [...new Set([...forms, ...encodedForms(secret)])].sort((a, b) => b.length - a.length);
}

/**
 * Returns `text` with every known secret, `sk-…` key, bearer token and URL user info replaced.
 *
 * Example: `redact('Authorization: Bearer sk-abc123')` → `'Authorization: Bearer [redacted]'`
 *
 * @param text any text that may be shown to a person or written to a file
 */
export function redact(text: string): string {
  let out = text;
  for (const secret of forms) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(/\bsk-[A-Za-z0-9._~+/=-]+/g, REDACTED)
    // The user info of a URL (`https://user:password@host`): an endpoint may carry a password,
    // and every message about a request starts with its URL.
    .replace(/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/)(?!\[redacted\]@)[^\s/?#@"'<>]+@/g, `$1${REDACTED}@`)
    .replace(/(Bearer\s+)(?!\[redacted\])[^\s"',;]+/gi, `$1${REDACTED}`);
}

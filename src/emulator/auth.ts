/**
 * API keys and the per-user rate limit.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Finds the user a bearer token belongs to, in time that does not depend on how much of a key
 * matches: both sides are hashed to 32 bytes, compared with `timingSafeEqual`, and every key is
 * compared even after a match.
 *
 * Example: `const user = findByKey(users, tokenFromHeader)`
 *
 * @param users the accepted users, each with the SHA-256 of its key
 * @param token the token from the `Authorization` header
 */
export function findByKey<U extends { readonly keyHash: Buffer }>(users: readonly U[], token: string): U | undefined {
  const candidate = sha256(token);
  let found: U | undefined;
  for (const u of users) {
    if (timingSafeEqual(candidate, u.keyHash) && found === undefined) found = u;
  }
  return found;
}

/**
 * The SHA-256 of a key, the form in which {@link findByKey} compares it.
 *
 * Example: `users.push({ key, keyHash: hashKey(key) })`
 *
 * @param key an accepted API key
 */
export function hashKey(key: string): Buffer {
  return sha256(key);
}

/**
 * The token of an `Authorization: Bearer <token>` header, if the header has that form.
 *
 * Example: `bearerToken('Bearer sk-1')` is 'sk-1'; `bearerToken('Basic sk-1')` is undefined.
 *
 * @param header the raw header value, if any
 */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}

/**
 * A fresh demo key: `sk-demo-` and 24 random hex digits.
 *
 * Example: `demoKey()` → 'sk-demo-4f1c…'
 */
export function demoKey(): string {
  return `sk-demo-${randomBytes(12).toString('hex')}`;
}

/**
 * The keys an emulator accepts: `apiKeys` when given, else the comma-separated
 * `C9_API_SECRET` of `env`, else one generated demo key. Blanks are dropped, duplicates kept once.
 *
 * Example: `resolveEmulatorKeys({ env: process.env })` → `['sk-live-a', 'sk-live-b']` for `C9_API_SECRET=sk-live-a,sk-live-b`
 *
 * @param source `apiKeys` (wins when it holds any key) and `env` (process.env or a stand-in)
 * @throws TypeError when a key contains whitespace (it could never arrive in a Bearer header)
 */
export function resolveEmulatorKeys(source: { readonly apiKeys?: readonly string[]; readonly env?: Readonly<Record<string, string | undefined>> }): string[] {
  const given = (source.apiKeys ?? []).map((k) => k.trim()).filter((k) => k !== '');
  const fromEnv = (source.env?.C9_API_SECRET ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  const keys = given.length > 0 ? given : fromEnv.length > 0 ? fromEnv : [demoKey()];
  if (keys.some((k) => /\s/.test(k))) throw new TypeError('emulator API keys must not contain whitespace');
  return [...new Set(keys)];
}

/**
 * A sliding-window request counter: at most `limit` accepted requests in any `windowMs`.
 */
export class SlidingWindow {
  private readonly hits: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /**
   * Counts a request at `now` if the window has room.
   *
   * @returns 0 when accepted, else the milliseconds until the oldest counted request leaves the window
   */
  tryAcquire(now: number): number {
    while (this.hits.length > 0 && this.hits[0] <= now - this.windowMs) this.hits.shift();
    if (this.hits.length < this.limit) {
      this.hits.push(now);
      return 0;
    }
    return Math.max(1, this.hits[0] + this.windowMs - now);
  }
}

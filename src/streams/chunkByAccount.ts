/**
 * Splits one portfolio into several batch payloads by account.
 */
import type { PortfolioRequest, Position } from '../codecs';

/** Limits of {@link chunkByAccount}; a limit left out is not applied. */
export interface ChunkByAccountConfig {
  /** At most this many distinct accounts per payload (a positive integer). */
  readonly maxAccounts?: number;
  /** At most this many bytes of serialized JSON per payload (a positive integer). */
  readonly maxBytes?: number;
}

/**
 * Splits `payload` into payloads of whole accounts, each with at most `maxAccounts`
 * distinct accounts and at most `maxBytes` bytes of JSON (UTF-8, as `JSON.stringify` writes
 * it). An account is never split: one that alone exceeds `maxBytes` gets a payload of its
 * own. Accounts appear in the order they first appear in `payload`, each account's
 * positions in their original relative order (so positions of interleaved accounts are
 * grouped). Every payload carries the same top-level options as `payload` (`request_id`
 * included, so leave it out when the batches must be told apart). Position objects are
 * shared, not copied. An empty portfolio gives no payload.
 *
 * Example:
 * ```ts
 * chunkByAccount({ portfolio: [a1, b1, a2, c1] }, { maxAccounts: 2 })
 * // → [{ portfolio: [a1, a2, b1] }, { portfolio: [c1] }]
 * ```
 *
 * @param payload the whole portfolio request
 * @param config `maxAccounts` and/or `maxBytes`
 * @throws TypeError when a limit is not a positive integer
 */
export function chunkByAccount(payload: PortfolioRequest, config: ChunkByAccountConfig = {}): PortfolioRequest[] {
  const { maxAccounts = Infinity, maxBytes = Infinity } = config;
  checkLimit('maxAccounts', maxAccounts);
  checkLimit('maxBytes', maxBytes);

  const byAccount = new Map<string, Position[]>();
  for (const position of payload.portfolio) {
    const group = byAccount.get(position.account_code);
    if (group === undefined) byAccount.set(position.account_code, [position]);
    else group.push(position);
  }

  const { portfolio: _all, ...options } = payload;
  const measure = maxBytes !== Infinity;
  // `{...options,"portfolio":[]}`: the envelope every chunk pays once.
  const envelope = measure ? utf8Length(JSON.stringify({ ...options, portfolio: [] })) : 0;

  const chunks: PortfolioRequest[] = [];
  let positions: Position[] = [];
  let accounts = 0;
  let bytes = envelope;
  for (const group of byAccount.values()) {
    // Each position costs its JSON plus one comma; `- 1` because the first one has no comma.
    const groupBytes = measure ? group.reduce((sum, p) => sum + utf8Length(JSON.stringify(p)) + 1, 0) : 0;
    const full = accounts + 1 > maxAccounts || bytes + groupBytes - 1 > maxBytes;
    if (accounts > 0 && full) {
      chunks.push({ ...options, portfolio: positions });
      positions = [];
      accounts = 0;
      bytes = envelope;
    }
    for (const p of group) positions.push(p);
    accounts++;
    bytes += groupBytes;
  }
  if (accounts > 0) chunks.push({ ...options, portfolio: positions });
  return chunks;
}

function checkLimit(name: string, value: number): void {
  if (value === Infinity) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`chunkByAccount: ${name} must be a positive integer, got ${String(value)}`);
  }
}

/** Bytes of `text` in UTF-8, counted without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Splits one portfolio into several batch payloads by account.
 */
import type { PortfolioRequest, Position } from '../codecs';
import { isStreamedPortfolio, type StreamedPortfolioRequest } from '../http/serializePayload';

/** Limits of {@link chunkByAccount}; a limit left out is not applied. */
export interface ChunkByAccountConfig {
  /** At most this many distinct accounts per payload (a positive integer). */
  readonly maxAccounts?: number;
  /** At most this many bytes of serialized JSON per payload (a positive integer). */
  readonly maxBytes?: number;
}

/**
 * A streamed request that cuts itself into batches of whole accounts without holding its
 * positions, exactly as {@link chunkByAccount} cuts the loaded portfolio (`openPortfolio`'s
 * `PortfolioFile` is one). `runBatches` chunks it this way.
 */
export interface ChunkableRequest extends StreamedPortfolioRequest {
  /**
   * The chunks {@link chunkByAccount} would make of the loaded portfolio: same accounts per
   * chunk, same positions in the same order, same top-level fields.
   *
   * @param config `maxAccounts` and/or `maxBytes`
   * @throws TypeError when a limit is not a positive integer
   */
  chunks(config: ChunkByAccountConfig): StreamedPortfolioRequest[];
}

/**
 * Tells a {@link ChunkableRequest} from other requests.
 *
 * Example: `isChunkable(book) ? book.chunks({ maxAccounts: 500 }) : chunkByAccount(payload, { maxAccounts: 500 })`
 *
 * @param value a payload or a streamed request
 */
export function isChunkable(value: unknown): value is ChunkableRequest {
  return isStreamedPortfolio(value) && typeof (value as { chunks?: unknown }).chunks === 'function';
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
  const limits = checkChunkLimits(config);

  const byAccount = new Map<string, Position[]>();
  for (const position of payload.portfolio) {
    const group = byAccount.get(position.account_code);
    if (group === undefined) byAccount.set(position.account_code, [position]);
    else group.push(position);
  }

  const { portfolio: _all, ...options } = payload;
  const groups = [...byAccount.values()];
  const measure = limits.maxBytes !== Infinity;
  // Each position costs its JSON plus one comma (planAccountChunks takes the first one's back).
  const groupBytes = (i: number): number => (measure ? groups[i].reduce((sum, p) => sum + utf8Length(JSON.stringify(p)) + 1, 0) : 0);
  return planAccountChunks(groups.length, groupBytes, envelopeBytes(options, measure), limits).map(([start, end]) => {
    const positions: Position[] = [];
    for (let i = start; i < end; i++) for (const p of groups[i]) positions.push(p);
    return { ...options, portfolio: positions };
  });
}

/**
 * The chunk plan of {@link chunkByAccount}, for callers that know each account's JSON size
 * without holding its positions (`openPortfolio`'s `chunks`): consecutive index ranges
 * `[start, end)` of the accounts, in order, each as full as the limits allow. An account is
 * never split; one alone over `maxBytes` gets a range of its own.
 *
 * Example: `planAccountChunks(4, () => 0, 0, { maxAccounts: 2, maxBytes: Infinity })` → `[[0, 2], [2, 4]]`
 *
 * @param accounts how many accounts, in the order they are to be sent
 * @param accountBytes JSON bytes of account `i`'s positions, each plus one comma (asked once per account, in order)
 * @param envelope JSON bytes of the request with an empty portfolio ({@link envelopeBytes})
 * @param limits checked limits ({@link checkChunkLimits})
 */
export function planAccountChunks(
  accounts: number,
  accountBytes: (i: number) => number,
  envelope: number,
  limits: Required<ChunkByAccountConfig>,
): [number, number][] {
  const { maxAccounts, maxBytes } = limits;
  const ranges: [number, number][] = [];
  let start = 0;
  let bytes = envelope;
  for (let i = 0; i < accounts; i++) {
    const groupBytes = accountBytes(i);
    // `- 1`: the first position of a payload has no comma.
    const full = i - start + 1 > maxAccounts || bytes + groupBytes - 1 > maxBytes;
    if (i > start && full) {
      ranges.push([start, i]);
      start = i;
      bytes = envelope;
    }
    bytes += groupBytes;
  }
  if (accounts > start) ranges.push([start, accounts]);
  return ranges;
}

/**
 * `maxAccounts` and `maxBytes` of a {@link ChunkByAccountConfig}, checked, a limit left out as Infinity.
 *
 * Example: `checkChunkLimits({ maxAccounts: 500 })` → `{ maxAccounts: 500, maxBytes: Infinity }`
 *
 * @param config the limits as given
 * @throws TypeError when a limit is not a positive integer
 */
export function checkChunkLimits(config: ChunkByAccountConfig): Required<ChunkByAccountConfig> {
  const { maxAccounts = Infinity, maxBytes = Infinity } = config;
  checkLimit('maxAccounts', maxAccounts);
  checkLimit('maxBytes', maxBytes);
  return { maxAccounts, maxBytes };
}

/**
 * JSON bytes of `{...options,"portfolio":[]}`: what every chunk pays once, whatever the order
 * of its fields (0 when `measure` is false: no byte limit, nothing to count).
 *
 * Example: `envelopeBytes({ currency_code: 'USD' })` → 38
 *
 * @param options the request fields other than `portfolio`
 * @param measure whether a byte limit applies
 */
export function envelopeBytes(options: Readonly<Record<string, unknown>>, measure = true): number {
  return measure ? utf8Length(JSON.stringify({ ...options, portfolio: [] })) : 0;
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

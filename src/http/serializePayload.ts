/**
 * Writes a portfolio request as JSON in pieces, so a payload of hundreds of thousands of
 * positions is streamed to the socket instead of being built as one giant string first.
 */
import type { PortfolioRequest, Position } from '../codecs';

/** Options of {@link serializePayload}. */
export interface SerializePayloadOptions {
  /** Positions per emitted chunk. Default 1000. */
  readonly chunkPositions?: number;
}

/**
 * A portfolio request whose positions are read anew for every attempt instead of being held
 * in an array: a million-position file is sent without its positions ever all being in
 * memory. `openPortfolio` (src/input) makes one from a file.
 */
export interface StreamedPortfolioRequest {
  /** The request's fields other than `portfolio` (`calculation_type`, `currency_code`, …), sent as given. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The distinct account codes of the positions, in order of first appearance: what a batch handle keeps for its results. */
  readonly accountCodes: readonly string[];
  /**
   * A fresh read of the positions from the first one, called once per attempt (a retried
   * submit sends them again). Must give the same positions every time; an error thrown while
   * reading aborts the request, so the server never receives a half batch.
   */
  positions(): AsyncIterable<Position>;
  /**
   * The same request with only these accounts' positions (a batch refused as too large is
   * split so). Without it, such a request is not split.
   */
  subset?(accountCodes: readonly string[]): StreamedPortfolioRequest;
}

/**
 * Where an iterable of positions made by this library (what an opened file's `positions()`
 * returns) also hands them out a group at a time, as they were read. The body writer takes
 * them so: one await per group instead of one per position (passing positions one by one
 * through async iteration cost ~2.4 KB of promises and iterator results each, most of what a
 * large submit allocated). Internal: any other iterable is read a position at a time.
 */
export const POSITION_GROUPS: unique symbol = Symbol('c9-batch-rx.positionGroups');

/** An iterable of positions that can also be read a group at a time (see {@link POSITION_GROUPS}). */
export interface GroupedPositions extends AsyncIterable<Position> {
  /** The same positions, in the same order, in groups (never empty ones). */
  [POSITION_GROUPS](): AsyncIterable<readonly Position[]>;
}

/**
 * `groups` as an iterable of positions that also offers them by group (see {@link POSITION_GROUPS}).
 *
 * Example: `positions: () => groupedPositions(() => readGroups(file))`
 *
 * @param groups a fresh read of the positions, a group at a time
 */
export function groupedPositions(groups: () => AsyncIterable<readonly Position[]>): GroupedPositions {
  return {
    [POSITION_GROUPS]: groups,
    [Symbol.asyncIterator]: async function* positions() {
      for await (const group of groups()) yield* group;
    },
  };
}

/** The groups of `positions`: its own when it offers them, otherwise one position each. */
async function* positionGroups(positions: AsyncIterable<Position>): AsyncGenerator<readonly Position[], void, undefined> {
  const own = (positions as Partial<GroupedPositions>)[POSITION_GROUPS];
  if (typeof own === 'function') {
    yield* own.call(positions);
    return;
  }
  for await (const position of positions) yield [position];
}

/**
 * Tells a {@link StreamedPortfolioRequest} from a plain payload (which holds a `portfolio` array).
 *
 * Example: `const codes = isStreamedPortfolio(p) ? p.accountCodes : accountCodesOf(p.portfolio)`
 *
 * @param value a payload or a streamed request
 */
export function isStreamedPortfolio(value: unknown): value is StreamedPortfolioRequest {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof StreamedPortfolioRequest | 'portfolio', unknown>>;
  return typeof candidate.positions === 'function' && Array.isArray(candidate.accountCodes) && !('portfolio' in candidate);
}

/** JSON.stringify's rendering of an array element: what it cannot represent becomes `null`. */
function arrayElement(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/**
 * Returns a factory of the JSON text of `payload`, in chunks: the top-level fields in their
 * own order, with `portfolio` written a group of positions at a time where it sits. The
 * joined chunks parse to the same value as `JSON.stringify(payload)`. Each call of the
 * factory starts over, so a retried request can send the body again.
 *
 * Example:
 * ```ts
 * const body = serializePayload({ portfolio, currency_code: 'USD' }, { chunkPositions: 500 });
 * for await (const chunk of body()) socket.write(chunk);
 * ```
 *
 * @param payload the request body, sent as given (unknown fields included)
 * @param options.chunkPositions how many positions each chunk holds (an integer ≥ 1)
 */
export function serializePayload(payload: PortfolioRequest, options: SerializePayloadOptions = {}): () => AsyncIterable<string> {
  const { chunkPositions = 1000 } = options;
  if (!Number.isInteger(chunkPositions) || chunkPositions < 1) {
    throw new TypeError(`chunkPositions must be an integer ≥ 1, got ${String(chunkPositions)}`);
  }
  if (typeof payload !== 'object' || payload === null) throw new TypeError('payload must be an object');

  return async function* chunks(): AsyncGenerator<string, void, undefined> {
    // An object with its own toJSON decides its own shape: only JSON.stringify can honour that.
    if (typeof (payload as { toJSON?: unknown }).toJSON === 'function') {
      yield JSON.stringify(payload);
      return;
    }
    let separator = '{';
    for (const key of Object.keys(payload)) {
      const value: unknown = payload[key];
      if (key === 'portfolio' && Array.isArray(value)) {
        yield `${separator}${JSON.stringify(key)}:[`;
        for (let start = 0; start < value.length; start += chunkPositions) {
          const end = Math.min(start + chunkPositions, value.length);
          const parts: string[] = [];
          for (let i = start; i < end; i++) parts.push(arrayElement(value[i]));
          yield (start === 0 ? '' : ',') + parts.join(',');
        }
        yield ']';
      } else {
        const json = JSON.stringify(value);
        // JSON.stringify leaves out fields it cannot represent (undefined, functions): so do we.
        if (json === undefined) continue;
        yield `${separator}${JSON.stringify(key)}:${json}`;
      }
      separator = ',';
    }
    yield separator === '{' ? '{}' : '}';
  };
}

/**
 * Returns a factory of the JSON text of a streamed request, in chunks: `{"portfolio":[`, the
 * positions a group at a time as `request.positions()` yields them, `]`, then the other
 * fields in their own order (so the text is the same as `JSON.stringify({ portfolio, ...options })`).
 * Each call of the factory reads the positions again from the start; an error while reading
 * ends the text there (the request is aborted with that error, never sent incomplete).
 *
 * Example:
 * ```ts
 * const body = serializeStreamedPayload(await openPortfolio('big.csv'));
 * for await (const chunk of body()) socket.write(chunk);
 * ```
 *
 * @param request the options, account codes and re-readable positions
 * @param options.chunkPositions how many positions each chunk holds (an integer ≥ 1, default 100)
 */
export function serializeStreamedPayload(request: StreamedPortfolioRequest, options: SerializePayloadOptions = {}): () => AsyncIterable<string> {
  // Smaller than serializePayload's: these chunks are all that is in memory, and 1000
  // positions (~170 KB) each took a large-object page and sat in the stream's buffer long
  // enough to be promoted; 100 kept a 1M-position submit's peak ~35 MB lower, at the same speed.
  const { chunkPositions = 100 } = options;
  if (!Number.isInteger(chunkPositions) || chunkPositions < 1) {
    throw new TypeError(`chunkPositions must be an integer ≥ 1, got ${String(chunkPositions)}`);
  }
  if (!isStreamedPortfolio(request)) throw new TypeError('request must have options, accountCodes and a positions() function');
  const fields = request.options;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields) || 'portfolio' in fields) {
    throw new TypeError('request.options must be an object without a portfolio field');
  }

  return async function* chunks(): AsyncGenerator<string, void, undefined> {
    // The chunk being gathered is written as UTF-8 into one reused buffer outside the JS heap,
    // each position's JSON dropped as soon as it is written. Kept as an array of strings until
    // the chunk was full, they were what a young collection found alive (~16 KB of the ~25 KB
    // each one kept of a 1M-position submit), and every byte surviving one counts towards V8
    // doubling the young generation: that grew it to its 32 MB maximum mid-submit.
    let buffer = Buffer.allocUnsafe(16 * 1024);
    let used = 0;
    const append = (text: string): void => {
      // At most 3 UTF-8 bytes per UTF-16 unit (JSON.stringify escapes lone surrogates).
      if (used + text.length * 3 > buffer.length) {
        const next = Buffer.allocUnsafe(Math.max(buffer.length * 2, used + text.length * 3));
        buffer.copy(next, 0, 0, used);
        buffer = next;
      }
      used += buffer.write(text, used, 'utf8');
    };
    // Chunks end between positions, so no character is ever split between two.
    const take = (): string => {
      const text = buffer.toString('utf8', 0, used);
      used = 0;
      return text;
    };
    let separator = '{"portfolio":[';
    let inChunk = 0;
    for await (const group of positionGroups(request.positions())) {
      for (let i = 0; i < group.length; i++) {
        append(separator);
        separator = ',';
        append(arrayElement(group[i]));
        if (++inChunk === chunkPositions) {
          yield take();
          inChunk = 0;
        }
      }
    }
    let tail = `${take()}${separator === ',' ? '' : separator}]`;
    for (const key of Object.keys(fields)) {
      const json = JSON.stringify(fields[key]);
      if (json !== undefined) tail += `,${JSON.stringify(key)}:${json}`;
    }
    yield `${tail}}`;
  };
}

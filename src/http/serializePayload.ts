/**
 * Writes a portfolio request as JSON in pieces, so a payload of hundreds of thousands of
 * positions is streamed to the socket instead of being built as one giant string first.
 */
import type { PortfolioRequest } from '../codecs';

/** Options of {@link serializePayload}. */
export interface SerializePayloadOptions {
  /** Positions per emitted chunk. Default 1000. */
  readonly chunkPositions?: number;
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

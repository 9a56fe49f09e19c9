/**
 * Reading a large fetch response body as text without keeping every chunk until the end.
 */
import { Readable } from 'node:stream';

/**
 * Bodies from this size on are read into one buffer of the announced length. Below it the
 * response's own `text()` reads them: a poll's answer is a few hundred bytes.
 */
export const PREALLOCATE_FROM_BYTES = 1 << 20;

/**
 * A response body as text, as `response.text()` gives it (UTF-8, byte order mark kept, the
 * same error when the body fails), read differently when it is large and its length is
 * announced: each chunk is copied into one buffer of that length as it arrives.
 *
 * node-fetch 2 (cross-fetch on Node) keeps every chunk of a body until its end, then copies
 * them into one buffer: a 246 MB results body left ~490 MB of buffers to collect right when
 * the client parses it, and that collection, run during JSON.parse, made the parse ~20%
 * slower than the same parse on a quiet heap. Chunks copied on arrival die young instead.
 *
 * For node-fetch 2 responses only (the caller checks the fetch; a body that is not a Node
 * stream is left to `response.text()` here too), and anything else (an encoded or
 * unannounced length, a body already read) goes to `response.text()`. When the body fails,
 * `response.text()` is asked again: node-fetch 2 has by then kept the failure as the body's
 * error and rejects with exactly that.
 *
 * Example: `const text = await readBodyText(response, lowerCaseHeaders(response.headers))`
 *
 * @param response the fetch response, body not yet read
 * @param headers its headers with lower-case names
 */
export function readBodyText(response: Response, headers: Readonly<Record<string, string>>): Promise<string> {
  const body: unknown = response.body;
  const length = Number(headers['content-length']);
  if (
    !(body instanceof Readable) ||
    response.bodyUsed ||
    headers['content-encoding'] !== undefined ||
    !Number.isSafeInteger(length) ||
    length < PREALLOCATE_FROM_BYTES
  ) {
    return response.text();
  }
  return new Promise<string>((resolve, reject) => {
    let buffer: Buffer | undefined = Buffer.allocUnsafe(length);
    let filled = 0;
    // Only if more arrives than was announced (a server's mistake): kept as node-fetch would.
    let overflow: Buffer[] | undefined;
    const onData = (chunk: Buffer): void => {
      if (overflow !== undefined) {
        overflow.push(chunk);
      } else if (buffer !== undefined && filled + chunk.length <= length) {
        chunk.copy(buffer, filled);
        filled += chunk.length;
      } else {
        overflow = [buffer === undefined ? Buffer.alloc(0) : buffer.subarray(0, filled), chunk];
        buffer = undefined;
      }
    };
    const onEnd = (): void => {
      body.off('error', onError);
      try {
        resolve(overflow !== undefined ? Buffer.concat(overflow).toString() : (buffer as Buffer).toString('utf8', 0, filled));
      } catch (error) {
        // A body longer than the longest string (ERR_STRING_TOO_LONG): thrown from this event
        // handler it would take the process down.
        reject(error);
      } finally {
        buffer = undefined;
        overflow = undefined;
      }
    };
    const onError = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      buffer = undefined;
      overflow = undefined;
      response.text().then(resolve, reject);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}

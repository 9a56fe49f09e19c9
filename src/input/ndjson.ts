/**
 * NDJSON portfolio files (one JSON position per line), read as a stream.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Position } from '../codecs';
import { InputError } from './errors';
import { checkPosition } from './validate';
import { fileErrorReason } from './fileErrors';
import { formatJsonPath, jsonSyntaxError, silentChange } from './jsonScan';

/**
 * Reads an NDJSON portfolio as a stream of positions: one JSON object per line, in file
 * order, each kept exactly as parsed. Blank (or whitespace-only) lines are skipped; LF or
 * CRLF line ends; a byte-order mark is dropped. A line that is not a JSON object holding
 * a valid position fails with an {@link InputError} naming the file, line and field (and
 * the column of a syntax error). A number `JSON.parse` would round, or a key written twice
 * in a position (`JSON.parse` keeps the last), is such an error too, never sent altered.
 *
 * Example:
 * ```ts
 * for await (const position of readNdjsonPositions('book.ndjson')) send(position);
 * ```
 *
 * @param file path of the NDJSON file
 * @param source the bytes to read instead of opening `file`; `file` still names it in errors
 */
export function readNdjsonPositions(file: string, source?: Readable): AsyncGenerator<Position, void, undefined> {
  return ndjsonPositions(file, source);
}

/**
 * {@link readNdjsonPositions}, telling the line of each position through `cursor` (set before it is yielded).
 *
 * Example: `for await (const p of ndjsonPositions('book.ndjson', undefined, cursor)) lines.push(cursor.line);`
 *
 * @param file path of the NDJSON file
 * @param source the bytes to read instead of opening `file`
 * @param cursor told the line of each position
 */
export async function* ndjsonPositions(file: string, source?: Readable, cursor?: { line: number }): AsyncGenerator<Position, void, undefined> {
  const input = source ?? createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  // readline does not forward the input's errors (a missing file): turn them into one here.
  let streamError: unknown;
  input.once('error', (error: unknown) => {
    streamError = error;
    lines.close();
  });
  let lineNumber = 0;
  try {
    for await (const raw of lines) {
      lineNumber++;
      const text = lineNumber === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        const { reason, offset } = jsonSyntaxError(error, text);
        throw new InputError({ file, line: lineNumber, ...(offset === undefined ? {} : { column: offset + 1 }) }, `not valid JSON (${reason})`, { cause: error });
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InputError({ file, line: lineNumber }, 'expected one JSON object (a position) per line');
      }
      const change = silentChange(text, value);
      if (change !== undefined) throw new InputError({ file, line: lineNumber, field: formatJsonPath(change.path) }, change.reason);
      if (cursor !== undefined) cursor.line = lineNumber;
      yield checkPosition(value, (field) => ({ file, line: lineNumber, field }));
    }
    if (streamError !== undefined) throw streamError;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError({ file }, fileErrorReason(error), { cause: error });
  } finally {
    lines.close();
    input.destroy();
  }
}

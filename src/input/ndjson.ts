/**
 * NDJSON portfolio files (one JSON position per line), read as a stream.
 */
import { createReadStream } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { pipeline, type Readable } from 'node:stream';
import type { Position } from '../codecs';
import { InputError } from './errors';
import { checkPosition } from './validate';
import { fileErrorReason } from './fileErrors';
import { formatJsonPath, jsonSyntaxError, silentChange } from './jsonScan';
import { LineStartTracker } from './lineTracker';
import { SegmentFeed, segmentStream, type Segment } from './segments';

/** Where the position last yielded by {@link ndjsonPositions} is; set before each position. */
export interface NdjsonCursor {
  /** Its line. */
  line: number;
  /** Its line's first byte's offset in the file (NaN when it could not be told). */
  offset?: number;
}

/** Parts of an NDJSON file read one after the other (see segmentStream), each starting on a line. */
export interface NdjsonSegments {
  /** The parts, in the order they are read. */
  readonly list: Iterable<Segment>;
  /** The file's size when the parts were found. */
  readonly fileSize: number;
  /** The error when the file ends before a part does. */
  readonly shorter: () => Error;
}

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
 * {@link readNdjsonPositions}, telling the line (and byte offset) of each position through
 * `cursor` (set before it is yielded), or of some parts of the file only (how `openPortfolio`
 * reads a chunk of a file it has already checked), errors naming the file's own lines.
 *
 * Example: `for await (const p of ndjsonPositions('book.ndjson', undefined, cursor)) lines.push(cursor.line);`
 *
 * @param file path of the NDJSON file
 * @param source the bytes to read instead of opening `file`
 * @param cursor told the line and offset of each position
 * @param segments only these parts of `file`
 */
export async function* ndjsonPositions(file: string, source?: Readable, cursor?: NdjsonCursor, segments?: NdjsonSegments): AsyncGenerator<Position, void, undefined> {
  const feed = segments === undefined ? undefined : new SegmentFeed();
  const input = source ?? (segments !== undefined && feed !== undefined ? segmentStream(file, segments.list, segments.fileSize, '\n', feed, segments.shorter) : createReadStream(file));
  // Offsets and the parts' own line numbers only when asked for: a plain read is left as it was.
  const tracker = cursor !== undefined || feed !== undefined ? new LineStartTracker(feed) : undefined;
  // readline does not forward the input's errors (a missing file): turn them into one here.
  let streamError: unknown;
  let lines: Interface | undefined;
  const fail = (error: unknown): void => {
    streamError = error;
    lines?.close();
  };
  const read = tracker === undefined ? input : pipeline(input, tracker, (error) => error && fail(error));
  lines = createInterface({ input: read, crlfDelay: Infinity });
  // After readline's own listener, which hands the error to the loop: closing first left it unheard (an uncaught error).
  if (tracker === undefined) input.once('error', fail);
  let lineNumber = 0;
  let index = -1;
  try {
    for await (const raw of lines) {
      index++;
      lineNumber = feed === undefined ? lineNumber + 1 : (tracker?.lineOf(index) ?? lineNumber + 1);
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
      if (cursor !== undefined) {
        cursor.line = lineNumber;
        // A line the tracker split otherwise than readline gets no offset (never read on its own).
        if (tracker !== undefined) cursor.offset = tracker.lineOf(index) === lineNumber ? (tracker.offsetOf(index) ?? Number.NaN) : Number.NaN;
      }
      tracker?.release(index);
      yield checkPosition(value, (field) => ({ file, line: lineNumber, field }));
    }
    if (streamError !== undefined) throw streamError;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError({ file }, fileErrorReason(error), { cause: error });
  } finally {
    lines.close();
    input.destroy();
    tracker?.destroy();
  }
}

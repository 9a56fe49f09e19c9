/**
 * CSV portfolio files, read as a stream: one position per record, in file order.
 */
import { createReadStream } from 'node:fs';
import { finished, pipeline, type Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { EtdPosition, positionShape, type Position } from '../codecs';
import { InputError } from './errors';
import { CsvLineTracker, type MixedLineEnd } from './lineTracker';
import { checkPosition } from './validate';
import { fileErrorReason } from './fileErrors';
import { SegmentFeed, segmentStream, type Segment } from './segments';

/** Why a record holding a line end of the other kind is refused (see CsvLineTracker.mixedLineEnd). */
const MIXED_LINE_END: Readonly<Record<MixedLineEnd, string>> = {
  'bare-lf':
    "a line of this record ends in LF alone while the file's lines end in CRLF, so it is read as part of the record; quote the field if the line break is data, or save the file with one kind of line end",
  crlf: "a line of this record ends in CRLF while the file's first line ends in LF alone, so the CR is read as the end of its last field; save the file with one kind of line end",
};

/** Bytes per read of a CSV file. */
const READ_BYTES = 4 * 1024;

/** A record longer than this is refused: usually a quote that is never closed, swallowing the rest of the file. */
export const MAX_CSV_RECORD_BYTES = 4 * 1024 * 1024;

/**
 * Reads a CSV portfolio as a stream of positions, one per record, in file order.
 *
 * The first non-empty line is the header; each column becomes a position field named by
 * its header, extra columns included. Values stay the strings written in the file
 * ("579" is not turned into 579). The one normalisation: an empty cell is left out of its
 * position rather than sent as "" (a future's empty `contract_strike`). Empty lines are
 * skipped; any other line is a record. Line ends may be LF or CRLF; a byte-order mark is
 * dropped; quoted fields may hold commas, doubled quotes and line breaks.
 *
 * A record that cannot be read fails with an {@link InputError} naming the file, the line
 * the record starts on, and the field. A column every row needs but the header lacks is
 * reported once, on the header's line (`book.csv:1: missing column "exchange_code"`).
 *
 * Example:
 * ```ts
 * for await (const position of readCsvPositions('book.csv')) send(position);
 * ```
 *
 * @param file path of the CSV file
 * @param source the bytes to read instead of opening `file` (tests, stdin); `file` still names it in errors
 */
export async function* readCsvPositions(file: string, source?: Readable): AsyncGenerator<Position, void, undefined> {
  for await (const group of csvPositionGroups(file, { source })) yield* group;
}

/**
 * Where the records of the group last yielded by {@link csvPositionGroups} start; filled in
 * before each group.
 */
export interface CsvCursor {
  /** Start line of each position of the group, in the group's order. */
  readonly lines: number[];
  /**
   * First byte's file offset of each position's record (NaN when the scan could not tell, and
   * for a UTF-16 file: the tracker finds line ends in the bytes as UTF-8, a byte off there, and
   * a part read alone would have no byte-order mark to be decoded by).
   */
  readonly offsets: number[];
  /** The header's columns, once read. */
  header: readonly string[] | undefined;
  /**
   * The line ending the parser took as the record delimiter (from the header line), once the
   * header is read: a range read on its own must split records the same way.
   */
  recordDelimiter?: string;
}

/** A part of a CSV file read on its own: whole records, its header read before. */
export interface CsvRange {
  /** Offset of the range's first byte (a record's first byte). */
  readonly start: number;
  /** Offset just past its last byte. */
  readonly end: number;
  /** The line the range starts on, so errors name the file's own lines. */
  readonly line: number;
  /** The file's header, as read from the whole file. */
  readonly header: readonly string[];
  /**
   * The record delimiter the whole file was read with. Without it a range's parser would
   * take the line ending of the range's own first record: in a file of LF lines, a range
   * starting on a record that ends in CRLF would be split at CRLF only, and its values read
   * with a trailing newline instead of the carriage return the whole-file read kept.
   */
  readonly recordDelimiter?: string;
}

/** Parts of a CSV file read one after the other as one stream (see segmentStream), each whole records, read with the file's header. */
export interface CsvSegments {
  /** The parts, in the order they are read. */
  readonly list: Iterable<Segment>;
  /** The file's size when the parts were found. */
  readonly fileSize: number;
  /** The file's header, as read from the whole file. */
  readonly header: readonly string[];
  /** The record delimiter the whole file was read with (see {@link CsvRange.recordDelimiter}); it also ends a part lacking its line end. */
  readonly recordDelimiter: string;
  /** The error when the file ends before a part does. */
  readonly shorter: () => Error;
}

/** Options of {@link csvPositionGroups}. */
export interface CsvReadOptions {
  /** The bytes to read instead of opening `file`. */
  readonly source?: Readable;
  /** Told where the records of each group start. */
  readonly cursor?: CsvCursor;
  /** Only these bytes of `file`, read with this header. */
  readonly range?: CsvRange;
  /** Only these parts of `file`, in this order (a range is not given with them). */
  readonly segments?: CsvSegments;
}

/**
 * {@link readCsvPositions} a group of positions at a time (the records of one read of the
 * file, a few hundred), with where each record starts told through `cursor`, or of one range
 * of the file only (how `openPortfolio` reads a file, and one chunk of a file it has already
 * checked). Groups, not one position at a time: each position passed on through async
 * iteration (the parser's stream, this generator, its consumer's) cost ~2.4 KB of promises and
 * iterator results, three quarters of what reading a position allocated; here the records
 * buffered by the parser are taken with one synchronous loop per read. A record that fails
 * ends its group: the positions before it are yielded, then the error is thrown, as one
 * position at a time would have it.
 *
 * Example: `for await (const group of csvPositionGroups('book.csv', { range: { start, end, line, header } })) send(group);`
 *
 * @param file path of the CSV file (named in errors)
 * @param options the source, the cursor, the range
 */
export async function* csvPositionGroups(file: string, options: CsvReadOptions = {}): AsyncGenerator<Position[], void, undefined> {
  const { source, cursor, range, segments } = options;
  const feed = segments === undefined ? undefined : new SegmentFeed();
  const tracker = range === undefined ? new CsvLineTracker(1, 0, feed, segments === undefined, segments?.recordDelimiter) : new CsvLineTracker(range.line, range.start, undefined, false, range.recordDelimiter);
  // Read with the whole file's header and record delimiter, as a range is.
  const part = range ?? segments;
  const parser = parse({
    // Only at the start of the file: a range starts on a record, whose first cell may begin with one.
    bom: part === undefined,
    columns: false,
    skip_empty_lines: true,
    relax_column_count: false,
    relax_quotes: false,
    max_record_size: MAX_CSV_RECORD_BYTES,
    ...(part?.recordDelimiter === undefined ? {} : { record_delimiter: part.recordDelimiter }),
  });
  // 4 KB reads: the parser turns a whole read into records at once, handed out as one group,
  // and the group still being written when a young collection runs survives it; bytes
  // surviving young collections are what makes V8 grow the young generation (up to 32 MB)
  // on a long file. A 16 KB read's group (~420 positions) kept ~120 KB alive at each of
  // those collections (P3 file), a 4 KB read's 5-50 KB.
  const input =
    source ??
    (segments !== undefined && feed !== undefined
      ? segmentStream(file, segments.list, segments.fileSize, segments.recordDelimiter, feed, segments.shorter)
      : createReadStream(file, { highWaterMark: READ_BYTES, ...(range === undefined ? {} : { start: range.start, end: range.end - 1 }) }));
  // pipeline destroys every stage on error or early exit, so the file is closed either way.
  const records: Readable = pipeline(input, tracker, parser, () => undefined);

  let header: readonly string[] | undefined = part?.header;
  if (cursor !== undefined) cursor.header = header;
  let index = 0;
  try {
    for await (const buffered of bufferedChunks(records)) {
      const group: Position[] = [];
      if (cursor !== undefined) {
        cursor.lines.length = 0;
        cursor.offsets.length = 0;
      }
      let failure: unknown;
      for (let i = 0; i < buffered.length; i++) {
        const record = buffered[i] as string[];
        const line = tracker.startLine(index) ?? index + 1;
        try {
          const mixed = tracker.mixedLineEnd(index);
          if (mixed !== undefined) throw new InputError({ file, line }, MIXED_LINE_END[mixed]);
          if (header === undefined) {
            header = checkHeader(record, file, line);
            if (cursor !== undefined) {
              cursor.header = header;
              cursor.recordDelimiter = detectedRecordDelimiter(parser.options.record_delimiter);
            }
          } else {
            // A range's first record is no header, so the parser cannot compare the counts.
            if (part !== undefined && record.length !== header.length) {
              throw new InputError({ file, line }, `the record has ${record.length} fields, the header has ${header.length}`);
            }
            group.push(toPosition(record, header, file, line));
            if (cursor !== undefined) {
              cursor.lines.push(line);
              cursor.offsets.push(parser.options.encoding === 'utf8' ? (tracker.startOffset(index) ?? Number.NaN) : Number.NaN);
            }
          }
        } catch (error) {
          failure = error;
          break;
        }
        index++;
        tracker.release(index);
      }
      if (group.length > 0) yield group;
      if (failure !== undefined) throw failure;
    }
  } catch (error) {
    // The failing record is the one after every record the parser finished (the header
    // counts), which may be ahead of the ones this loop has consumed.
    const failing = error instanceof CsvError ? parser.info.records : index;
    // A parser error in the same read as the header comes before this loop took the header:
    // it is still in the parser's buffer (an error stops reading, it does not empty it), and
    // without it the error could not name its column. A header with a fault of its own is
    // reported first: it is on an earlier line.
    const buffered: unknown = header === undefined && failing > 0 ? records.read() : null;
    const known = header ?? (Array.isArray(buffered) ? checkHeader(buffered as string[], file, tracker.startLine(0) ?? 1) : undefined);
    throw asInputError(error, file, tracker.startLine(failing), known);
  } finally {
    records.destroy();
  }
}

/**
 * The chunks of an object-mode stream, everything buffered at each wake-up at once: what the
 * stream's own async iterator does, without a promise and a generator step per chunk.
 * Ends when the stream ends; throws its error.
 */
async function* bufferedChunks(stream: Readable): AsyncGenerator<unknown[], void, undefined> {
  let wake: () => void = () => undefined;
  // undefined: still running; null: ended; otherwise the error it failed with.
  let outcome: unknown = undefined;
  const onReadable = (): void => wake();
  stream.on('readable', onReadable);
  const stopWatching = finished(stream, { writable: false }, (error) => {
    outcome = error ?? null;
    wake();
  });
  try {
    for (;;) {
      const chunks: unknown[] = [];
      let chunk: unknown;
      while (!stream.destroyed && (chunk = stream.read()) !== null) chunks.push(chunk);
      if (chunks.length > 0) {
        yield chunks;
        continue;
      }
      if (outcome === null) return;
      if (outcome !== undefined) throw outcome;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = () => undefined;
    }
  } finally {
    stream.off('readable', onReadable);
    stopWatching();
  }
}

function checkHeader(names: string[], file: string, line: number): string[] {
  if (names.length === 1 && /[;\t|]/.test(names[0])) {
    throw new InputError({ file, line }, `the header has a single column ${JSON.stringify(names[0])}: only comma-separated files are read`);
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (name !== '' && seen.has(name)) throw new InputError({ file, line, field: name }, 'the column appears twice in the header');
    seen.add(name);
  }
  const missing = requiredColumns(seen).filter((name) => !seen.has(name));
  if (missing.length > 0) {
    throw new InputError({ file, line }, `missing column${missing.length === 1 ? '' : 's'} ${missing.map((name) => JSON.stringify(name)).join(', ')}`);
  }
  return names;
}

const ETD_FIELDS = Object.keys(EtdPosition.types[0].props);

/**
 * The columns every row needs, judged from the header alone: `account_code` always, and the
 * listed-contract fields when no column could make a row another shape (every row is then
 * an ETD position). Told once on the header's line instead of on every row.
 */
function requiredColumns(columns: ReadonlySet<string>): readonly string[] {
  const widest: Record<string, unknown> = Object.fromEntries([...columns].map((name) => [name, '']));
  return positionShape(widest) === EtdPosition ? ETD_FIELDS : ['account_code'];
}

function toPosition(record: string[], header: readonly string[], file: string, line: number): Position {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < record.length; i++) {
    const value = record[i];
    if (value === '') continue;
    const name = header[i];
    if (name === '') {
      throw new InputError({ file, line }, `column ${i + 1} has a value but no name in the header`);
    }
    // A column named __proto__ is data like any other: assignment would set the prototype.
    if (name === '__proto__') Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
    else row[name] = value;
  }
  return checkPosition(row, (field) => ({ file, line, field }), 'missing: the cell is empty or the column is absent');
}

function asInputError(error: unknown, file: string, line: number | undefined, header: readonly string[] | undefined): Error {
  if (error instanceof InputError) return error;
  if (error instanceof CsvError) {
    return new InputError({ file, line: line ?? numberOr(error.lines) }, csvReason(error, header), { cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  // A file-system error is about the file, not a line.
  if (typeof code === 'string' && code.startsWith('E')) return new InputError({ file }, fileErrorReason(error), { cause: error });
  return new InputError({ file, line }, fileErrorReason(error), { cause: error });
}

function csvReason(error: CsvError, header: readonly string[] | undefined): string {
  switch (error.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      const found = Array.isArray(error.record) ? error.record.length : undefined;
      const expected = header?.length ?? /expect (\d+)/.exec(error.message)?.[1];
      return `the record has ${found ?? 'a different number of'} fields, the header has ${expected ?? 'another number'}`;
    }
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field that starts in this record is never closed';
    case 'CSV_MAX_RECORD_SIZE':
      return `the record is longer than ${MAX_CSV_RECORD_BYTES / 1024 / 1024} MB (a quote that is never closed?)`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `${columnOf(error, header)}a closing quote is followed by other characters (write a quote inside a quoted field as "")`;
    case 'INVALID_OPENING_QUOTE':
      return `${columnOf(error, header)}a quote inside an unquoted field (quote the whole field and double the quote)`;
    default:
      return error.message;
  }
}

function columnOf(error: CsvError, header: readonly string[] | undefined): string {
  const column = error.column;
  if (typeof column === 'string' && column !== '') return `${column}: `;
  if (typeof column === 'number' && header?.[column]) return `${header[column]}: `;
  return '';
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** The record delimiter csv-parse settled on (it keeps what it detected as its option), as text; undefined if it has none yet. */
function detectedRecordDelimiter(option: unknown): string | undefined {
  const first: unknown = Array.isArray(option) ? option[0] : option;
  if (Buffer.isBuffer(first)) return first.toString('utf8');
  return typeof first === 'string' ? first : undefined;
}

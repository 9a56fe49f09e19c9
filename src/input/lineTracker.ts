/**
 * Finds the physical line on which each CSV record starts, while the bytes stream past.
 *
 * csv-parse's own `info.lines` counts differently after CRLF line ends and quoted line
 * breaks, and errors need the line where the bad record *starts* (a quoted field may span
 * lines). So a pass-through transform scans the same bytes with the rules that matter
 * (quotes toggle, `\n` ends a line, the parser's record delimiter ends a record) and queues
 * one start line per non-empty record. The parser sees the bytes only after this transform,
 * so the queue is always ahead of it.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { SegmentFeed } from './segments';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
/** A line end of the other kind than the file's records (see {@link CsvLineTracker.mixedLineEnd}). */
export type MixedLineEnd = 'bare-lf' | 'crlf';

/** UTF-8 byte-order mark. */
const BOM = [0xef, 0xbb, 0xbf];

/**
 * What both trackers share: a pass-through stream that queues, for each record or line it
 * finds, the line it starts on and its file offset, and restarts both at each piece of a
 * {@link segmentStream} when it reads one.
 */
abstract class StartTracker extends Transform {
  protected line: number;
  /** File offset of byte 0 of the chunk being scanned. */
  protected position: number;
  private readonly lines: number[] = [];
  private readonly offsets: number[] = [];
  private head = 0;
  /** Bytes left of the current piece of a segment stream (see {@link SegmentFeed}). */
  private left = 0;

  constructor(
    line: number,
    offset: number,
    private readonly feed: SegmentFeed | undefined,
  ) {
    super();
    this.line = line;
    this.position = offset;
  }

  /** Scans bytes `from` to `to` of `bytes` (byte i is at file offset `position + i`), calling {@link found} for each start. */
  protected abstract scan(bytes: Buffer, from: number, to: number): void;

  /** Starts found so far. */
  protected foundCount = 0;

  /** Queues a start on the current line at file offset `offset`. */
  protected found(offset: number): void {
    this.lines.push(this.line);
    this.offsets.push(offset);
    this.foundCount++;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.feed === undefined) this.scan(bytes, 0, bytes.length);
    else {
      for (let at = 0; at < bytes.length; ) {
        if (this.left === 0) {
          const piece = this.feed.shift();
          this.left = piece.length;
          if (!Number.isNaN(piece.line)) this.line = piece.line;
          // So that `position + i` is the file offset of byte i of this chunk.
          this.position = piece.start - at;
        }
        const to = Math.min(bytes.length, at + this.left);
        this.scan(bytes, at, to);
        this.left -= to - at;
        at = to;
      }
    }
    this.position += bytes.length;
    callback(null, chunk);
  }

  protected lineAt(index: number): number | undefined {
    return this.lines[index - this.head];
  }

  protected offsetAt(index: number): number | undefined {
    return this.offsets[index - this.head];
  }

  /**
   * Forgets the starts before number `index`: a million-row file keeps only a few.
   * Often (every 256): queues left to grow to thousands of entries outlived young
   * collections, and with a few files read at once (chunks of a file sent concurrently)
   * that was ~100 KB promoted to the old generation per collection.
   */
  release(index: number): void {
    const drop = index - this.head;
    if (drop >= 256) {
      this.lines.splice(0, drop);
      this.offsets.splice(0, drop);
      this.head = index;
    }
  }
}

/** A pass-through stream that records the start line of every non-empty CSV record. */
export class CsvLineTracker extends StartTracker {
  private inQuotes = false;
  private atRecordStart = true;
  /**
   * Bytes of a leading byte-order mark matched so far, or -1 once past it. The parser drops
   * the mark, so it starts no record: counted as one, a mark on a line of its own above the
   * header (blank lines before the header are skipped) shifted every record's line and
   * offset to its previous record's.
   */
  private bomMatched: number;
  /**
   * The record delimiter, as the parser has it: given (a part of a file read with the whole
   * file's), or found as the parser finds it, at the first line end outside quotes. Only it
   * ends a record: in a file of CRLF lines a bare LF is text of the next record (csv-parse
   * reads `\nA` as its first cell), and in a file of LF lines a CR is text too (an empty
   * CRLF line is a record `\r`). Taking every LF as a record end and every CR at a record's
   * start as part of a line end, the scan once counted records the parser did not make (or
   * missed one it made), so records were given the wrong lines and offsets: a chunk's rows
   * were then read from the wrong bytes (an account code sent as `A` for `\nA`).
   */
  private delimiter: 'lf' | 'crlf' | 'cr' | undefined;
  /** The last byte was a CR outside quotes, and the delimiter is CRLF or not yet found: what it is depends on the next byte. */
  private pendingCr = false;
  /** The file offset of that CR (the next byte may be in another piece of a segment stream). */
  private pendingCrAt = 0;
  /** The last byte was a CR outside quotes in a file of LF records. */
  private lastCr = false;
  /**
   * Records with a line end of the other kind outside quotes (rare: the first one fails the
   * read): a bare LF in a file of CRLF records, or a CRLF in a file of LF records.
   */
  private readonly mixed = new Map<number, MixedLineEnd>();

  /**
   * @param line the line the bytes start on (a range of a file read on its own starts past line 1)
   * @param offset the file offset of the first byte, so {@link startOffset} answers in file offsets
   * @param feed the pieces of a {@link segmentStream} the bytes come from: lines and offsets
   *   then restart at each piece's own
   * @param bom the bytes may start with a byte-order mark the parser drops (the start of a file)
   * @param recordDelimiter the record delimiter the parser is given; none: found as the parser finds it
   */
  constructor(line = 1, offset = 0, feed?: SegmentFeed, bom = false, recordDelimiter?: string) {
    super(line, offset, feed);
    this.bomMatched = bom ? 0 : -1;
    this.delimiter = recordDelimiter === undefined ? undefined : recordDelimiter === '\r\n' ? 'crlf' : recordDelimiter === '\r' ? 'cr' : 'lf';
  }

  protected scan(bytes: Buffer, from: number, to: number): void {
    // UTF-8 continuation bytes are never ASCII, so scanning bytes is safe for these three.
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (this.bomMatched >= 0) {
        if (b === BOM[this.bomMatched]) {
          this.bomMatched = this.bomMatched + 1 === BOM.length ? -1 : this.bomMatched + 1;
          continue;
        }
        // Not a mark after all: its first bytes began the first record.
        const matched = this.bomMatched;
        this.bomMatched = -1;
        if (matched > 0) this.startRecord(this.position + i - matched);
      }
      const afterCr = this.lastCr;
      this.lastCr = false;
      if (this.inQuotes) {
        if (b === LF) this.line++;
        // A doubled quote closes and opens again.
        else if (b === QUOTE) this.inQuotes = false;
        continue;
      }
      if (this.pendingCr) {
        this.pendingCr = false;
        if (b === LF) {
          // CRLF: one line end, and the record's end when CRLF is the delimiter (found here when none was yet).
          this.delimiter ??= 'crlf';
          this.line++;
          this.atRecordStart = true;
          continue;
        }
        this.loneCr();
      }
      // CR-only records: their lines are not counted (LF is), so none is told (the whole file is read then).
      if (this.delimiter === 'cr') continue;
      if (b === CR && this.delimiter !== 'lf') {
        this.pendingCr = true;
        this.pendingCrAt = this.position + i;
        continue;
      }
      if (b === LF) {
        this.delimiter ??= 'lf';
        if (this.delimiter === 'lf') {
          // A CRLF line end in a file of LF records: the CR is text, the end of the record's last field.
          if (afterCr) this.markMixed('crlf');
          this.line++;
          this.atRecordStart = true;
          continue;
        }
        // A bare LF in a file of CRLF records: text of its record, which starts on the line it ends.
        this.startRecord(this.position + i);
        this.markMixed('bare-lf');
        this.line++;
        continue;
      }
      this.startRecord(this.position + i);
      if (b === QUOTE) this.inQuotes = true;
      else if (b === CR) this.lastCr = true;
    }
  }

  /** A CR outside quotes followed by no LF: the record delimiter when none was found yet, else text of its record. */
  private loneCr(): void {
    if (this.delimiter === undefined) this.delimiter = 'cr';
    else this.startRecord(this.pendingCrAt);
  }

  /**
   * A CR ending the bytes is decided here: in a file of CRLF records, a last line holding a
   * CR alone is a record (`\r`) the parser makes, and it was never counted, so its error named
   * the record's index as its line.
   */
  override _flush(callback: TransformCallback): void {
    // A last line ending in a CR with no LF after it, in a file of LF records: as a CRLF.
    if (this.lastCr) this.markMixed('crlf');
    if (this.pendingCr) {
      this.pendingCr = false;
      this.loneCr();
    }
    callback();
  }

  /** Notes that the current record has a line end of the other kind (the first one noted stays). */
  private markMixed(kind: MixedLineEnd): void {
    if (!this.mixed.has(this.foundCount - 1)) this.mixed.set(this.foundCount - 1, kind);
  }

  /** Notes a record starting at file offset `offset` on the current line, unless one has already started. */
  private startRecord(offset: number): void {
    if (!this.atRecordStart) return;
    this.found(offset);
    this.atRecordStart = false;
  }

  /**
   * The start line of record `index` (0 = the header), or undefined when the scan did not
   * see it (a file with CR-only line ends).
   */
  startLine(index: number): number | undefined {
    return this.lineAt(index);
  }

  /**
   * The line end of the other kind that record `index` holds outside quotes, which the parser
   * took as text of the record:
   * - `bare-lf`: an LF alone while the file's records end in CRLF: that line (an editor's blank
   *   line, a pasted row) is joined to the next one, and a value such as an account code `\nA`
   *   would be sent for `A`;
   * - `crlf`: a CRLF while the file's records end in LF (its first line did): the CR is kept as
   *   the end of the last field, and a value such as `net_position` `5\r` would be sent with it.
   */
  mixedLineEnd(index: number): MixedLineEnd | undefined {
    return this.mixed.size === 0 ? undefined : this.mixed.get(index);
  }

  /** The file offset of record `index`'s first byte, or undefined as for {@link startLine}. */
  startOffset(index: number): number | undefined {
    return this.offsetAt(index);
  }
}

/**
 * A pass-through stream that records where every line starts and its line number, the lines
 * split as `readline` splits them (LF, CRLF, or a CR alone), so a reader of readline's lines
 * can tell the file offset of each (how `openPortfolio` finds an NDJSON account's rows) and,
 * behind a {@link segmentStream}, the file's own line number of each.
 */
export class LineStartTracker extends StartTracker {
  /** The next byte starts a line. */
  private pending = true;
  /** The last byte was a CR: an LF right after it ends no other line. */
  private sawCr = false;

  /** @param feed the pieces of a {@link segmentStream} the bytes come from: lines and offsets then restart at each piece's own */
  constructor(feed?: SegmentFeed) {
    super(1, 0, feed);
  }

  protected scan(bytes: Buffer, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (b === LF && this.sawCr) {
        this.sawCr = false;
        continue;
      }
      this.sawCr = false;
      if (this.pending) {
        this.found(this.position + i);
        this.pending = false;
      }
      if (b === LF || b === CR) {
        this.line++;
        this.pending = true;
        this.sawCr = b === CR;
      }
    }
  }

  /** The line number of line `index` (0 = the first line the stream holds), or undefined when not seen. */
  lineOf(index: number): number | undefined {
    return this.lineAt(index);
  }

  /** The file offset of line `index`'s first byte (NaN in a separator a segment stream added), or undefined when not seen. */
  offsetOf(index: number): number | undefined {
    return this.offsetAt(index);
  }
}

/**
 * Finds the physical line on which each CSV record starts, while the bytes stream past.
 *
 * csv-parse's own `info.lines` counts differently after CRLF line ends and quoted line
 * breaks, and errors need the line where the bad record *starts* (a quoted field may span
 * lines). So a pass-through transform scans the same bytes with the two rules that matter
 * (quotes toggle, `\n` ends a line) and queues one start line per non-empty record. The
 * parser sees the bytes only after this transform, so the queue is always ahead of it.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** A pass-through stream that records the start line of every non-empty CSV record. */
export class CsvLineTracker extends Transform {
  private line: number;
  /** File offset of the next byte. */
  private position: number;
  private inQuotes = false;
  private atRecordStart = true;
  private readonly starts: number[] = [];
  private readonly offsets: number[] = [];
  private head = 0;

  /**
   * @param line the line the bytes start on (a range of a file read on its own starts past line 1)
   * @param offset the file offset of the first byte, so {@link startOffset} answers in file offsets
   */
  constructor(line = 1, offset = 0) {
    super();
    this.line = line;
    this.position = offset;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // UTF-8 continuation bytes are never ASCII, so scanning bytes is safe for these three.
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === LF) {
        this.line++;
        if (!this.inQuotes) this.atRecordStart = true;
        continue;
      }
      // A CR belongs to a CRLF line end: an empty CRLF line must not count as a record.
      if (b === CR && this.atRecordStart) continue;
      if (this.atRecordStart) {
        this.starts.push(this.line);
        this.offsets.push(this.position + i);
        this.atRecordStart = false;
      }
      if (b === QUOTE) this.inQuotes = !this.inQuotes;
    }
    this.position += bytes.length;
    callback(null, chunk);
  }

  /**
   * The start line of record `index` (0 = the header), or undefined when the scan did not
   * see it (a file with CR-only line ends).
   */
  startLine(index: number): number | undefined {
    return this.starts[index - this.head];
  }

  /** The file offset of record `index`'s first byte, or undefined as for {@link startLine}. */
  startOffset(index: number): number | undefined {
    return this.offsets[index - this.head];
  }

  /**
   * Forgets the start lines before record `index`: a million-row file keeps only a few.
   * Often (every 256 records): queues left to grow to thousands of entries outlived young
   * collections, and with a few files read at once (chunks of a file sent concurrently)
   * that was ~100 KB promoted to the old generation per collection.
   */
  release(index: number): void {
    const drop = index - this.head;
    if (drop >= 256) {
      this.starts.splice(0, drop);
      this.offsets.splice(0, drop);
      this.head = index;
    }
  }
}

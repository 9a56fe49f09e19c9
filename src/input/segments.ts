/**
 * Several byte ranges of one file read one after the other as a single stream, so one parser
 * reads a chunk whose rows are in many places of the file (a file not grouped by account)
 * without the rest of the file being read.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Whole records of a file: bytes `[start, end)`, the first of them on line `line`. */
export interface Segment {
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

/** A stretch of a segment stream: `length` bytes from file offset `start`, from line `line`; a separator added between segments has both NaN. */
export interface FedPiece {
  readonly start: number;
  readonly length: number;
  readonly line: number;
}

/**
 * What a {@link segmentStream} has put in its stream so far, in order, taken by the line
 * tracker behind it: the tracker sees the bytes only after the stream pushed them, so the
 * piece a byte belongs to is always here by then.
 */
export class SegmentFeed {
  private items: FedPiece[] = [];
  private head = 0;

  push(piece: FedPiece): void {
    this.items.push(piece);
  }

  /** The next piece; the tracker asks only for pieces whose bytes it has. */
  shift(): FedPiece {
    const piece = this.items[this.head++];
    // Dropped in batches: a long chunk's list of pieces would otherwise outlive young collections.
    if (this.head >= 256) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return piece;
  }
}

/** Bytes per push of the stream (and at most per read): 16 KB, a fraction of the 64 KB a file stream reads (records waiting in larger buffers grew the young generation, see csv.ts). */
const READ_BYTES = 16 * 1024;

/**
 * The bytes of `segments` of `file`, in the order given, through one open file. Each segment
 * is whole records, so the stream is too, except that the file's last record may lack its
 * line end: the segment that ends the file is followed by `separator` (a record delimiter; a
 * parser skips the empty record it may make) when other segments come after it. Every piece
 * put in the stream is told to `feed` first.
 *
 * Reads exactly the segments' bytes, nothing around them. Destroying the stream (an error
 * downstream, a consumer that stops) closes the file.
 *
 * @param file path of the file
 * @param segments the ranges, pulled one at a time as the stream is read
 * @param fileSize the size the file had when its ranges were found
 * @param separator what follows the segment that ends the file when it is not the last one
 * @param feed told each piece before its bytes are pushed
 * @param shorter the error when the file ends before a segment does (it changed)
 */
export function segmentStream(file: string, segments: Iterable<Segment>, fileSize: number, separator: string, feed: SegmentFeed, shorter: () => Error): Readable {
  async function* bytes(): AsyncGenerator<Buffer, void, undefined> {
    const handle = await open(file, 'r');
    try {
      // Small segments (a row or two of a shuffled file) are read into one buffer and pushed
      // together: a push per row cost the stream, tracker and parser a round each.
      let buffer = Buffer.allocUnsafe(READ_BYTES);
      let used = 0;
      const list = segments[Symbol.iterator]();
      let next = list.next();
      while (next.done !== true) {
        const segment = next.value;
        next = list.next();
        feed.push({ start: segment.start, length: segment.end - segment.start, line: segment.line });
        for (let at = segment.start; at < segment.end; ) {
          if (used === buffer.length) {
            yield buffer;
            buffer = Buffer.allocUnsafe(READ_BYTES);
            used = 0;
          }
          const size = Math.min(buffer.length - used, segment.end - at);
          const { bytesRead } = await handle.read(buffer, used, size, at);
          if (bytesRead === 0) throw shorter();
          at += bytesRead;
          used += bytesRead;
        }
        if (segment.end === fileSize && next.done !== true) {
          const bytes = Buffer.from(separator);
          feed.push({ start: Number.NaN, length: bytes.length, line: Number.NaN });
          if (used + bytes.length > buffer.length) {
            yield buffer.subarray(0, used);
            buffer = Buffer.allocUnsafe(READ_BYTES);
            used = 0;
          }
          used += bytes.copy(buffer, used);
        }
      }
      if (used > 0) yield buffer.subarray(0, used);
    } finally {
      await handle.close();
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}

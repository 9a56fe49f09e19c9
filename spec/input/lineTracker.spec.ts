import { createInterface } from 'node:readline';
import { pipeline, Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { CsvLineTracker, LineStartTracker } from '../../src/input/lineTracker';
import { SegmentFeed } from '../../src/input/segments';

/** `tracker` fed `text` in pieces of `size` bytes; its lines and offsets for as many lines as readline gives. */
async function tracked(tracker: LineStartTracker, text: string, size: number): Promise<{ lines: string[]; starts: [number | undefined, number | undefined][] }> {
  const bytes = Buffer.from(text);
  const pieces = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  const lines: string[] = [];
  for await (const line of createInterface({ input: Readable.from(pieces).pipe(tracker), crlfDelay: Infinity })) lines.push(line);
  return { lines, starts: lines.map((_, i) => [tracker.lineOf(i), tracker.offsetOf(i)]) };
}

describe('LineStartTracker', () => {
  // LF, CRLF, a CR alone, empty lines of each, and a last line without an end.
  const text = 'a\nbb\r\nccc\rd\n\n\r\n\re\r\r\nf';

  it('should find the line readline gives and where it starts, however the bytes are cut', async () => {
    for (const size of [1, 2, 3, 64]) {
      const { lines, starts } = await tracked(new LineStartTracker(), text, size);
      expect(lines).toEqual(['a', 'bb', 'ccc', 'd', '', '', '', 'e', '', 'f']);
      expect(starts).toEqual([
        [1, 0],
        [2, 2],
        [3, 6],
        [4, 10],
        [5, 12],
        [6, 13],
        [7, 15],
        [8, 16],
        [9, 18],
        [10, 20],
      ]);
    }
  });

  it("should restart at each fed piece's own line and offset", async () => {
    const feed = new SegmentFeed();
    // 'x\n' from offset 100 on line 7, then 'yy\r\n' from offset 40 on line 3.
    feed.push({ start: 100, length: 2, line: 7 });
    feed.push({ start: 40, length: 4, line: 3 });
    const { lines, starts } = await tracked(new LineStartTracker(feed), 'x\nyy\r\n', 1);
    expect(lines).toEqual(['x', 'yy']);
    expect(starts).toEqual([
      [7, 100],
      [3, 40],
    ]);
  });
});

/** A small seeded generator (an LCG): the same files on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The records csv-parse makes of `pieces` (read with csvPositionGroups' options) through `tracker`, and its record delimiter; undefined when it refuses them. */
async function parsed(pieces: Buffer[], options: Record<string, unknown>, tracker: CsvLineTracker): Promise<{ records: string[][]; delimiter: string | undefined } | undefined> {
  const parser = parse({ columns: false, skip_empty_lines: true, relax_column_count: true, relax_quotes: false, ...options });
  const records: string[][] = [];
  try {
    for await (const record of pipeline(Readable.from(pieces), tracker, parser, () => undefined) as AsyncIterable<string[]>) records.push(record);
  } catch {
    return undefined;
  }
  const option = (parser as unknown as { options: { record_delimiter: unknown } }).options.record_delimiter;
  const first: unknown = Array.isArray(option) ? option[0] : option;
  return { records, delimiter: Buffer.isBuffer(first) ? first.toString() : undefined };
}

describe('CsvLineTracker', () => {
  it("should find csv-parse's records where csv-parse makes them, on their lines, however the bytes are cut", async () => {
    // Random short files of quotes, commas, every line end, BOMs and spaces, in 1-4 byte reads;
    // each accepted file's records are re-read from the offset the tracker gives, as a chunk
    // reads them (a last line of a CR alone in a CRLF file was once never counted).
    const alphabet = ['a', 'b', ',', '"', '\n', '\r', '\r\n', '\ufeff', ' '];
    const problems: string[] = [];
    let checked = 0;
    for (let seed = 1; seed <= 4000 && problems.length < 5; seed++) {
      const random = seeded(seed);
      let text = random() < 0.3 ? '\ufeff' : '';
      for (let n = 1 + Math.floor(random() * 20); n > 0; n--) text += alphabet[Math.floor(random() * alphabet.length)];
      const bytes = Buffer.from(text);
      const size = 1 + Math.floor(random() * 4);
      const pieces = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
      const tracker = new CsvLineTracker(1, 0, undefined, true);
      const whole = await parsed(pieces, { bom: true }, tracker);
      // CR-only files have no offsets to check; refused files are read no further.
      if (whole === undefined || whole.delimiter === '\r' || whole.records.some((_, i) => tracker.mixedLineEnd(i) !== undefined)) continue;
      checked++;
      const { records, delimiter } = whole;
      for (let i = 0; i < records.length && problems.length < 5; i++) {
        const offset = tracker.startOffset(i);
        const line = tracker.startLine(i);
        if (offset === undefined || line !== 1 + [...bytes.subarray(0, offset)].filter((b) => b === 0x0a).length) {
          problems.push(`${JSON.stringify(text)} record ${i}: offset ${String(offset)}, line ${String(line)}`);
          break;
        }
        if (i === 0) continue;
        const rest = bytes.subarray(offset);
        const part = await parsed([rest], { bom: false, ...(delimiter === undefined ? {} : { record_delimiter: delimiter }) }, new CsvLineTracker(line, offset, undefined, false, delimiter));
        if (JSON.stringify(part?.records) !== JSON.stringify(records.slice(i))) problems.push(`${JSON.stringify(text)} from record ${i}: ${JSON.stringify(part?.records)}`);
      }
      if (tracker.startOffset(records.length) !== undefined) problems.push(`${JSON.stringify(text)}: a record csv-parse did not make`);
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });
});

import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { LineStartTracker } from '../../src/input/lineTracker';
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

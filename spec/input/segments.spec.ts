import { SegmentFeed, segmentStream, type FedPiece, type Segment } from '../../src/input/segments';
import { collect, scratchDir } from './helpers';

/** All of a stream's bytes. */
async function bytesOf(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  return Buffer.concat(await collect(stream));
}

/** Every piece the feed was told, in order. */
function drain(feed: SegmentFeed, count: number): FedPiece[] {
  return Array.from({ length: count }, () => feed.shift());
}

describe('segmentStream', () => {
  const files = scratchDir();
  afterAll(() => files.cleanup());
  // 50,000 bytes, each one's offset told apart from its neighbours'.
  const content = Buffer.from(Array.from({ length: 50_000 }, (_, i) => String.fromCharCode(0x21 + (i % 90))).join(''));
  const file = files.write('bytes.txt', content);

  it('should give the segments\' bytes in the order given, across push boundaries, the separator after the one ending the file', async () => {
    const segments: Segment[] = [
      { start: 100, end: 20_000, line: 5 },
      { start: 49_990, end: 50_000, line: 900 },
      { start: 30_000, end: 30_010, line: 700 },
      // Ends exactly where the stream's first 16 KB buffer fills with the separator before it.
      { start: 0, end: 16_384 - (19_900 + 10 + 2 + 10 - 16_384), line: 1 },
    ];
    const feed = new SegmentFeed();
    const out = await bytesOf(segmentStream(file, segments, content.length, '\r\n', feed, () => new Error('shorter')));
    const expected = Buffer.concat([content.subarray(100, 20_000), content.subarray(49_990, 50_000), Buffer.from('\r\n'), content.subarray(30_000, 30_010), content.subarray(0, segments[3].end)]);
    expect(out.equals(expected)).toBe(true);
    expect(drain(feed, 5)).toEqual([
      { start: 100, length: 19_900, line: 5 },
      { start: 49_990, length: 10, line: 900 },
      { start: Number.NaN, length: 2, line: Number.NaN },
      { start: 30_000, length: 10, line: 700 },
      { start: 0, length: segments[3].end, line: 1 },
    ]);
  });

  it('should add no separator after the segment ending the file when it is the last one', async () => {
    const out = await bytesOf(segmentStream(file, [{ start: 10, end: 20, line: 1 }, { start: 49_000, end: 50_000, line: 2 }], content.length, '\n', new SegmentFeed(), () => new Error('shorter')));
    expect(out.equals(Buffer.concat([content.subarray(10, 20), content.subarray(49_000, 50_000)]))).toBe(true);
  });

  it('should push the separator after a buffer it no longer fits in', async () => {
    const feed = new SegmentFeed();
    const last = { start: 50_000 - 16_383, end: 50_000, line: 3 };
    const out = await bytesOf(segmentStream(file, [last, { start: 0, end: 5, line: 1 }], content.length, '\r\n', feed, () => new Error('shorter')));
    expect(out.equals(Buffer.concat([content.subarray(last.start), Buffer.from('\r\n'), content.subarray(0, 5)]))).toBe(true);
  });

  it('should fail with the given error when the file ends before a segment does', async () => {
    const shorter = new Error('the file is shorter');
    await expect(bytesOf(segmentStream(file, [{ start: 49_000, end: 50_100, line: 1 }], 50_100, '\n', new SegmentFeed(), () => shorter))).rejects.toBe(shorter);
  });
});

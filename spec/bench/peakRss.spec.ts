import { execFile } from 'node:child_process';
import { join } from 'node:path';

const LIB = join(__dirname, '..', '..', 'bench', 'lib', 'peakRss.js');

/** Starts a Node child (fork + exec, as the benchmark does) that prints its peakRssBytes(). */
function childPeak(): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', `console.log(require(${JSON.stringify(LIB)}).peakRssBytes())`], (error, stdout) => {
      if (error) reject(error);
      else resolve(Number(stdout.trim()));
    });
  });
}

describe('peakRssBytes', () => {
  it("should report the child's own peak, not the larger one of the parent that forked it", async () => {
    // The parent holds ~200 MB more than a fresh Node ever does while the child starts.
    const held = Buffer.alloc(200 * 1024 * 1024, 1);
    const parentRss = process.memoryUsage().rss;
    const peak = await childPeak();
    expect(held[held.length - 1]).toBe(1);
    expect(parentRss).toBeGreaterThan(200 * 1024 * 1024);
    expect(peak).toBeGreaterThan(10 * 1024 * 1024);
    expect(peak).toBeLessThan(parentRss - 150 * 1024 * 1024);
  });
});

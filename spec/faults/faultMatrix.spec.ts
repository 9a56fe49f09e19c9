/**
 * The fault matrix: end-to-end runs of the library and the CLI against the emulator's fault
 * injection (and a proxy and raw servers for what only the network can do), one case per
 * row, each with its expected outcome and leak checks. `npm run faults` runs this file
 * alone; `npm test` runs it with the rest. The table goes to stderr either way.
 */
import { ALL_CASES } from './cases';
import { collectProcessReports } from './support/leaks';
import { formatTable, runCase, tempDir, type CaseRecord } from './support/matrix';

describe('fault matrix', () => {
  const records: CaseRecord[] = [];
  const collector = collectProcessReports();
  const dir = tempDir();

  afterAll(() => {
    collector.stop();
    dir.remove();
    // Straight to the process's stderr: jest buffers console output, and the table is the point.
    process.stderr.write(formatTable(records));
  });

  for (const c of ALL_CASES) {
    it(`should give "${c.expected}" with nothing left behind (${c.kind}: ${c.name})`, async () => {
      const record = await runCase(c, collector.reports, dir.path);
      records.push(record);
      expect({ got: record.got, leaks: record.leaks }).toEqual({ got: c.expected, leaks: [] });
    });
  }
});

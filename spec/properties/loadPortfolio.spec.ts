/**
 * Property specs of the portfolio loaders: a random portfolio written as CSV, JSON or NDJSON
 * loads back as exactly the same positions, in the same order, values unchanged.
 *
 * Seed and runs: each run of this file draws a fresh seed and writes it to stderr
 * (`[fast-check] spec/properties/loadPortfolio.spec.ts: seed=…`); it is also in each test's
 * name. A failure reproduces with `FC_SEED=<seed> npx jest spec/properties/loadPortfolio.spec.ts`
 * (or `FC_SEED=<seed> npm test`). `FC_RUNS=<n>` sets the run count of every property (a
 * tenth of it for the runs over large, 1,000–5,000 row, portfolios).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { InputError, loadPortfolio, readPositions } from '../../src/input';
import { announceSeed, checkProperty, describeRuns, propertySettings, timeoutFor } from '../support/fastCheck';
import type { PortfolioSize } from './arbitraries';
import { csvStyle, csvTables, expectedCsvPositions, expectSameData, jsonPositions, payloadOptions, writeCsv, writeCsvWithLines, type JsonPosition } from './arbitraries';

const settings = propertySettings();
const RUNS = 30;
/** Runs of each property over large (1,000–5,000 row) portfolios. */
const LARGE_RUNS = 2;
/** Runs of the bad-row properties (small portfolios only: the line is what they test). */
const BAD_ROW_RUNS = 20;
/** Re-read through arbitrarily cut chunks only up to this many rows. */
const RECHUNK_MAX_ROWS = 200;

/** The bytes of `text` cut at the given points, as a stream: multi-byte characters get split across chunks. */
function chunkedSource(text: string, cuts: readonly number[]): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const point of [...points, bytes.length]) {
    if (point > last) chunks.push(bytes.subarray(last, point));
    last = point;
  }
  return Readable.from(chunks, { objectMode: false });
}

/** The error `loading` fails with (the spec fails when it succeeds). */
async function failure(loading: Promise<unknown>): Promise<unknown> {
  try {
    await loading;
  } catch (error) {
    return error;
  }
  throw new Error('expected the file to be refused');
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Positions must be plain objects: a `__proto__` field is data, never a prototype. */
function expectPlain(positions: readonly object[]): void {
  for (const p of positions) expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('loadPortfolio (properties)', () => {
  let dir: string;
  let fileCount = 0;
  let previous: string | undefined;
  /** Writes this run's file; the previous run's goes (runs are sequential), so FC_RUNS=1000 fills no disk. */
  const write = (ext: string, content: string): string => {
    if (previous !== undefined) rmSync(previous, { force: true });
    const path = join(dir, `portfolio-${++fileCount}${ext}`);
    writeFileSync(path, content);
    previous = path;
    return path;
  };

  beforeAll(() => {
    announceSeed(settings, 'spec/properties/loadPortfolio.spec.ts');
    dir = mkdtempSync(join(tmpdir(), 'c9-prop-load-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`should read a CSV back as the same positions, in order, values as written, empty cells left out (${describeRuns(settings, RUNS, LARGE_RUNS)})`, async () => {
    const property = (size: PortfolioSize) =>
      fc.asyncProperty(csvTables(size), csvStyle, fc.array(fc.nat(), { maxLength: 8 }), async (table, style, cuts) => {
        const text = writeCsv(table, style);
        const path = write('.csv', text);
        const expected = expectedCsvPositions(table);

        const payload = await loadPortfolio(path);
        expectSameData(payload, { portfolio: expected });
        expectPlain(payload.portfolio);
        // The same bytes cut into arbitrary chunks (a UTF-8 character split across two) read the
        // same. Small tables only: CSV parsing dominates the suite's time, and a cut is as likely
        // to land in a tricky spot of a small file as of a large one.
        if (expected.length <= RECHUNK_MAX_ROWS) expectSameData(await collect(readPositions(path, 'csv', chunkedSource(text, cuts))), expected);
      });
    await checkProperty(settings, RUNS, property('mixed'));
    await checkProperty(settings, LARGE_RUNS, property('large'), { large: true });
  }, timeoutFor(settings, RUNS, 200, { runs: LARGE_RUNS, msPerRun: 4000 }));

  it(`should read a JSON payload object or bare array back as identical positions and options (${describeRuns(settings, RUNS, LARGE_RUNS)})`, async () => {
    const property = (size: PortfolioSize) =>
      fc.asyncProperty(
        jsonPositions(size),
        payloadOptions,
        fc.record({ bare: fc.boolean(), indent: fc.constantFrom(0, 2, '\t'), bom: fc.boolean(), ext: fc.constantFrom('.json', '.txt') }),
        async (portfolio, options, style) => {
          const value: unknown = style.bare ? portfolio : { ...options, portfolio };
          const path = write(style.ext, `${style.bom ? '\uFEFF' : ''}${JSON.stringify(value, null, style.indent)}`);

          const payload = await loadPortfolio(path);
          expectSameData(payload, style.bare ? { portfolio } : { ...options, portfolio });
          expect(payload.portfolio).toHaveLength(portfolio.length);
          expectPlain(payload.portfolio);
        },
      );
    await checkProperty(settings, RUNS, property('mixed'));
    await checkProperty(settings, LARGE_RUNS, property('large'), { large: true });
  }, timeoutFor(settings, RUNS, 200, { runs: LARGE_RUNS, msPerRun: 4000 }));

  it(`should read NDJSON back as identical positions (LF or CRLF, blank lines, BOM) (${describeRuns(settings, RUNS, LARGE_RUNS)})`, async () => {
    const lineStyle = fc.record({
      eol: fc.constantFrom('\n', '\r\n'),
      bom: fc.boolean(),
      blank: fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '  ', '\t')), { maxLength: 3 }),
      finalEol: fc.boolean(),
      ext: fc.constantFrom('.ndjson', '.jsonl', '.txt'),
    });
    const property = (size: PortfolioSize) =>
      fc.asyncProperty(jsonPositions(size), lineStyle, fc.array(fc.nat(), { maxLength: 8 }), async (portfolio: JsonPosition[], style, cuts) => {
        const lines = portfolio.map((p) => JSON.stringify(p));
        for (const [at, blank] of style.blank) lines.splice(at % (lines.length + 1), 0, blank);
        const text = `${style.bom ? '\uFEFF' : ''}${lines.join(style.eol)}${style.finalEol ? style.eol : ''}`;
        const path = write(style.ext, text);

        const payload = await loadPortfolio(path);
        expectSameData(payload, { portfolio });
        expectPlain(payload.portfolio);
        if (portfolio.length <= RECHUNK_MAX_ROWS) expectSameData(await collect(readPositions(path, 'ndjson', chunkedSource(text, cuts))), portfolio);
      });
    await checkProperty(settings, RUNS, property('mixed'));
    await checkProperty(settings, LARGE_RUNS, property('large'), { large: true });
  }, timeoutFor(settings, RUNS, 200, { runs: LARGE_RUNS, msPerRun: 4000 }));

  it(`should name the physical line of a bad CSV row, quoted line breaks and blank lines before it included (${describeRuns(settings, BAD_ROW_RUNS)})`, async () => {
    await checkProperty(
      settings,
      BAD_ROW_RUNS,
      fc.asyncProperty(csvTables('small'), csvStyle, fc.nat(), async (table, style, pick) => {
        const bad = pick % table.rows.length;
        const column = table.header.indexOf('net_position');
        const rows = table.rows.map((row, i) => (i === bad ? row.map((cell, c) => (c === column ? '12abc' : cell)) : row));
        const { text, rowLines } = writeCsvWithLines({ header: table.header, rows }, style);
        const path = write('.csv', text);

        const error = await failure(loadPortfolio(path));

        expect(error).toBeInstanceOf(InputError);
        expect({ line: (error as InputError).line, field: (error as InputError).field }).toEqual({ line: rowLines[bad], field: 'net_position' });
        expect((error as InputError).message.startsWith(`${path}:${rowLines[bad]}: net_position: `)).toBe(true);
      }),
    );
  }, timeoutFor(settings, BAD_ROW_RUNS, 200));

  it(`should name the line of a bad NDJSON position, blank lines before it included (${describeRuns(settings, BAD_ROW_RUNS)})`, async () => {
    await checkProperty(
      settings,
      BAD_ROW_RUNS,
      fc.asyncProperty(jsonPositions('small'), fc.array(fc.constantFrom('', ' '), { maxLength: 4 }), fc.nat(), fc.nat(), async (portfolio, blanks, pick, blankAt) => {
        const lines = portfolio.map((p) => JSON.stringify(p));
        for (const blank of blanks) lines.splice(blankAt % (lines.length + 1), 0, blank);
        const positionLines = lines.flatMap((l, i) => (l.trim() === '' ? [] : [i]));
        const badAt = positionLines[pick % positionLines.length];
        lines[badAt] = JSON.stringify({ ...(JSON.parse(lines[badAt]) as object), net_position: 'NaN' });
        const path = write('.ndjson', lines.join('\n'));

        const error = await failure(loadPortfolio(path));

        expect(error).toBeInstanceOf(InputError);
        expect({ line: (error as InputError).line, field: (error as InputError).field }).toEqual({ line: badAt + 1, field: 'net_position' });
      }),
    );
  }, timeoutFor(settings, BAD_ROW_RUNS, 200));
});

/**
 * Equivalence of the two ways to submit a file: `loadPortfolio` then `client.submitBatch(payload)`
 * (positions held), and `openPortfolio` then `client.submitBatch(book)` (positions read again
 * from the file while the body is written). For a random CSV, NDJSON or JSON file both must
 * put the same JSON in the emulator (`stats.lastSubmittedPayloads`, the parsed body), and
 * the streamed body's text must be `JSON.stringify({ portfolio, ...options })` of the loaded payload.
 * Chunked the same: `book.chunks(limits)` gives chunkByAccount's chunks of the loaded payload
 * (and the same halves), and `runBatches` of the opened file puts the same payloads in the
 * emulator as `runBatches` of the loaded one, with or without 413 splits, for files with
 * each account's rows together (chunks read their own byte range) or scattered. For a
 * scattered file (NDJSON with any line ends too), all the chunks together read each row
 * once, and every chunk, each of its halves down to single accounts, and any subset send
 * the loaded positions byte for byte.
 *
 * Seed and runs: each run of this file draws a fresh seed and writes it to stderr; a failure
 * reproduces with `FC_SEED=<seed> npx jest spec/properties/streamPortfolio.spec.ts`.
 */
import { rmSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { defer, firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createClient, type C9Client } from '../../src/http/client';
import { serializeStreamedPayload } from '../../src/http/serializePayload';
import type { Position } from '../../src/codecs';
import { loadPortfolio, openPortfolio, type PortfolioFile } from '../../src/input';
import { chunkByAccount } from '../../src/streams/chunkByAccount';
import { runBatches, type RunBatchesConfig, type RunBatchesEvent } from '../../src/streams/runBatches';
import { countReads } from '../support/fileReads';
import { useHeldEmulator } from '../support/heldEmulator';
import { announceSeed, checkProperty, describeRuns, propertySettings, timeoutFor } from '../support/fastCheck';
import { csvStyle, csvTables, expectSameData, jsonPositions, payloadOptions, writeCsv } from './arbitraries';

const settings = propertySettings();
const RUNS = 15;
const KEY = 'sk-prop-stream-key-0001';

interface Case {
  readonly ext: string;
  readonly content: string;
}

const cases: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(csvTables('mixed'), csvStyle).map(([table, style]): Case => ({ ext: '.csv', content: writeCsv(table, style) })),
  fc.tuple(jsonPositions('mixed'), fc.constantFrom('\n', '\r\n')).map(([positions, eol]): Case => ({ ext: '.ndjson', content: positions.map((p) => JSON.stringify(p)).join(eol) + eol })),
  fc.tuple(jsonPositions('mixed'), payloadOptions).map(([positions, options]): Case => ({ ext: '.json', content: JSON.stringify({ ...options, portfolio: positions }) })),
);

/** The rows of a table with each account's rows together (accounts in order of first appearance), as an export usually has them. */
function groupedByAccount<T>(rows: readonly T[], account: (row: T) => string): T[] {
  const order = new Map<string, T[]>();
  for (const row of rows) {
    const group = order.get(account(row));
    if (group === undefined) order.set(account(row), [row]);
    else group.push(row);
  }
  return [...order.values()].flat();
}

/** Like `cases`, but half of them with each account's rows together: the files whose chunks read only their own bytes. */
const chunkCases: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(csvTables('mixed'), csvStyle, fc.boolean()).map(([table, style, group]): Case => {
    const at = table.header.indexOf('account_code');
    return { ext: '.csv', content: writeCsv(group ? { ...table, rows: groupedByAccount(table.rows, (r) => r[at]) } : table, style) };
  }),
  fc.tuple(jsonPositions('mixed'), fc.boolean()).map(([positions, group]): Case => ({
    ext: '.ndjson',
    content: (group ? groupedByAccount(positions, (p) => p.account_code) : positions).map((p) => JSON.stringify(p)).join('\n') + '\n',
  })),
  fc.tuple(jsonPositions('mixed'), payloadOptions).map(([positions, options]): Case => ({ ext: '.json', content: JSON.stringify({ ...options, portfolio: positions }) })),
);

/**
 * Files whose accounts' rows are in several places (rows in the generated order: accounts
 * drawn from a small pool, so mostly interleaved), CSV in any style, NDJSON with LF, CRLF or
 * CR line ends, blank lines, with or without a last line end: the files whose chunks read
 * their accounts' runs of rows one after the other.
 */
const scatteredCases: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(csvTables('mixed'), csvStyle).map(([table, style]): Case => ({ ext: '.csv', content: writeCsv(table, style) })),
  fc
    .tuple(jsonPositions('mixed'), fc.array(fc.constantFrom('\n', '\r\n', '\r', '\n\n', '\r\n  \r\n'), { minLength: 1, maxLength: 4 }), fc.boolean())
    .map(([positions, eols, finalEol]): Case => ({
      ext: '.ndjson',
      content: positions.map((p, i) => JSON.stringify(p) + (i < positions.length - 1 || finalEol ? eols[i % eols.length] : '')).join(''),
    })),
);

const chunkLimits = fc.record(
  {
    maxAccounts: fc.integer({ min: 1, max: 6 }),
    maxBytes: fc.oneof(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 400, max: 8000 })),
  },
  { requiredKeys: [] },
);

/** `JSON.stringify({ portfolio, ...options })` with the portfolio written first even when an option's key is an array index (which an object puts first). */
function portfolioFirst(portfolio: unknown[], options: Record<string, unknown>): string {
  return `{"portfolio":${JSON.stringify(portfolio)}${Object.keys(options).map((key) => `,${JSON.stringify(key)}:${JSON.stringify(options[key])}`).join('')}}`;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

describe('openPortfolio (properties)', () => {
  const rig = useHeldEmulator(KEY, 'c9-prop-stream-');
  beforeAll(() => announceSeed(settings, 'spec/properties/streamPortfolio.spec.ts'));

  it(`should send exactly the JSON loadPortfolio's payload sends, for any file that loads (${describeRuns(settings, RUNS)})`, async () => {
    await checkProperty(
      settings,
      RUNS,
      fc.asyncProperty(cases, fc.option(payloadOptions, { nil: undefined }), async (c, overrides) => {
        const path = rig.file('book', c.ext);
        writeFileSync(path, c.content);
        try {
          let loaded = await loadPortfolio(path).catch(() => undefined);
          const opened = await openPortfolio(path).catch(() => undefined);
          // A file one path refuses, the other refuses too.
          expect(opened === undefined).toBe(loaded === undefined);
          if (loaded === undefined || opened === undefined) return;

          const book = overrides === undefined ? opened : opened.withOptions({ ...opened.options, ...overrides });
          if (overrides !== undefined) loaded = { ...loaded, ...overrides };
          const { portfolio, ...options } = loaded;
          expect(book.positionCount).toBe(portfolio.length);
          expect(book.accountCodes).toEqual([...new Set(portfolio.map((p) => p.account_code))]);
          // The body text, byte for byte (the options after the portfolio).
          expect(await text(serializeStreamedPayload(book, { chunkPositions: 3 })())).toBe(portfolioFirst(portfolio, options));

          await firstValueFrom(rig.client.submitBatch(loaded));
          const viaLoad = rig.emulator.stats.lastSubmittedPayloads.get(KEY);
          await firstValueFrom(rig.client.submitBatch(book));
          const viaStream = rig.emulator.stats.lastSubmittedPayloads.get(KEY);
          // Same values and types; key order aside (the stream writes the portfolio first).
          expectSameData(viaStream, viaLoad);
        } finally {
          rmSync(path, { force: true });
        }
      }),
    );
  }, timeoutFor(settings, RUNS, 1500));

  it(`should cut an opened file into the chunks chunkByAccount cuts the loaded payload into, same positions in the same order (${describeRuns(settings, 40)})`, async () => {
    await checkProperty(
      settings,
      40,
      fc.asyncProperty(chunkCases, chunkLimits, fc.option(payloadOptions, { nil: undefined }), async (c, limits, overrides) => {
        const path = rig.file('chunks', c.ext);
        writeFileSync(path, c.content);
        try {
          const loaded = await loadPortfolio(path).catch(() => undefined);
          if (loaded === undefined) return;
          const opened = await openPortfolio(path);
          const book = overrides === undefined ? opened : opened.withOptions({ ...opened.options, ...overrides });
          const expected = chunkByAccount(overrides === undefined ? loaded : { ...loaded, ...overrides }, limits);
          const chunks = book.chunks(limits);
          expect(chunks.map((chunk) => chunk.accountCodes)).toEqual(expected.map((e) => [...new Set(e.portfolio.map((p) => p.account_code))]));
          for (const [i, chunk] of chunks.entries()) {
            const { portfolio, ...options } = expected[i];
            // Same data (the streamed text writes the portfolio first; a key like "2" goes first in any object).
            expectSameData(JSON.parse(await text(serializeStreamedPayload(chunk, { chunkPositions: 2 })())), { portfolio, ...options });
            // A chunk's halves (a 413) are the loaded chunk's halves.
            const cut = Math.ceil(chunk.accountCodes.length / 2);
            const left = new Set(chunk.accountCodes.slice(0, cut));
            const half = chunk.subset(chunk.accountCodes.slice(0, cut));
            expectSameData(JSON.parse(await text(serializeStreamedPayload(half)())), { portfolio: portfolio.filter((p) => left.has(p.account_code)), ...options });
          }
        } finally {
          rmSync(path, { force: true });
        }
      }),
    );
  }, timeoutFor(settings, 40, 500));

  it(`should read each row once for all the chunks of a scattered file, each chunk and its halves down to one account byte for byte the loaded ones (${describeRuns(settings, 40)})`, async () => {
    await checkProperty(
      settings,
      40,
      fc.asyncProperty(scatteredCases, chunkLimits, fc.nat(), async (c, limits, pick) => {
        const path = rig.file('scattered', c.ext);
        writeFileSync(path, c.content);
        try {
          const loaded = await loadPortfolio(path).catch(() => undefined);
          if (loaded === undefined) return;
          const book = await openPortfolio(path);
          const expected = chunkByAccount(loaded, limits).map((e) => e.portfolio);
          const chunks = book.chunks(limits);
          const reads = countReads(path);
          const sent: Position[][] = [];
          try {
            for (const chunk of chunks) sent.push(await collect(chunk.positions()));
          } finally {
            reads.restore();
          }
          // Byte for byte: same positions, same order, same keys in the same order.
          expect(JSON.stringify(sent)).toBe(JSON.stringify(expected));
          expect(reads.bytes).toBeLessThanOrEqual(Buffer.byteLength(c.content));
          await reads.settled();
          expect(reads.closed).toBe(reads.opened);

          // Halves (a 413) down to single accounts: the loaded chunk's positions of those accounts.
          const halves = async (part: PortfolioFile, positions: readonly Position[]): Promise<void> => {
            if (part.accountCodes.length < 2) return;
            const cut = Math.ceil(part.accountCodes.length / 2);
            for (const codes of [part.accountCodes.slice(0, cut), part.accountCodes.slice(cut)]) {
              const kept = positions.filter((p) => codes.includes(p.account_code));
              const half = part.subset(codes);
              expect(JSON.stringify(await collect(half.positions()))).toBe(JSON.stringify(kept));
              await halves(half, kept);
            }
          };
          for (const [i, chunk] of chunks.entries()) await halves(chunk, expected[i]);

          // A subset of the whole file (any accounts): its positions in file order.
          const codes = book.accountCodes.filter((_, i) => ((pick >> i % 30) & 1) === 1);
          if (codes.length > 0) {
            const subset = book.subset(codes);
            expect(JSON.stringify(await collect(subset.positions()))).toBe(JSON.stringify(loaded.portfolio.filter((p) => codes.includes(p.account_code))));
          }
        } finally {
          rmSync(path, { force: true });
        }
      }),
    );
  }, timeoutFor(settings, 40, 800));

  describe('chunked runs', () => {
    let free: EmulatorHandle;
    let small: EmulatorHandle;
    beforeAll(async () => {
      free = await startEmulator({ apiKeys: [KEY], msPerAccount: 0, workers: 8 });
      // Refuses larger bodies with a 413, so chunks get halved.
      small = await startEmulator({ apiKeys: [KEY], msPerAccount: 0, workers: 8, maxPayloadBytes: 1500 });
    });
    afterAll(async () => {
      await Promise.all([free.close(), small.close()]);
    });

    /** A client of `emu` whose submits go one at a time, each accepted one's body recorded as the emulator parsed it. */
    function recording(emu: EmulatorHandle, received: unknown[]): C9Client {
      const real = createClient({ endpoint: emu.url, apiKey: KEY, retry: { maxRetries: 0 } });
      let gate: Promise<unknown> = Promise.resolve();
      return {
        ...real,
        submitBatch: (payload, options) =>
          defer(() => {
            const answer = gate.then(async () => {
              const accepted = await firstValueFrom(real.submitBatch(payload, options));
              received.push(emu.stats.lastSubmittedPayloads.get(KEY));
              return accepted;
            });
            gate = answer.catch(() => undefined);
            return from(answer);
          }),
      };
    }

    const follow: RunBatchesConfig = { concurrency: 3, adaptive: false, poll: { initialIntervalMs: 2, factor: 1, jitter: 0, timeoutMs: 10_000 }, results: { windowMs: 1, refetchAttempts: 0 } };
    const summary = (events: RunBatchesEvent[]) =>
      events.flatMap((e) => (e.type === 'split' ? [`split ${e.chunk} ${e.accountCodes.join(' ')}`] : e.type === 'error' ? [`error ${e.chunk} ${e.accountCodes.join(' ')} ${e.error.name}`] : [])).sort();
    // Top-level keys in one order (the streamed body writes the portfolio first), positions as sent.
    const sorted = (payloads: unknown[]): string[] => payloads.map((p) => JSON.stringify(Object.fromEntries(Object.entries(p as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))).sort();

    it(`should send the emulator the payloads a chunked run of the loaded file sends, 413 halves included (${describeRuns(settings, 12)})`, async () => {
      await checkProperty(
        settings,
        12,
        fc.asyncProperty(chunkCases, chunkLimits, fc.boolean(), async (c, limits, tooLarge) => {
          const path = rig.file('run', c.ext);
          writeFileSync(path, c.content);
          try {
            const loaded = await loadPortfolio(path).catch(() => undefined);
            if (loaded === undefined) return;
            const book = await openPortfolio(path);
            const emu = tooLarge ? small : free;
            const viaLoad: unknown[] = [];
            const viaStream: unknown[] = [];
            const loadedRun = await lastValueFrom(runBatches(recording(emu, viaLoad), { payload: loaded, ...limits }, follow).pipe(toArray()));
            const streamedRun = await lastValueFrom(runBatches(recording(emu, viaStream), { payload: book, ...limits }, follow).pipe(toArray()));
            expect(sorted(viaStream)).toEqual(sorted(viaLoad));
            expect(summary(streamedRun)).toEqual(summary(loadedRun));
          } finally {
            rmSync(path, { force: true });
          }
        }),
      );
    }, timeoutFor(settings, 12, 3000));
  });
});

/**
 * Equivalence of the two ways to submit a file: `loadPortfolio` then `client.submitBatch(payload)`
 * (positions held), and `openPortfolio` then `client.submitBatch(book)` (positions read again
 * from the file while the body is written). For a random CSV, NDJSON or JSON file both must
 * put the same JSON in the emulator (`stats.lastSubmittedPayloads`, the parsed body), and
 * the streamed body's text must be `JSON.stringify({ portfolio, ...options })` of the loaded payload.
 *
 * Seed and runs: each run of this file draws a fresh seed and writes it to stderr; a failure
 * reproduces with `FC_SEED=<seed> npx jest spec/properties/streamPortfolio.spec.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { firstValueFrom } from 'rxjs';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createClient, type C9Client } from '../../src/http/client';
import { serializeStreamedPayload } from '../../src/http/serializePayload';
import { loadPortfolio, openPortfolio } from '../../src/input';
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

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

describe('openPortfolio (properties)', () => {
  let emulator: EmulatorHandle;
  let client: C9Client;
  let dir: string;
  let fileCount = 0;

  beforeAll(async () => {
    announceSeed(settings, 'spec/properties/streamPortfolio.spec.ts');
    dir = mkdtempSync(join(tmpdir(), 'c9-prop-stream-'));
    emulator = await startEmulator({ apiKeys: [KEY], msPerAccount: 0 });
    emulator.faults.holdBatch('*', 'queued');
    client = createClient({ endpoint: emulator.url, apiKey: KEY });
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`should send exactly the JSON loadPortfolio's payload sends, for any file that loads (${describeRuns(settings, RUNS)})`, async () => {
    await checkProperty(
      settings,
      RUNS,
      fc.asyncProperty(cases, fc.option(payloadOptions, { nil: undefined }), async (c, overrides) => {
        const path = join(dir, `book-${++fileCount}${c.ext}`);
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
          expect(await text(serializeStreamedPayload(book, { chunkPositions: 3 })())).toBe(JSON.stringify({ portfolio, ...options }));

          await firstValueFrom(client.submitBatch(loaded));
          const viaLoad = emulator.stats.lastSubmittedPayloads.get(KEY);
          await firstValueFrom(client.submitBatch(book));
          const viaStream = emulator.stats.lastSubmittedPayloads.get(KEY);
          // Same values and types; key order aside (the stream writes the portfolio first).
          expectSameData(viaStream, viaLoad);
        } finally {
          rmSync(path, { force: true });
        }
      }),
    );
  }, timeoutFor(settings, RUNS, 1500));
});

/**
 * End-to-end property: a random portfolio written as CSV, JSON or NDJSON, loaded, chunked by
 * account and submitted with the client over real HTTP arrives at the emulator with no
 * position lost, duplicated, reordered (within its account) or altered, and each batch
 * carries the payload's options.
 *
 * What the server received is read from the emulator's `stats.lastSubmittedPayloads` (the
 * parsed body of the user's last POST), so batches are submitted one at a time. Every batch
 * is held queued: processing them would only spend CPU.
 *
 * Seed and runs: each run of this file draws a fresh seed and writes it to stderr
 * (`[fast-check] spec/properties/submitEndToEnd.spec.ts: seed=…`); it is also in each test's
 * name. A failure reproduces with `FC_SEED=<seed> npx jest spec/properties/submitEndToEnd.spec.ts`
 * (or `FC_SEED=<seed> npm test`). `FC_RUNS=<n>` sets the run count (a tenth of it for the large one).
 */
import { rmSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { firstValueFrom } from 'rxjs';
import type { PortfolioRequest } from '../../src/codecs';
import { STREAM_BODY_POSITIONS } from '../../src/http/client';
import { loadPortfolio } from '../../src/input';
import { chunkByAccount } from '../../src/streams/chunkByAccount';
import { useHeldEmulator } from '../support/heldEmulator';
import { announceSeed, checkProperty, describeRuns, largeRunsOf, propertySettings, timeoutFor } from '../support/fastCheck';
import {
  csvStyle,
  csvTables,
  expectedCsvPositions,
  expectSameData,
  jsonPositions,
  payloadOptions,
  writeCsv,
  type JsonValue,
} from './arbitraries';

const settings = propertySettings();
const SMALL_RUNS = 10;
const LARGE_RUNS = 2;
const KEY = 'sk-prop-e2e-key-0001';

/** A portfolio file to write, and the positions and options loading it must give. */
interface Case {
  readonly ext: string;
  readonly content: string;
  readonly positions: readonly Record<string, unknown>[];
  readonly options: Readonly<Record<string, JsonValue>>;
}

function cases(size: 'mixed' | 'large'): fc.Arbitrary<Case> {
  const csv = fc.tuple(csvTables(size), csvStyle).map(([table, style]): Case => ({ ext: '.csv', content: writeCsv(table, style), positions: expectedCsvPositions(table), options: {} }));
  const json = fc.tuple(jsonPositions(size), payloadOptions, fc.boolean()).map(
    ([positions, options, bare]): Case => ({
      ext: '.json',
      content: JSON.stringify(bare ? positions : { ...options, portfolio: positions }),
      positions,
      options: bare ? {} : options,
    }),
  );
  const ndjson = fc.tuple(jsonPositions(size), fc.constantFrom('\n', '\r\n')).map(
    ([positions, eol]): Case => ({ ext: '.ndjson', content: positions.map((p) => JSON.stringify(p)).join(eol) + eol, positions, options: {} }),
  );
  return fc.oneof(csv, json, ndjson);
}

const chunking = fc.option(
  fc.record({ maxAccounts: fc.integer({ min: 1, max: 6 }), maxBytes: fc.integer({ min: 200, max: 200_000 }) }, { requiredKeys: [] }),
  { nil: undefined },
);

describe('submitBatch end to end (properties)', () => {
  const rig = useHeldEmulator(KEY, 'c9-prop-e2e-');
  beforeAll(() => announceSeed(settings, 'spec/properties/submitEndToEnd.spec.ts'));

  /** Loads, chunks and submits one case; checks what the emulator received against the input. */
  async function submitAndCompare(c: Case, limits: { maxAccounts?: number; maxBytes?: number } | undefined): Promise<void> {
    const path = rig.file('book', c.ext);
    writeFileSync(path, c.content);
    const payload = await loadPortfolio(path);
    rmSync(path);
    const batches = limits === undefined ? [payload] : chunkByAccount(payload, limits);
    const submitsBefore = rig.emulator.stats.requests.submit;

    const received: PortfolioRequest[] = [];
    for (const batch of batches) {
      await firstValueFrom(rig.client.submitBatch(batch));
      received.push(rig.emulator.stats.lastSubmittedPayloads.get(KEY) as PortfolioRequest);
    }

    // One POST per batch: nothing sent twice.
    expect(rig.emulator.stats.requests.submit - submitsBefore).toBe(batches.length);
    // Each batch carries the file's options, unchanged.
    for (const body of received) {
      const { portfolio: _positions, ...options } = body;
      expectSameData(options, c.options);
    }
    const all = received.flatMap((body) => body.portfolio);
    if (limits === undefined) {
      // One batch: exactly the input, in input order.
      expectSameData(all, c.positions);
      return;
    }
    // Chunked: grouped by account in order of first appearance, each account whole, in one batch.
    const accounts = [...new Set(c.positions.map((p) => p.account_code as string))];
    expectSameData(all, accounts.flatMap((code) => c.positions.filter((p) => p.account_code === code)));
    const batchOf = new Map<string, number>();
    received.forEach((body, i) => {
      for (const p of body.portfolio) {
        expect(batchOf.get(p.account_code) ?? i).toBe(i);
        batchOf.set(p.account_code, i);
      }
    });
  }

  it(`should deliver every position of a CSV, JSON or NDJSON file exactly once, unchanged (${describeRuns(settings, SMALL_RUNS)})`, async () => {
    await checkProperty(settings, SMALL_RUNS, fc.asyncProperty(cases('mixed'), chunking, submitAndCompare));
  }, timeoutFor(settings, SMALL_RUNS, 1000));

  it(`should deliver a large portfolio sent as a streamed body unchanged (fast-check seed=${settings.seed} runs=${largeRunsOf(settings, LARGE_RUNS)})`, async () => {
    // Above STREAM_BODY_POSITIONS the client writes the body in pieces (serializePayload).
    const large = cases('large').filter((c) => c.positions.length >= STREAM_BODY_POSITIONS);
    await checkProperty(settings, LARGE_RUNS, fc.asyncProperty(large, (c) => submitAndCompare(c, undefined)), { large: true });
  }, timeoutFor(settings, 0, 0, { runs: LARGE_RUNS, msPerRun: 5000 }));
});

/**
 * Property specs of chunkByAccount: for random portfolios and limits, chunking never loses,
 * duplicates, reorders (within an account) or alters a position, never splits an account,
 * and respects its limits.
 *
 * Seed and runs: each run of this file draws a fresh seed and writes it to stderr
 * (`[fast-check] spec/properties/chunkByAccount.spec.ts: seed=…`); it is also in each test's
 * name. A failure reproduces with `FC_SEED=<seed> npx jest spec/properties/chunkByAccount.spec.ts`
 * (or `FC_SEED=<seed> npm test`). `FC_RUNS=<n>` sets the run count of every property (a
 * tenth of it for the runs over large, 1,000–5,000 row, portfolios).
 */
import fc from 'fast-check';
import type { PortfolioRequest, Position } from '../../src/codecs';
import { chunkByAccount } from '../../src/streams/chunkByAccount';
import { announceSeed, checkProperty, describeRuns, propertySettings, timeoutFor } from '../support/fastCheck';
import { jsonPositions, payloadOptions, type PortfolioSize } from './arbitraries';

const settings = propertySettings();
const RUNS = 50;
/** Runs over large (1,000–5,000 row) portfolios. */
const LARGE_RUNS = 3;

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');
const accountsOf = (positions: readonly Position[]): string[] => [...new Set(positions.map((p) => p.account_code))];

/** Every payload field except `portfolio`. */
function optionsOf(payload: PortfolioRequest): Record<string, unknown> {
  const { portfolio: _positions, ...options } = payload;
  return options;
}

const limits = fc.record(
  {
    maxAccounts: fc.integer({ min: 1, max: 8 }),
    // From "every account alone" to "everything in one": the interesting range is in between.
    maxBytes: fc.oneof(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 400, max: 20_000 })),
  },
  { requiredKeys: [] },
);

describe('chunkByAccount (properties)', () => {
  beforeAll(() => announceSeed(settings, 'spec/properties/chunkByAccount.spec.ts'));

  it(`should keep every position exactly once, each account whole, in order, within the limits (${describeRuns(settings, RUNS, LARGE_RUNS)})`, async () => {
    const property = (size: PortfolioSize) =>
      fc.property(jsonPositions(size), payloadOptions, limits, (portfolio, options, config) => {
        const payload = { ...options, portfolio } as PortfolioRequest;
        const { maxAccounts = Infinity, maxBytes = Infinity } = config;

        const chunks = chunkByAccount(payload, config);

        // Every position object exactly once (shared, not copied: identity is the test).
        const seen = new Map<Position, number>();
        for (const chunk of chunks) for (const p of chunk.portfolio) seen.set(p, (seen.get(p) ?? 0) + 1);
        expect(seen.size).toBe(payload.portfolio.length);
        expect([...seen.values()].every((n) => n === 1)).toBe(true);
        expect(payload.portfolio.every((p) => seen.has(p))).toBe(true);

        // Each account lives in exactly one chunk; accounts in order of first appearance, each
        // account's positions in their input order.
        const chunkOfAccount = new Map<string, number>();
        chunks.forEach((chunk, i) => {
          for (const code of accountsOf(chunk.portfolio)) {
            expect([code, chunkOfAccount.get(code)]).toEqual([code, undefined]);
            chunkOfAccount.set(code, i);
          }
        });
        const grouped = accountsOf(payload.portfolio).flatMap((code) => payload.portfolio.filter((p) => p.account_code === code));
        const concatenated = chunks.flatMap((c) => c.portfolio);
        expect(concatenated.length).toBe(grouped.length);
        expect(concatenated.every((p, i) => p === grouped[i])).toBe(true);

        for (const [i, chunk] of chunks.entries()) {
          const accounts = accountsOf(chunk.portfolio).length;
          expect(accounts).toBeGreaterThanOrEqual(1);
          expect(accounts).toBeLessThanOrEqual(maxAccounts);
          // Over the byte limit only when one account alone is larger than the limit.
          if (bytesOf(chunk) > maxBytes) expect(accounts).toBe(1);
          expect(optionsOf(chunk)).toEqual(options);
          // Greedy: a chunk is closed only when the next account would not have fitted.
          const next = chunks[i + 1];
          if (next !== undefined) {
            const firstAccount = next.portfolio[0].account_code;
            const merged = { ...chunk, portfolio: [...chunk.portfolio, ...next.portfolio.filter((p) => p.account_code === firstAccount)] };
            expect(accounts + 1 > maxAccounts || bytesOf(merged) > maxBytes).toBe(true);
          }
        }
      });
    await checkProperty(settings, RUNS, property('mixed'));
    await checkProperty(settings, LARGE_RUNS, property('large'), { large: true });
  }, timeoutFor(settings, RUNS, 100, { runs: LARGE_RUNS, msPerRun: 2000 }));

  it('should give no payload for an empty portfolio, and refuse limits that are not positive integers', () => {
    expect(chunkByAccount({ portfolio: [] }, { maxAccounts: 1, maxBytes: 1 })).toEqual([]);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => chunkByAccount({ portfolio: [] }, { maxAccounts: bad })).toThrow(TypeError);
      expect(() => chunkByAccount({ portfolio: [] }, { maxBytes: bad })).toThrow(TypeError);
    }
  });
});

/**
 * Property specs of serializePayload: the chunks, joined, are exactly the JSON of the payload
 * (and parse back to it), whatever the chunk size, field order or content.
 *
 * Seed and runs: each run of this file draws a fresh seed and writes it to stderr
 * (`[fast-check] spec/properties/serializePayload.spec.ts: seed=…`); it is also in each test's
 * name. A failure reproduces with `FC_SEED=<seed> npx jest spec/properties/serializePayload.spec.ts`
 * (or `FC_SEED=<seed> npm test`). `FC_RUNS=<n>` sets the run count of every property (a
 * tenth of it for the runs over large, 1,000–5,000 row, portfolios).
 */
import fc from 'fast-check';
import type { PortfolioRequest } from '../../src/codecs';
import { serializePayload } from '../../src/http/serializePayload';
import { announceSeed, checkProperty, describeRuns, propertySettings, timeoutFor } from '../support/fastCheck';
import { expectSameData, jsonPositions, payloadOptions, plainObject, type PortfolioSize } from './arbitraries';

const settings = propertySettings();
const RUNS = 40;
/** Runs over large (1,000–5,000 row) portfolios. */
const LARGE_RUNS = 3;

async function join(chunks: AsyncIterable<string>): Promise<{ text: string; count: number }> {
  let text = '';
  let count = 0;
  for await (const chunk of chunks) {
    expect(typeof chunk).toBe('string');
    text += chunk;
    count++;
  }
  return { text, count };
}

describe('serializePayload (properties)', () => {
  beforeAll(() => announceSeed(settings, 'spec/properties/serializePayload.spec.ts'));

  it(`should write chunks that join to exactly JSON.stringify(payload) and parse back to it (${describeRuns(settings, RUNS, LARGE_RUNS)})`, async () => {
    const shape = fc.record({
      chunkPositions: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
      // Where `portfolio` sits among the top-level fields.
      portfolioAt: fc.nat(),
      // Fields JSON.stringify leaves out (undefined) must be left out here too.
      undefinedOption: fc.boolean(),
      undefinedInPosition: fc.option(fc.nat(), { nil: undefined }),
    });
    const property = (size: PortfolioSize) =>
      fc.asyncProperty(jsonPositions(size), payloadOptions, shape, async (positions, options, s) => {
        const portfolio: Record<string, unknown>[] = [...positions];
        if (s.undefinedInPosition !== undefined && portfolio.length > 0) {
          const at = s.undefinedInPosition % portfolio.length;
          portfolio[at] = plainObject([...Object.entries(portfolio[at]), ['left_out', undefined] as const]);
        }
        const entries: [string, unknown][] = Object.entries(options);
        if (s.undefinedOption) entries.push(['left_out', undefined]);
        entries.splice(s.portfolioAt % (entries.length + 1), 0, ['portfolio', portfolio]);
        const payload = plainObject(entries) as PortfolioRequest;
        const expectedText = JSON.stringify(payload);

        const body = serializePayload(payload, s.chunkPositions === undefined ? {} : { chunkPositions: s.chunkPositions });
        const first = await join(body());

        expect(first.text).toBe(expectedText);
        expectSameData(JSON.parse(first.text), payload);
        // The portfolio is written a group at a time: never fewer chunks than groups.
        expect(first.count).toBeGreaterThanOrEqual(Math.ceil(portfolio.length / (s.chunkPositions ?? 1000)));
        // Each call starts over (a retried request sends the same body again).
        expect((await join(body())).text).toBe(expectedText);
      });
    await checkProperty(settings, RUNS, property('mixed'));
    await checkProperty(settings, LARGE_RUNS, property('large'), { large: true });
  }, timeoutFor(settings, RUNS, 100, { runs: LARGE_RUNS, msPerRun: 2000 }));
});

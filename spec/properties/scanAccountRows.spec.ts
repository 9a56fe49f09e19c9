/**
 * Property specs of scanAccountRows and of getAccountResults on top of it: on any body, the
 * scanner either declines (undefined) or gives exactly what `filterAccountRows(JSON.parse(body))`
 * gives; it never accepts a body JSON.parse refuses or one that is not an array; and the
 * client answers (rows or error class and message) exactly as parse + filter + decode do.
 *
 * Bodies are arrays of rows with keys in any order, repeated keys, `account_code` keys nested
 * in drill-down arrays, non-string field values, non-object rows, any whitespace JSON allows
 * and strings written with escapes; malformed ones are such bodies cut, or with one character
 * removed, added or replaced. Seed and runs: see spec/support/fastCheck.ts
 * (`FC_SEED=<seed> npx jest spec/properties/scanAccountRows.spec.ts` replays a failure).
 */
import fc from 'fast-check';
import * as t from 'io-ts';
import { lastValueFrom, of } from 'rxjs';
import { createClient, filterAccountRows, parseResponse } from '../../src/http/client';
import { scanAccountRows } from '../../src/http/scanAccountRows';
import { AccountResults, decodeOrThrow } from '../../src/codecs';
import { announceSeed, checkProperty, describeRuns, propertySettings, timeoutFor } from '../support/fastCheck';

const settings = propertySettings();
const RUNS = 150;

type Json = null | boolean | number | string | Json[] | { entries: [string, Json][] };

/** A JSON object written with its entries as drawn: repeated keys and any order stay. */
const isObject = (v: Json): v is { entries: [string, Json][] } => typeof v === 'object' && v !== null && !Array.isArray(v);

const CODES = ['A1', 'A2', 'SUB-1', 'é"\\x', 'B\u2028', '__proto__', ''];
const IDS = ['p1', 'p2', 'p3', 'p\\"4'];
const code = fc.constantFrom(...CODES);
const id = fc.constantFrom(...IDS);
const key = fc.oneof(
  { arbitrary: fc.constantFrom('account_code', 'portfolio_id', 'parent_portfolio_id'), weight: 6 },
  { arbitrary: fc.constantFrom('initial_margin', 'margin_by_ccp', 'portfolio', '__proto__', 'account_codes', 'Account_code', 'constructor'), weight: 3 },
  { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
);
const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  code,
  id,
  fc.string({ maxLength: 6, unit: 'binary' }),
);
/** Any value, nested up to `depth` containers, with field-like keys inside. */
const valueOf = (depth: number): fc.Arbitrary<Json> =>
  depth === 0
    ? scalar
    : fc.oneof(
        { arbitrary: scalar, weight: 3 },
        { arbitrary: fc.array(valueOf(depth - 1), { maxLength: 3 }), weight: 1 },
        { arbitrary: fc.array(fc.tuple(key, valueOf(depth - 1)), { maxLength: 3 }).map((entries) => ({ entries })), weight: 1 },
      );
/** A row: mostly an object with the three fields (string values from small pools so rows match), sometimes anything. */
const row: fc.Arbitrary<Json> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.tuple(fc.constant('account_code'), fc.oneof({ arbitrary: code, weight: 4 }, { arbitrary: valueOf(1), weight: 1 })),
          fc.tuple(fc.constant('portfolio_id'), fc.oneof({ arbitrary: id, weight: 4 }, { arbitrary: valueOf(1), weight: 1 })),
          fc.tuple(fc.constant('parent_portfolio_id'), fc.oneof({ arbitrary: id, weight: 4 }, { arbitrary: valueOf(1), weight: 1 })),
          fc.tuple(key, valueOf(4)),
        ),
        { maxLength: 8 },
      )
      .map((entries) => ({ entries }) as Json),
  },
  { weight: 1, arbitrary: valueOf(3) },
);

/** How a body is written: whitespace between tokens and which string characters are escaped. */
interface Style {
  readonly spaces: readonly string[];
  readonly escapes: readonly number[];
}
const style: fc.Arbitrary<Style> = fc.record({
  spaces: fc.array(fc.oneof({ arbitrary: fc.constant(''), weight: 6 }, { arbitrary: fc.stringMatching(/^[ \t\n\r]{1,3}$/), weight: 1 }), { minLength: 1, maxLength: 16 }),
  escapes: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 16 }),
});

/** Writes `value` as JSON in `style` (a valid JSON text whatever the style). */
function render(value: Json, s: Style): string {
  let w = 0;
  let e = 0;
  const ws = (): string => s.spaces[w++ % s.spaces.length];
  const str = (text: string): string => {
    let out = '"';
    for (const ch of text) {
      const plain = JSON.stringify(ch).slice(1, -1);
      const how = s.escapes[e++ % s.escapes.length];
      if (how === 0 && ch.length === 1) out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
      else if (how === 1 && ch.length === 1) out += `\\u${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      else if (how === 2 && ch === '/') out += '\\/';
      else out += plain;
    }
    return `${out}"`;
  };
  const go = (v: Json): string => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return `[${ws()}${v.map((x) => go(x)).join(`${ws()},${ws()}`)}${ws()}]`;
    if (isObject(v)) return `{${ws()}${v.entries.map(([k, x]) => `${str(k)}${ws()}:${ws()}${go(x)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    return JSON.stringify(v);
  };
  return `${ws()}${go(value)}${ws()}`;
}

const body = fc.tuple(fc.array(row, { maxLength: 12 }), style).map(([rows, s]) => render(rows, s));
const wanted = fc.uniqueArray(fc.constantFrom(...CODES, 'NOT-THERE'), { maxLength: 4 }).map((c) => new Set(c));

/**
 * A body damaged in one place: cut short, or a character removed, added or replaced. Most of
 * the time the place is next to a structural character of a drawn kind (where a missing or
 * extra comma, colon, bracket or quote changes the grammar), else anywhere.
 */
const damaged = fc
  .tuple(
    body,
    fc.nat(),
    fc.constantFrom('[]{}', ']}', ',', ':', '"', '\\', ''),
    fc.constantFrom('cut', 'remove', 'insert', 'insert', 'replace'),
    // Characters JSON gives a meaning to, and ones it refuses where a looser reader might not
    // (other whitespace, escapes JSON lacks, a raw control character).
    fc.constantFrom(...',,,,::[]{}"\\ 0-.eE+tfnulvxU\'\u0001\u000b\u000c\u00a0\u2028\ufeff'.split('')),
  )
  .map(([text, at, near, how, ch]) => {
    const places: number[] = [];
    for (let k = 0; k < text.length; k++) if (near.includes(text[k])) places.push(k);
    const i = places.length > 0 ? places[at % places.length] + (at % 2) : text.length === 0 ? 0 : at % text.length;
    if (how === 'cut') return text.slice(0, i);
    if (how === 'remove') return text.slice(0, i) + text.slice(i + 1);
    if (how === 'insert') return text.slice(0, i) + ch + text.slice(i);
    return text.slice(0, i) + ch + text.slice(i + 1);
  });

/** What parse + filter gives, or undefined when the body is not a JSON array. */
function reference(text: string, accountCodes: ReadonlySet<string>): unknown[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(parsed) ? filterAccountRows(parsed, accountCodes) : undefined;
}

/** Deep structural identity (own `__proto__` keys, -0 and key order included). */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function checkAgainstReference(text: string, accountCodes: ReadonlySet<string>): void {
  const expected = reference(text, accountCodes);
  const actual = scanAccountRows(text, accountCodes);
  if (expected === undefined) {
    expect(actual).toBeUndefined();
  } else if (actual !== undefined) {
    expect(actual).toHaveLength(expected.length);
    expect(same(actual, expected)).toBe(true);
  }
}

/** What the client answered: rows, or the error's class and message. */
async function outcome(run: () => Promise<unknown>): Promise<{ value?: unknown; error?: string }> {
  try {
    return { value: await run() };
  } catch (error) {
    return { error: `${(error as Error).constructor.name}: ${(error as Error).message}` };
  }
}

describe('scanAccountRows (properties)', () => {
  beforeAll(() => announceSeed(settings, 'spec/properties/scanAccountRows.spec.ts'));

  it(
    `should read any well-formed body of rows exactly as JSON.parse + filterAccountRows (${describeRuns(settings, RUNS)})`,
    async () => {
      await checkProperty(
        settings,
        RUNS,
        fc.property(fc.array(row, { maxLength: 12 }), style, wanted, (rows, s, accountCodes) => {
          const text = render(rows, s);
          const actual = scanAccountRows(text, accountCodes);
          // Fewer than 64 rows, at most 5 containers deep: nothing makes the fast path decline.
          expect(actual).toBeDefined();
          checkAgainstReference(text, accountCodes);
        }),
      );
    },
    timeoutFor(settings, RUNS, 20),
  );

  it(
    `should decline every body JSON.parse refuses or that is not an array, and read the rest exactly (${describeRuns(settings, RUNS * 2)})`,
    async () => {
      await checkProperty(
        settings,
        RUNS * 2,
        fc.property(fc.oneof(damaged, fc.jsonValue().map((v) => JSON.stringify(v))), wanted, (text, accountCodes) => checkAgainstReference(text, accountCodes)),
      );
    },
    timeoutFor(settings, RUNS * 2, 20),
  );

  it(
    `should make getAccountResults answer exactly as parse + filter + decode, errors included (${describeRuns(settings, RUNS)})`,
    async () => {
      await checkProperty(
        settings,
        RUNS,
        fc.asyncProperty(fc.oneof(body, damaged), fc.boolean(), wanted, async (text, bom, accountCodes) => {
          const sent = bom ? `\uFEFF${text}` : text;
          const response = { status: 200, headers: { 'content-type': 'application/json' }, body: sent };
          const client = createClient({ endpoint: 'http://127.0.0.1:1', apiKey: 'sk-property', transport: () => of(response), retry: { maxRetries: 0 } });
          const actual = await outcome(() => lastValueFrom(client.getAccountResults({ accountCodes })));
          const expected = await outcome(async () => {
            const json = parseResponse(response, { method: 'GET', path: '/results/accounts', nowMs: 0 });
            const rows = decodeOrThrow(t.UnknownArray, json, 'account results');
            return decodeOrThrow(AccountResults, filterAccountRows(rows, accountCodes), 'account results');
          });
          expect(actual.error).toBe(expected.error);
          if (expected.error === undefined) expect(same(actual.value, expected.value)).toBe(true);
        }),
      );
    },
    timeoutFor(settings, RUNS, 30),
  );
});

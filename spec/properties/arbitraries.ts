/**
 * Random portfolios for the property specs, and the writers that turn them into files.
 *
 * Text is drawn from any Unicode grapheme plus the characters that break naive CSV and JSON
 * handling (commas, quotes, CR, LF, tabs, BOM, U+2028, combining marks, astral emoji). Sizes
 * are mostly small (shrinking stays readable); large portfolios (1,000–5,000 rows) are a
 * random base of rows spread by a seeded generator, because drawing 5,000 independent rows
 * per run would take most of the suite's time budget.
 */
import fc from 'fast-check';
import { seeded } from '../support/seeded';

/** Any JSON value a position field may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A position as written to JSON or NDJSON: strings, numbers, and any extra field. */
export type JsonPosition = { account_code: string } & { [key: string]: JsonValue };

const TRICKY = [',', '"', '""', '\n', '\r\n', '\r', ' ', '\t', ';', "'", '\\', '{', '[', ':', '#', '=', '\u00e9', '\u4e2d', '\u{1F600}', 'e\u0301', '\u2028', '\u00a0', '\uFEFF', '\u0000'];

const unit = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), weight: 3 },
  { arbitrary: fc.constantFrom(...TRICKY), weight: 3 },
  { arbitrary: fc.constantFrom(...'abcdXYZ0129-_.'.split('')), weight: 4 },
);

/** Any text, tricky characters included (possibly empty). */
export function text(maxLength = 8): fc.Arbitrary<string> {
  return fc.string({ unit, maxLength });
}

/** Text that is not blank: a required field (the emulator refuses blank ones with 400). */
export function nonBlank(maxLength = 8): fc.Arbitrary<string> {
  return fc.string({ unit, minLength: 1, maxLength }).filter((s) => s.trim() !== '');
}

/** A decimal number as the codecs accept it: `-12`, `3.50`, `.5`, `1e3`, ` 7 ` (surrounding spaces are allowed). */
export const numericString: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('', '-', '+'),
    fc.oneof(fc.nat({ max: 1_000_000 }).map(String), fc.constantFrom('0', '007', '12.', '.5', '3.50', '1e3', '2.5E-2', '99999999999999999999')),
    fc.constantFrom('', '', '', ' '),
  )
  .map(([sign, digits, pad]) => `${pad}${sign}${digits}${pad}`);

/** A finite number that survives a JSON round trip (JSON writes -0 as 0). */
export const jsonNumber: fc.Arbitrary<number> = fc
  .oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }))
  .map((n) => (Object.is(n, -0) ? 0 : n));

/** Fields whose presence changes a position's shape or that the codec types: extra fields never use these names. */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set([
  'account_code', 'exchange_code', 'contract_code', 'contract_type', 'contract_expiry', 'net_position', 'contract_strike',
  'account_type', 'sub_account_code', 'long_qty', 'short_qty', 'position_id',
  'product_class', 'risk_type', 'cusip', 'currency_pair', 'maturity',
  // A first NDJSON line holding `portfolio` is read as a JSON payload when the extension does not tell.
  'portfolio',
]);

/** The name of an extra field (a CSV column, a JSON key): any text, and the names that attack prototypes. */
export const fieldName: fc.Arbitrary<string> = fc
  .oneof(
    { arbitrary: nonBlank(6), weight: 4 },
    { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'memo'), weight: 1 },
  )
  // A BOM first in a file is dropped by design; a header cell starting with one would be ambiguous.
  .filter((name) => !RESERVED_FIELDS.has(name) && !name.startsWith('\uFEFF'));

/** A small JSON value for an extra field. */
export const jsonValue: fc.Arbitrary<JsonValue> = fc.oneof(
  { arbitrary: text(), weight: 4 },
  // Lone surrogates: JSON writes them as \uD800 escapes, and they must come back as they were.
  { arbitrary: fc.constantFrom('\uD800', 'x\uDFFFy', '\uDBFF'), weight: 1 },
  { arbitrary: jsonNumber, weight: 2 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 1 },
  { arbitrary: fc.array(fc.oneof(text(4), jsonNumber), { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.dictionary(fieldName, fc.oneof(text(4), jsonNumber), { maxKeys: 2, noNullPrototype: true }), weight: 1 },
);

/** Builds an object whose keys (`__proto__` included) are plain own data properties. */
export function plainObject<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** A pool of distinct account codes (unicode, commas, quotes, newlines…, and names an object map would trip on). */
export const accountPool: fc.Arbitrary<string[]> = fc.uniqueArray(
  fc.oneof({ arbitrary: nonBlank(10), weight: 9 }, { arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString'), weight: 1 }),
  { minLength: 1, maxLength: 12 },
);

/** Everything of one row except its account, which is picked from the pool. */
interface RowDraw {
  readonly account: number;
  readonly exchange: string;
  readonly contract: string;
  readonly type: string;
  readonly expiry: string | number;
  readonly net: string | number;
  readonly strike: string | number | null | undefined;
  readonly accountType: string | undefined;
  readonly extras: readonly (readonly [string, JsonValue])[];
}

const rowDraw: fc.Arbitrary<RowDraw> = fc.record({
  account: fc.nat(),
  exchange: nonBlank(),
  contract: nonBlank(),
  type: fc.oneof(fc.constantFrom('FUT', 'CALL', 'PUT', 'F', 'C', 'P'), nonBlank(4)),
  expiry: fc.oneof(nonBlank(), fc.integer({ min: 190001, max: 99991231 })),
  net: fc.oneof(numericString, jsonNumber),
  strike: fc.option(fc.oneof(text(), jsonNumber, fc.constant(null)), { nil: undefined, freq: 3 }),
  accountType: fc.option(fc.constantFrom('H', 'S', 'M', 'HRP', 'NHRP', 'C'), { nil: undefined }),
  extras: fc.uniqueArray(fc.tuple(fieldName, jsonValue), { maxLength: 3, selector: ([name]) => name }),
});


/**
 * How many rows a portfolio has: `mixed` mostly 1–25 and sometimes 26–200; `large` 1,000–5,000.
 * Large portfolios get their own few runs (not a random share of the mixed ones) so that every
 * run of the suite covers them and its time stays predictable.
 */
export type PortfolioSize = 'mixed' | 'small' | 'large';

function rowDraws(size: PortfolioSize): fc.Arbitrary<RowDraw[]> {
  const small = fc.array(rowDraw, { minLength: 1, maxLength: 25 });
  const medium = fc.array(rowDraw, { minLength: 26, maxLength: 200 });
  const large = fc
    .record({ base: fc.array(rowDraw, { minLength: 1, maxLength: 40 }), length: fc.integer({ min: 1000, max: 5000 }), seed: fc.integer() })
    .map(({ base, length, seed }) => {
      const random = seeded(seed);
      return Array.from({ length }, () => {
        const row = base[Math.floor(random() * base.length)];
        return { ...row, account: Math.floor(random() * 1_000_000) };
      });
    });
  if (size === 'small') return small;
  if (size === 'large') return large;
  return fc.oneof({ arbitrary: small, weight: 4 }, { arbitrary: medium, weight: 1 });
}

/** A random JSON portfolio: positions with numbers as numbers or strings, and extra fields of any JSON type. */
export function jsonPositions(size: PortfolioSize = 'mixed'): fc.Arbitrary<JsonPosition[]> {
  return fc.tuple(accountPool, rowDraws(size)).map(([accounts, draws]) =>
    draws.map((d) => {
      const entries: (readonly [string, JsonValue])[] = [
        ['account_code', accounts[d.account % accounts.length]],
        ['exchange_code', d.exchange],
        ['contract_code', d.contract],
        ['contract_type', d.type],
        ['contract_expiry', d.expiry],
        ['net_position', d.net],
      ];
      if (d.strike !== undefined) entries.push(['contract_strike', d.strike]);
      if (d.accountType !== undefined) entries.push(['account_type', d.accountType]);
      entries.push(...d.extras);
      return plainObject(entries) as JsonPosition;
    }),
  );
}

/** Top-level fields the codecs or the emulator type: unknown options never use these names. */
const TOP_LEVEL_TYPED: ReadonlySet<string> = new Set(['portfolio', 'request_id', 'execution_mode', 'price_date', 'bdate', 'is_live', 'in_memory', 'currency_code', 'calculation_type', 'use_closest_match', 'memo']);

/** Top-level options of a payload: known ones with valid values, and unknown ones kept as given. */
export const payloadOptions: fc.Arbitrary<Record<string, JsonValue>> = fc
  .record(
    {
      currency_code: fc.constantFrom('USD', 'EUR', 'GBP', 'JPY'),
      calculation_type: fc.constantFrom('margins', 'all', 'margins,analytics'),
      use_closest_match: fc.boolean(),
      memo: text(),
      bdate: fc.constant(20260102),
    },
    { requiredKeys: [], noNullPrototype: true },
  )
  .chain((known) =>
    fc
      .uniqueArray(fc.tuple(fieldName.filter((n) => !Object.prototype.hasOwnProperty.call(known, n) && !TOP_LEVEL_TYPED.has(n)), jsonValue), {
        maxLength: 2,
        selector: ([name]) => name,
      })
      .map((extra) => plainObject<JsonValue>([...Object.entries(known), ...extra])),
  );

/** A CSV table: header and rows of cells, every cell a string. */
export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** How a CSV file is written: line ends, BOM, quoting, blank lines, final line end. */
export interface CsvStyle {
  readonly eol: '\n' | '\r\n';
  readonly bom: boolean;
  /** Quote every field, not only those that need it. */
  readonly quoteAll: boolean;
  /** After which records (by index, header = 0) a blank line is written. */
  readonly blankAfter: readonly number[];
  readonly finalEol: boolean;
}

export const csvStyle: fc.Arbitrary<CsvStyle> = fc.record({
  eol: fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n'),
  bom: fc.boolean(),
  quoteAll: fc.boolean(),
  blankAfter: fc.array(fc.nat({ max: 30 }), { maxLength: 3 }),
  finalEol: fc.boolean(),
});

const REQUIRED_COLUMNS = ['account_code', 'exchange_code', 'contract_code', 'contract_type', 'contract_expiry', 'net_position'] as const;

/**
 * A random CSV table: the required columns and `contract_strike`, plus up to three extra
 * columns with any name, in a random column order. Cells are strings (CSV is text); optional
 * cells may be empty.
 */
export function csvTables(size: PortfolioSize = 'mixed'): fc.Arbitrary<CsvTable> {
  const extras = fc.uniqueArray(fc.tuple(fieldName, fc.nat()), { maxLength: 3, selector: ([name]) => name });
  const cells = fc.record({ strike: fc.option(text(), { nil: '' }), extra: fc.array(text(), { minLength: 3, maxLength: 3 }) });
  return fc.tuple(extras, jsonPositions(size), fc.array(cells, { minLength: 1, maxLength: 40 }), fc.nat()).map(([extraColumns, positions, cellPool, spread]) => {
    const header: string[] = [...REQUIRED_COLUMNS, 'contract_strike'];
    for (const [name, at] of extraColumns) header.splice(at % (header.length + 1), 0, name);
    const extraNames = extraColumns.map(([name]) => name);
    const rows = positions.map((p, i) => {
      const own = cellPool[(i + spread) % cellPool.length];
      const values: Record<string, string> = {
        account_code: p.account_code,
        exchange_code: String(p.exchange_code),
        contract_code: String(p.contract_code),
        contract_type: String(p.contract_type),
        contract_expiry: String(p.contract_expiry),
        // CSV holds text: a number is written the way JavaScript prints it.
        net_position: String(p.net_position),
        contract_strike: own.strike,
      };
      return header.map((name) => {
        const extra = extraNames.indexOf(name);
        return extra >= 0 ? own.extra[extra] : values[name];
      });
    });
    return { header, rows };
  });
}

/** Quotes a CSV field per RFC 4180: when it holds a comma, quote, CR or LF (or always), doubling quotes. */
export function csvField(value: string, quoteAll: boolean): string {
  return quoteAll || /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Writes a table as CSV text in the given style. */
export function writeCsv(table: CsvTable, style: CsvStyle): string {
  return writeCsvWithLines(table, style).text;
}

/**
 * Writes a table as CSV text and tells the physical line (1-based, counted by LF as editors
 * and the loader do) on which each data row starts: a quoted line break moves every later row.
 */
export function writeCsvWithLines(table: CsvTable, style: CsvStyle): { text: string; rowLines: number[] } {
  const records = [table.header, ...table.rows].map((cells) => cells.map((c) => csvField(c, style.quoteAll)).join(','));
  let out = style.bom ? '\uFEFF' : '';
  let line = 1;
  const starts: number[] = [];
  const add = (piece: string): void => {
    out += piece;
    for (let i = piece.indexOf('\n'); i >= 0; i = piece.indexOf('\n', i + 1)) line++;
  };
  records.forEach((record, i) => {
    starts.push(line);
    add(record);
    if (i < records.length - 1 || style.finalEol) add(style.eol);
    if (i < records.length - 1 && style.blankAfter.includes(i)) add(style.eol);
  });
  return { text: out, rowLines: starts.slice(1) };
}

/**
 * The positions the loader must give for a table: one per row, in order, each cell under its
 * column name, an empty cell left out (the loader's one documented normalisation).
 */
export function expectedCsvPositions(table: CsvTable): Record<string, string>[] {
  return table.rows.map((row) => plainObject(table.header.flatMap((name, i) => (row[i] === '' ? [] : [[name, row[i]] as const]))));
}

/**
 * Asserts that `actual` is the same data as `expected`: same values, same types (a number
 * is not its string), same order. Compared through JSON text first (jest's deep equality
 * costs about a second per 10,000 positions); on a mismatch jest's `toEqual` decides and
 * prints the diff, so a difference only in key order is not a failure.
 */
export function expectSameData(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return;
  expect(actual).toEqual(expected);
}

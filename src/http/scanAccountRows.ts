/**
 * Picks a batch's rows out of a large `GET /results/accounts` body without building the rest.
 *
 * The live store answers with every account of the caller (tens or hundreds of MB), and a
 * batch wants a few of them. Most of the cost of `JSON.parse` is building objects, which is
 * wasted on rows that are thrown away. Here the body is checked against the JSON grammar by
 * regular expressions (native code, no objects built), one row at a time; each row's
 * top-level `account_code`, `portfolio_id` and `parent_portfolio_id` are read on the way, and
 * only the rows kept are parsed, each on its own.
 */

// The JSON grammar (RFC 8259) as regular expression sources. Only JSON's four whitespace
// characters; strings refuse raw control characters and unknown escapes, as JSON.parse does.
const WS = String.raw`[ \t\n\r]*`;
// Written as "run of plain characters, then (escape, run)*" so that no character can be
// matched two ways: a failing match backtracks in linear time.
const STRING = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
const NUMBER = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`;
const SCALAR = String.raw`${STRING}|${NUMBER}|true|false|null`;
/** After an element: a comma not followed by the close, or the close itself (not consumed). */
const NEXT = (close: string): string => `${WS}(?:,${WS}(?!\\${close})|(?=\\${close}))`;

/**
 * A JSON value nested at most `depth` containers deep. Regular expressions cannot count, so
 * the nesting is unrolled; a deeper value makes the fast path give up (the caller then
 * parses the whole body as before). Each level holds the one below twice, so the source
 * doubles per level: 5 levels is about 15 KB.
 */
function valueSource(depth: number): string {
  if (depth === 0) return `(?:${SCALAR})`;
  const inner = valueSource(depth - 1);
  const array = String.raw`\[${WS}(?:${inner}${NEXT(']')})*\]`;
  const object = String.raw`\{${WS}(?:${STRING}${WS}:${WS}${inner}${NEXT('}')})*\}`;
  return `(?:${SCALAR}|${array}|${object})`;
}

/** Containers a row's field value may hold (a row's drill-down arrays of objects need 2). */
const MEMBER_DEPTH = 4;
const MEMBER_VALUE = valueSource(MEMBER_DEPTH);
const FIELDS = ['account_code', 'portfolio_id', 'parent_portfolio_id'] as const;

/**
 * Any number of members of a row object whose key is not one of {@link FIELDS}, in one
 * native match. Only keys without escapes are taken here: an escaped key might spell one of
 * the fields, so it stops the run and goes through {@link MEMBER}.
 */
const OTHER_MEMBERS = new RegExp(
  String.raw`(?:(?!"(?:${FIELDS.join('|')})")"[^"\\\x00-\x1f]*"${WS}:${WS}${MEMBER_VALUE}${NEXT('}')})*`,
  'y',
);
/** One member of a row object: the key (group 1) and, when the value is a string, the value (group 2). */
const MEMBER = new RegExp(String.raw`(${STRING})${WS}:${WS}(?:(${STRING})|${MEMBER_VALUE})${NEXT('}')}`, 'y');
/** A row that is not an object (the filter keeps none, but the body must still be valid). */
const OTHER_ROW = new RegExp(valueSource(MEMBER_DEPTH + 1), 'y');
const WHITESPACE = new RegExp(WS, 'y');

const CH_COMMA = 0x2c;
const CH_LBRACKET = 0x5b;
const CH_RBRACKET = 0x5d;
const CH_LBRACE = 0x7b;
const CH_RBRACE = 0x7d;

/**
 * Rows read before guessing the store's size: enough for a stable average row length,
 * few enough to cost nothing when the guess says to parse the whole body instead.
 */
const SAMPLE_ROWS = 64;

/** Why the scan gave up: the body is not a JSON array it can read, or the batch wants most of it. */
const NOT_READ = 'notRead';
const MOSTLY_WANTED = 'mostlyWanted';

/** What the scan found: where each top-level row is, and the three fields read from it. */
interface Rows {
  readonly starts: number[];
  readonly ends: number[];
  /** The decoded `account_code`, `portfolio_id`, `parent_portfolio_id`; undefined when absent or not a string. */
  readonly codes: (string | undefined)[];
  readonly ids: (string | undefined)[];
  readonly parents: (string | undefined)[];
}

function skipWhitespace(text: string, i: number): number {
  WHITESPACE.lastIndex = i;
  WHITESPACE.test(text);
  return WHITESPACE.lastIndex;
}

/** A string token's value: sliced when it holds no escape, else decoded by JSON.parse. */
function stringValue(token: string): string {
  return token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
}

/**
 * Reads `text` as a JSON array of rows. Gives {@link NOT_READ} for anything that is not one
 * (or nests deeper than the patterns do), and {@link MOSTLY_WANTED} when the first rows say
 * the store holds fewer than twice as many rows as `wanted` accounts.
 */
function readRows(text: string, wanted: number): Rows | typeof NOT_READ | typeof MOSTLY_WANTED {
  const n = text.length;
  const rows: Rows = { starts: [], ends: [], codes: [], ids: [], parents: [] };
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== CH_LBRACKET) return NOT_READ;
  i = skipWhitespace(text, i + 1);
  if (text.charCodeAt(i) === CH_RBRACKET) return skipWhitespace(text, i + 1) === n ? rows : NOT_READ;
  for (;;) {
    const start = i;
    let code: string | undefined;
    let id: string | undefined;
    let parent: string | undefined;
    if (text.charCodeAt(i) === CH_LBRACE) {
      i = skipWhitespace(text, i + 1);
      for (;;) {
        OTHER_MEMBERS.lastIndex = i;
        OTHER_MEMBERS.test(text);
        i = OTHER_MEMBERS.lastIndex;
        if (text.charCodeAt(i) === CH_RBRACE) {
          i++;
          break;
        }
        MEMBER.lastIndex = i;
        const member = MEMBER.exec(text);
        if (member === null) return NOT_READ;
        i = MEMBER.lastIndex;
        // As JSON.parse does, a repeated key's last value wins, whatever its type.
        const value = member[2] === undefined ? undefined : stringValue(member[2]);
        const key = stringValue(member[1]);
        if (key === FIELDS[0]) code = value;
        else if (key === FIELDS[1]) id = value;
        else if (key === FIELDS[2]) parent = value;
      }
    } else {
      OTHER_ROW.lastIndex = i;
      if (!OTHER_ROW.test(text)) return NOT_READ;
      i = OTHER_ROW.lastIndex;
    }
    rows.starts.push(start);
    rows.ends.push(i);
    rows.codes.push(code);
    rows.ids.push(id);
    rows.parents.push(parent);
    i = skipWhitespace(text, i);
    const c = text.charCodeAt(i);
    if (c === CH_RBRACKET) return skipWhitespace(text, i + 1) === n ? rows : NOT_READ;
    if (c !== CH_COMMA) return NOT_READ;
    i = skipWhitespace(text, i + 1);
    if (rows.starts.length === SAMPLE_ROWS && wanted * 2 * i >= SAMPLE_ROWS * n) return MOSTLY_WANTED;
  }
}

/**
 * The rows `filterAccountRows` keeps, from the fields read: rows of the given accounts, and
 * rows whose `parent_portfolio_id` is the `portfolio_id` of such a row.
 */
function keptIndexes(rows: Rows, accountCodes: ReadonlySet<string>): number[] {
  const { codes, ids, parents } = rows;
  const keptIds = new Set<string>();
  for (let r = 0; r < codes.length; r++) {
    const code = codes[r];
    const id = ids[r];
    if (code !== undefined && id !== undefined && accountCodes.has(code)) keptIds.add(id);
  }
  const kept: number[] = [];
  for (let r = 0; r < codes.length; r++) {
    const code = codes[r];
    const parent = parents[r];
    if ((code !== undefined && accountCodes.has(code)) || (parent !== undefined && keptIds.has(parent))) kept.push(r);
  }
  return kept;
}

/**
 * The rows of a `GET /results/accounts` body that `filterAccountRows(JSON.parse(text), accountCodes)`
 * keeps, equal and in the same order, with only those rows parsed. `undefined` means "parse it
 * the usual way": the body is not a JSON array (malformed, truncated, another value: the usual
 * way reports exactly what JSON.parse says), nests deeper or holds a row larger than the fast path reads, or the
 * batch wants about half the store or more (one JSON.parse is then cheaper than a scan and a
 * parse per row).
 *
 * Example: `scanAccountRows('[{"account_code":"A"},{"account_code":"B"}]', new Set(['B']))` → `[{ account_code: 'B' }]`
 *
 * @param text the body, without a byte order mark
 * @param accountCodes the accounts wanted
 */
export function scanAccountRows(text: string, accountCodes: ReadonlySet<string>): unknown[] | undefined {
  let rows: ReturnType<typeof readRows>;
  try {
    rows = readRows(text, accountCodes.size);
  } catch (error) {
    // A row too large for the patterns (hundreds of thousands of array entries or escapes)
    // overflows the regular expression engine's backtracking stack: valid JSON that the
    // usual way reads, so decline rather than fail the request.
    if (error instanceof RangeError) return undefined;
    throw error;
  }
  if (rows === NOT_READ || rows === MOSTLY_WANTED) return undefined;
  return keptIndexes(rows, accountCodes).map((r) => JSON.parse(text.slice(rows.starts[r], rows.ends[r])) as unknown);
}

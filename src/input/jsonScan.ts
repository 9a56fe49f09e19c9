/**
 * A small scanner over JSON text, for what `JSON.parse` cannot tell: which number literals
 * it silently rounds (`12345678901234567890.5` becomes 12345678901234567000), which keys
 * appear twice in one object (it keeps the last silently), and where a syntax error is when
 * V8's message gives no position.
 */

/** A number literal whose parsed value differs from what is written. */
export interface InexactNumber {
  /** The literal as written in the file. */
  readonly literal: string;
  /** Offset of the literal in the scanned text. */
  readonly offset: number;
  /** Where the number is: object keys and array indexes from the root. */
  readonly path: readonly (string | number)[];
}

/** A key written a second time in the same object. */
export interface DuplicateKey {
  /** The key (escapes decoded). */
  readonly key: string;
  /** Offset of its second occurrence in the scanned text. */
  readonly offset: number;
  /** Where the member is: object keys and array indexes from the root, the key last. */
  readonly path: readonly (string | number)[];
}

/** What {@link scanJson} found: the first syntax error's offset, the first inexact number, the first duplicate key. */
export interface JsonScan {
  readonly syntaxErrorAt?: number;
  readonly inexact?: InexactNumber;
  readonly duplicateKey?: DuplicateKey;
}

// A number that follows `:`, `,` or `[` and is longer than 15 digits or has an exponent:
// anything shorter without an exponent always survives a parse (15 significant digits do).
const MAYBE_INEXACT = /[:,[]\s*-?(?:\d[\d.]{15}|[\d.]+[eE])/;
// The same for a text that is a bare number.
const BARE_MAYBE_INEXACT = /^\s*-?(?:\d[\d.]{15}|[\d.]+[eE])/;

/**
 * A quick test of whether `text` may hold a number literal that does not survive
 * `JSON.parse`; false means it surely does not, so the scan can be skipped.
 *
 * Example: `mayHoldInexactNumber('{"n":1.5}')` → `false`
 *
 * @param text JSON text
 */
export function mayHoldInexactNumber(text: string): boolean {
  return MAYBE_INEXACT.test(text) || BARE_MAYBE_INEXACT.test(text);
}

/**
 * True when the number literal's value is exactly what `JSON.parse` makes of it, read back
 * as the shortest decimal (`1.50`, `100.0`, `1e2`, `0.1` are; `9007199254740993`,
 * `1e400`, `1e-400` are not).
 *
 * Example: `isExactNumber('12345678901234567890.5')` → `false`
 *
 * @param literal a JSON number literal
 */
export function isExactNumber(literal: string): boolean {
  // Up to 15 digits and no exponent: always exact, and the common case.
  if (literal.length <= 15 && !/[eE]/.test(literal)) return true;
  const value = Number(literal);
  if (!Number.isFinite(value)) return false;
  return decimalKey(literal) === decimalKey(String(value));
}

/** The decimal value of a number text as `digits e exponent`, without leading or trailing zeros. */
function decimalKey(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return text;
  const fraction = match[3] ?? '';
  let digits = (match[2] + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  let exponent = Number(match[4] ?? 0) - fraction.length;
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${match[1]}${digits}e${exponent}`;
}

/**
 * A quick test of whether valid JSON `text` may write a key twice in one object: true when it
 * may write more keys than `parsed` (what `JSON.parse(text)` gave) holds. False means it
 * surely does not, so the scan can be skipped.
 *
 * Example: `mayHoldDuplicateKey('{"a":1,"a":2}', { a: 2 })` → `true`
 *
 * @param text valid JSON text
 * @param parsed `JSON.parse(text)`
 */
export function mayHoldDuplicateKey(text: string, parsed: unknown): boolean {
  let held = 0;
  // A stack, not recursion: the nesting is as deep as the file makes it.
  const pending: unknown[] = [parsed];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    for (const key in value) {
      held++;
      const member: unknown = (value as Record<string, unknown>)[key];
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
  // Every key written ends `"` then `:`; a `":` inside a string only counts one too many
  // (a scan for nothing), never too few. Cheaper than a regex over the strings: NDJSON
  // runs this on every line.
  let written = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) {
    let j = at - 1;
    while (isSpace(text.charCodeAt(j))) j--;
    if (text.charCodeAt(j) === 0x22 && ++written > held) return true;
  }
  return false;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** What `JSON.parse` altered without a word, as an input error tells it. */
export interface SilentChange {
  /** Offset of the literal or key in the text. */
  readonly offset: number;
  /** Where it is: object keys and array indexes from the root. */
  readonly path: readonly (string | number)[];
  readonly reason: string;
}

/**
 * The first thing `JSON.parse` altered silently in valid JSON `text`: a number it rounds, or
 * a key written twice in one object (it keeps the last). The quick tests keep the scan off
 * texts that surely hold neither.
 *
 * Example: `silentChange('{"a":1,"a":2}', { a: 2 })` → `{ offset: 7, path: ['a'], reason: 'the key appears twice' }`
 *
 * @param text valid JSON text
 * @param parsed `JSON.parse(text)`
 */
export function silentChange(text: string, parsed: unknown): SilentChange | undefined {
  const checkNumbers = mayHoldInexactNumber(text);
  const checkKeys = mayHoldDuplicateKey(text, parsed);
  if (!checkNumbers && !checkKeys) return undefined;
  const { inexact, duplicateKey } = scanJson(text, { checkNumbers, checkKeys });
  if (inexact !== undefined) return { offset: inexact.offset, path: inexact.path, reason: inexactNumberReason(inexact.literal) };
  if (duplicateKey !== undefined) return { offset: duplicateKey.offset, path: duplicateKey.path, reason: 'the key appears twice' };
  return undefined;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'] as const;

interface Frame {
  readonly array: boolean;
  /** Array: the current index. Object: the current key's raw text (quotes included). */
  index: number;
  key: string;
  /** Object, when keys are checked: the keys read so far (escapes decoded). */
  readonly keys: Set<string> | undefined;
}

/**
 * Scans JSON text once, checking its grammar and every number literal. Stops at the first
 * syntax error, with `checkNumbers` the first literal that {@link isExactNumber} refuses,
 * and with `checkKeys` the first key written twice in one object.
 *
 * Example: `scanJson('{"a":1e400}', { checkNumbers: true }).inexact` → `{ literal: '1e400', offset: 5, path: ['a'] }`
 *
 * @param text the JSON text
 * @param options `checkNumbers` to look for inexact numbers, `checkKeys` for duplicate keys
 */
export function scanJson(text: string, options: { readonly checkNumbers?: boolean; readonly checkKeys?: boolean } = {}): JsonScan {
  const checkNumbers = options.checkNumbers === true;
  const checkKeys = options.checkKeys === true;
  let duplicateKey: DuplicateKey | undefined;
  const n = text.length;
  const stack: Frame[] = [];
  let i = 0;

  const skipSpace = (): void => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    }
  };
  /** Moves past the string at `i` (a quote); returns false at a grammar error (left at `i`). */
  const skipString = (): boolean => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i++;
            return false;
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          i++;
          return false;
        }
      } else {
        i++;
      }
    }
    return false;
  };
  const pathOf = (): (string | number)[] =>
    stack.map((frame) => (frame.array ? frame.index : (JSON.parse(frame.key) as string)));

  // Each turn reads one value, then the separators and closers after it.
  for (;;) {
    skipSpace();
    if (i >= n) return { syntaxErrorAt: i };
    const c = text[i];
    if (c === '{' || c === '[') {
      const array = c === '[';
      i++;
      skipSpace();
      if (text[i] === (array ? ']' : '}')) {
        i++;
      } else {
        const frame: Frame = { array, index: 0, key: '', keys: checkKeys && !array ? new Set() : undefined };
        stack.push(frame);
        if (!array && !readKey(frame)) return { syntaxErrorAt: i };
        if (duplicateKey !== undefined) return { duplicateKey };
        continue;
      }
    } else if (c === '"') {
      if (!skipString()) return { syntaxErrorAt: i };
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match === null) return { syntaxErrorAt: c === '-' ? i + 1 : i };
      const literal = match[0];
      // `1.` and `1e+` end inside the number, where V8 puts the error too.
      const end = i + literal.length;
      if (text[end] === '.') return { syntaxErrorAt: end + 1 };
      if (text[end] === 'e' || text[end] === 'E') return { syntaxErrorAt: text[end + 1] === '+' || text[end + 1] === '-' ? end + 2 : end + 1 };
      if (checkNumbers && !isExactNumber(literal)) return { inexact: { literal, offset: i, path: pathOf() } };
      i += literal.length;
    } else {
      const word = LITERALS.find((w) => w[0] === c);
      if (word === undefined) return { syntaxErrorAt: i };
      // `tru}`: the error is at the `}`, where V8 also puts it.
      let k = 1;
      while (k < word.length && text[i + k] === word[k]) k++;
      if (k < word.length) return { syntaxErrorAt: i + k };
      i += word.length;
    }

    // After a value: close containers, or move to the next element or member.
    for (;;) {
      skipSpace();
      const frame = stack[stack.length - 1];
      if (frame === undefined) return i < n ? { syntaxErrorAt: i } : {};
      const d = text[i];
      if (d === ',') {
        i++;
        if (frame.array) {
          frame.index++;
        } else if (!readKey(frame)) {
          return { syntaxErrorAt: i };
        } else if (duplicateKey !== undefined) {
          return { duplicateKey };
        }
        break;
      }
      if (d !== (frame.array ? ']' : '}')) return { syntaxErrorAt: i };
      i++;
      stack.pop();
    }
  }

  /** Reads `"key":` at `i` into the frame, noting a duplicate; false at a grammar error (left at `i`). */
  function readKey(frame: Frame): boolean {
    skipSpace();
    if (text[i] !== '"') return false;
    const start = i;
    if (!skipString()) return false;
    frame.key = text.slice(start, i);
    if (frame.keys !== undefined) {
      const key = frame.key.includes('\\') ? (JSON.parse(frame.key) as string) : frame.key.slice(1, -1);
      if (frame.keys.has(key)) duplicateKey = { key, offset: start, path: pathOf() };
      frame.keys.add(key);
    }
    skipSpace();
    if (text[i] !== ':') return false;
    i++;
    return true;
  }
}

/**
 * Why an {@link InexactNumber} is refused, for an input error: the literal as written (never
 * `null` or the rounded value) and how to send it unchanged.
 *
 * Example: `inexactNumberReason('1e400')` → `'the number 1e400 is too large to be represented (it would be read as Infinity)'`
 *
 * @param literal the number as written
 */
export function inexactNumberReason(literal: string): string {
  const shown = literal.length > 60 ? `${literal.slice(0, 60)}…` : literal;
  if (!Number.isFinite(Number(literal))) return `the number ${shown} is too large to be represented (it would be read as ${Number(literal)})`;
  // A numeric string is sent as written: the API reads it itself.
  return `the number ${shown} cannot be represented exactly; write it as a string (${JSON.stringify(shown)})`;
}

/**
 * A path from {@link InexactNumber} as the input errors write it: `portfolio[0].net_position`,
 * `["odd key"]` for keys that are not plain names.
 *
 * Example: `formatJsonPath(['portfolio', 0, 'net_position'])` → `'portfolio[0].net_position'`
 *
 * @param path object keys and array indexes from the root
 */
export function formatJsonPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * The reason and offset of a `JSON.parse` error over `text`, for `file:line:column: not valid
 * JSON (reason)`. V8 gives the position for most errors; for the others (`Unexpected token`)
 * the scanner finds it. The source excerpt V8 quotes is left out.
 *
 * Example: `jsonSyntaxError(err, '[1,2')` → `{ reason: "Expected ',' or ']' after array element", offset: 4 }`
 *
 * @param error what `JSON.parse(text)` threw
 * @param text the text it was given
 */
export function jsonSyntaxError(error: unknown, text: string): { readonly reason: string; readonly offset: number | undefined } {
  const message = error instanceof Error ? error.message : String(error);
  const at = /^(.*?)(?: in JSON)? at position (\d+)/s.exec(message);
  if (at) return { reason: at[1], offset: Number(at[2]) };
  // `Unexpected token '}', "{"a":}" is not valid JSON`: the excerpt may be a whole line of a file.
  const reason = message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '').replace(/ in JSON$/, '');
  return { reason, offset: scanJson(text).syntaxErrorAt };
}

/**
 * The 1-based line and column of `offset` in `text` (columns count UTF-16 units).
 *
 * Example: `lineAndColumn('{\n  x', 4)` → `{ line: 2, column: 3 }`
 *
 * @param text the text
 * @param offset an offset into it
 */
export function lineAndColumn(text: string, offset: number): { readonly line: number; readonly column: number } {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

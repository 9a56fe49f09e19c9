/**
 * JSON portfolio files: a whole request payload, or a bare array of positions.
 */
import { readFile } from 'node:fs/promises';
import { decodeOrThrow, PortfolioRequest } from '../codecs';
import { DecodeError } from '../http/errors';
import { InputError } from './errors';
import { fileErrorReason } from './fileErrors';
import { formatJsonPath, jsonSyntaxError, lineAndColumn, silentChange } from './jsonScan';
import { checkPosition } from './validate';

/**
 * Reads a JSON portfolio: either a payload object (`{"portfolio": [...], "currency_code": …}`,
 * top-level options kept as written) or a bare array of positions (wrapped as
 * `{portfolio}`). Positions are kept exactly as parsed, in order. A problem fails with an
 * {@link InputError} naming the file and the JSON path (`portfolio[12].net_position`), or the
 * line and column of a syntax error (`book.json:3:17: not valid JSON (…)`). A number that
 * `JSON.parse` would round (more digits than a double holds, or beyond its range), or a key
 * written twice in one object (`JSON.parse` keeps the last), is an error naming its line and
 * path, never sent altered.
 *
 * JSON cannot be parsed piece by piece with `JSON.parse`, so the file is read whole: use CSV
 * or NDJSON for very large portfolios.
 *
 * Example: `const payload = await readJsonPortfolio('book.json')`
 *
 * @param file path of the JSON file
 * @param text the file's content, when the caller already holds it; `file` still names it in errors
 */
export async function readJsonPortfolio(file: string, text?: string): Promise<PortfolioRequest> {
  let content: string;
  try {
    content = text ?? (await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError({ file }, fileErrorReason(error), { cause: error });
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  const value = parseJson(content, file);

  if (Array.isArray(value)) {
    const portfolio = value.map((item: unknown, i) => checkPosition(item, (field) => ({ file, path: joinPath(`[${i}]`, field) })));
    return { portfolio };
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { portfolio?: unknown }).portfolio)) {
    throw new InputError({ file }, 'expected an object with a "portfolio" array, or an array of positions');
  }
  const positions = (value as { portfolio: unknown[] }).portfolio;
  positions.forEach((item, i) => checkPosition(item, (field) => ({ file, path: joinPath(`portfolio[${i}]`, field) })));
  try {
    return decodeOrThrow(PortfolioRequest, value, 'portfolio request') as PortfolioRequest;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    const path = error.paths[0] ?? '(root)';
    const line = error.message.split('\n').find((l) => l.startsWith(`${path}: `));
    throw new InputError({ file, path }, line === undefined ? 'invalid value' : line.slice(path.length + 2), { cause: error });
  }
}

function joinPath(base: string, field: string | undefined): string {
  return field === undefined ? base : `${base}.${field}`;
}

function parseJson(content: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    const { reason, offset } = jsonSyntaxError(error, content);
    throw new InputError({ file, ...(offset === undefined ? {} : lineAndColumn(content, offset)) }, `not valid JSON (${reason})`, { cause: error });
  }
  // JSON.parse rounds what a double cannot hold and keeps the last of a repeated key; a row
  // (or an option) must never be altered unseen.
  const change = silentChange(content, value);
  if (change !== undefined) throw new InputError({ file, line: lineAndColumn(content, change.offset).line, path: formatJsonPath(change.path) }, change.reason);
  return value;
}

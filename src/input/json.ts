/**
 * JSON portfolio files: a whole request payload, or a bare array of positions.
 */
import { readFile } from 'node:fs/promises';
import { decodeOrThrow, PortfolioRequest } from '../codecs';
import { DecodeError } from '../http/errors';
import { InputError } from './errors';
import { fileErrorReason } from './fileErrors';
import { checkPosition } from './validate';

/**
 * Reads a JSON portfolio: either a payload object (`{"portfolio": [...], "currency_code": …}`,
 * top-level options kept as written) or a bare array of positions (wrapped as
 * `{portfolio}`). Positions are kept exactly as parsed, in order. A problem fails with an
 * {@link InputError} naming the file and the JSON path (`portfolio[12].net_position`), or the
 * line and column of a syntax error.
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
  try {
    return JSON.parse(content);
  } catch (error) {
    const message = (error as Error).message;
    const at = /^(.*?)(?: in JSON)? at position (\d+)/.exec(message);
    if (at) {
      const position = Number(at[2]);
      const before = content.slice(0, position);
      const line = before.split('\n').length;
      const column = position - before.lastIndexOf('\n');
      throw new InputError({ file, line }, `not valid JSON: ${at[1]} (column ${column})`, { cause: error });
    }
    // V8 quotes the source after the comma; a portfolio file is no place for that.
    throw new InputError({ file }, `not valid JSON: ${message.split(', "')[0]}`, { cause: error });
  }
}

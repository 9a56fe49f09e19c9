/**
 * One entry point for portfolio files of every supported format.
 */
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { PortfolioRequest, Position } from '../codecs';
import { readCsvPositions } from './csv';
import { InputError } from './errors';
import { fileErrorReason } from './fileErrors';
import { readJsonPortfolio } from './json';
import { readNdjsonPositions } from './ndjson';

/** The file formats {@link loadPortfolio} reads. */
export const INPUT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Options of {@link loadPortfolio}. */
export interface LoadPortfolioOptions {
  /** The format, when the extension does not tell (default: by extension, then by content). */
  readonly format?: InputFormat;
}

const BY_EXTENSION: Readonly<Record<string, InputFormat>> = {
  '.csv': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

/**
 * Reads a portfolio file into a request payload. Every row becomes exactly one position,
 * unchanged and in file order: never merged, dropped, re-typed or reordered.
 *
 * - CSV (`.csv`): header row, one position per record, values kept as the strings written;
 *   an empty cell is left out of its position (the one normalisation); empty lines skipped.
 * - JSON (`.json`): a payload object with `portfolio` (its top-level options kept), or a
 *   bare array of positions.
 * - NDJSON (`.ndjson`, `.jsonl`): one position object per line; blank lines skipped.
 * - Any other extension: JSON when the content starts with `[` or with an object holding
 *   `portfolio`, NDJSON when it starts with a one-line object, CSV otherwise.
 *
 * CSV and NDJSON are read as streams. An empty portfolio is an error: there is nothing to run.
 *
 * Example: `const payload = await loadPortfolio('examples/sample_portfolio.csv')`
 *
 * @param file path of the file
 * @param options the format, when it should not be guessed
 * @throws InputError naming the file, the line or JSON path, and the field
 */
export async function loadPortfolio(file: string, options: LoadPortfolioOptions = {}): Promise<PortfolioRequest> {
  const format = await resolveFormat(file, options.format);
  const payload = format === 'json' ? await readJsonPortfolio(file) : { portfolio: await collect(readPositions(file, format)) };
  if (payload.portfolio.length === 0) throw new InputError({ file }, 'the file holds no positions');
  return payload;
}

/**
 * The positions of a CSV or NDJSON file as a stream, for callers that never hold the whole
 * portfolio at once.
 *
 * Example: `for await (const p of readPositions('big.csv', 'csv')) count++;`
 *
 * @param file path of the file
 * @param format `csv` or `ndjson`
 * @param source the bytes to read instead of opening `file`
 */
export function readPositions(file: string, format: Exclude<InputFormat, 'json'>, source?: Readable): AsyncGenerator<Position, void, undefined> {
  return format === 'csv' ? readCsvPositions(file, source) : readNdjsonPositions(file, source);
}

/**
 * The format of `file`: the one given, else by extension, else guessed from its first bytes.
 *
 * Example: `await resolveFormat('book.txt')` → `'csv'` for a file starting `account_code,…`
 *
 * @param file path of the file
 * @param format the caller's choice, when there is one
 * @throws InputError when the file cannot be read to guess
 */
export async function resolveFormat(file: string, format?: InputFormat): Promise<InputFormat> {
  return format ?? BY_EXTENSION[extname(file).toLowerCase()] ?? (await sniffFormat(file));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Guesses the format from the first bytes of a file with an unknown extension. */
async function sniffFormat(file: string): Promise<InputFormat> {
  let head: string;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new InputError({ file }, fileErrorReason(error), { cause: error });
  }
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('[')) return 'json';
  if (!text.startsWith('{')) return 'csv';
  const firstLine = text.split(/\r?\n/, 1)[0];
  try {
    const value: unknown = JSON.parse(firstLine);
    return typeof value === 'object' && value !== null && 'portfolio' in value ? 'json' : 'ndjson';
  } catch {
    return 'json';
  }
}

/**
 * `--out FILE`: the kept result rows as JSON or CSV.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { AccountResult } from '../codecs';
import { unwritableReason, writeErrorReason } from './outputFile';

/** The file formats `--out` writes, by extension. */
export type OutFormat = 'json' | 'csv';

/**
 * The format for an `--out` path, or undefined when its extension is neither `.json` nor `.csv`.
 *
 * Example: `outFormatOf('rows.csv')` → `'csv'`
 *
 * @param path the file name given with `--out`
 */
export function outFormatOf(path: string): OutFormat | undefined {
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.csv' ? 'csv' : undefined;
}

/**
 * Checks an `--out` path before anything is read or sent: a `.json` or `.csv` name in a
 * directory that exists and may be written. Creates nothing.
 *
 * Example: `await checkOutFile('/nonexistent/dir/rows.json')` throws `--out /nonexistent/dir/rows.json: no such directory: /nonexistent/dir`
 *
 * @param path the file given with `--out`
 * @throws Error `--out <path>: <reason>`
 */
export async function checkOutFile(path: string): Promise<void> {
  if (outFormatOf(path) === undefined) throw new Error(`--out ${path}: the file name must end in .json or .csv`);
  const reason = await unwritableReason(path);
  if (reason !== undefined) throw new Error(`--out ${path}: ${reason}`);
}

/**
 * Renders rows as CSV: one column per field in first-appearance order, nested values
 * (margin_by_ccp, exceptions, …) as JSON text in their cell, RFC 4180 quoting.
 *
 * Example: `rowsToCsv([{ account_code: 'A', initial_margin: 12 }])` → `'account_code,initial_margin\r\nA,12\r\n'`
 *
 * @param rows the result rows
 */
export function rowsToCsv(rows: readonly AccountResult[]): string {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  const lines = [columns.map(csvCell).join(',')];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    lines.push(columns.map((c) => csvCell(cellText(record[c]))).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes rows to `path` as JSON (an array) or CSV, chosen by the extension.
 *
 * Example: `await writeRows('rows.json', rows)`
 *
 * @param path `.json` or `.csv` file
 * @param rows the kept result rows (fresh master rows and their sub-account rows)
 * @throws Error `--out <path>: <reason>` when the file cannot be written
 */
export async function writeRows(path: string, rows: readonly AccountResult[]): Promise<void> {
  const format = outFormatOf(path);
  if (format === undefined) throw new TypeError(`--out ${path}: the file name must end in .json or .csv`);
  try {
    await writeFile(path, format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : rowsToCsv(rows));
  } catch (error) {
    throw new Error(`--out ${path}: ${writeErrorReason(error, path)}`, { cause: error });
  }
}

/**
 * The error of a portfolio file that cannot be read. It names the file, the line (CSV and
 * NDJSON) or the JSON path, and the field, so a user can go straight to the cell.
 */
import { C9Error } from '../http/errors';

/** Where in a file a problem is. */
export interface InputErrorLocation {
  /** The file as the user named it. */
  readonly file: string;
  /** 1-based physical line of the file (CSV, NDJSON, JSON syntax errors). */
  readonly line?: number;
  /** 1-based column on that line (JSON syntax errors), shown as `file:line:column`. */
  readonly column?: number;
  /** The JSON path of the bad value, e.g. `portfolio[12].net_position` (JSON input). */
  readonly path?: string;
  /** The field (CSV column, position field) the problem is about. */
  readonly field?: string;
}

/**
 * A portfolio file could not be read: unreadable row, bad value, wrong shape, missing file.
 * The message reads `file:line: field: reason` (or `file: path: reason` for JSON, and
 * `file:line:column: reason` for a syntax error).
 *
 * Example: `sample.csv:7: net_position: expected a number or a numeric string, got "12a"`
 */
export class InputError extends C9Error {
  override readonly code: string = 'INPUT';
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly path: string | undefined;
  readonly field: string | undefined;

  constructor(location: InputErrorLocation, reason: string, options?: { cause?: unknown }) {
    super(`${formatLocation(location)}: ${reason}`, options);
    this.file = location.file;
    this.line = location.line;
    this.column = location.column;
    this.path = location.path;
    this.field = location.field;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), file: this.file, line: this.line, column: this.column, path: this.path, field: this.field };
  }
}

function formatLocation({ file, line, column, path, field }: InputErrorLocation): string {
  let where = line === undefined ? file : column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
  if (path !== undefined) where += `: ${path}`;
  else if (field !== undefined) where += `: ${field}`;
  return where;
}

/** Shows a user's value in a message: quoted, one line, cut short. */
export function showValue(value: unknown): string {
  // Not JSON.stringify for every value: it writes Infinity and NaN as "null".
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  const flat = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(flat);
}

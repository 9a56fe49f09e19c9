/**
 * Checks one position read from a file and turns a codec failure into an {@link InputError}
 * that points at the file, line or path, and field.
 */
import { decodeOrThrow, PositionCodec, type Position } from '../codecs';
import { DecodeError } from '../http/errors';
import { InputError, showValue, type InputErrorLocation } from './errors';

/**
 * Validates `value` as a position and returns it unchanged (the caller's own object).
 *
 * Example: `checkPosition(row, (field) => ({ file, line: 7, field }))`
 *
 * @param value the parsed row or JSON value
 * @param locate builds the error location for a field (`undefined` for the whole value)
 * @param emptyMeans how to explain a missing field (CSV: an empty cell or no such column)
 */
export function checkPosition(
  value: unknown,
  locate: (field: string | undefined) => InputErrorLocation,
  emptyMeans = 'missing',
): Position {
  try {
    return decodeOrThrow(PositionCodec, value, 'position');
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw new InputError(locate(firstField(error)), explain(error, value, emptyMeans), { cause: error });
  }
}

function firstField(error: DecodeError): string | undefined {
  const path = error.paths[0];
  return path === undefined || path === '(root)' ? undefined : path;
}

/** One line: the first bad field's reason, then how many other fields are bad too. */
function explain(error: DecodeError, value: unknown, emptyMeans: string): string {
  const field = firstField(error);
  if (field === undefined) return 'expected an object with account_code and the fields of one position';
  const record = value as Record<string, unknown>;
  const present = Object.prototype.hasOwnProperty.call(record, field) && record[field] !== undefined && record[field] !== null;
  let reason: string;
  if (!present) {
    reason = `${emptyMeans} (required)`;
  } else {
    const line = error.message.split('\n').find((l) => l.startsWith(`${field}: `));
    const expected = line === undefined ? 'invalid value' : line.slice(field.length + 2);
    reason = `${expected}, got ${showValue(record[field])}`;
  }
  const others = error.paths.slice(1).filter((p) => p !== '(root)');
  return others.length === 0 ? reason : `${reason} (also bad: ${others.join(', ')})`;
}

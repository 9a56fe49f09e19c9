/**
 * Parsers of option values, each throwing commander's InvalidArgumentError with a reason.
 */
import { InvalidArgumentError } from 'commander';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration: a number of milliseconds (`500`) or a number with a unit (`250ms`,
 * `2s`, `1.5m`, `1h`). Returns milliseconds.
 *
 * Example: `parseDuration('5m')` → `300000`
 *
 * @param value the text given on the command line
 */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!match) throw new InvalidArgumentError('expected a duration such as 500, 250ms, 2s, 5m or 1h');
  const ms = Number(match[1]) * UNITS[(match[2] ?? 'ms').toLowerCase()];
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError('expected a duration greater than zero');
  return Math.round(ms);
}

/**
 * Parses a positive integer (`1`, `20`).
 *
 * Example: `parsePositiveInt('4')` → `4`
 *
 * @param value the text given on the command line
 */
export function parsePositiveInt(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return Number(value);
}

/**
 * Parses a port number (`0` asks the system for a free one).
 *
 * Example: `parsePort('8080')` → `8080`
 *
 * @param value the text given on the command line
 */
export function parsePort(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return Number(value);
}

/**
 * Parses a number >= 0 (`0.5`, `30`).
 *
 * Example: `parseNonNegative('2.5')` → `2.5`
 *
 * @param value the text given on the command line
 */
export function parseNonNegative(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of at least 0');
  return n;
}

/**
 * Parses a number > 0 (`0.5`, `20`).
 *
 * Example: `parsePositiveNumber('0.5')` → `0.5`
 *
 * @param value the text given on the command line
 */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number greater than 0');
  return n;
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/**
 * Contract expiries: every form real files carry, reduced to a contract month.
 *
 * The emulator margins by contract month, so the day part (`YYYYMMDD`, or the `00` of
 * `YYYYMM00`) only has to be a plausible day; it does not select a different contract.
 */

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** A contract month as the number YYYYMM, e.g. 202612. */
export type ContractMonth = number;

function month(year: number, m: number): ContractMonth | undefined {
  return m >= 1 && m <= 12 && year >= 1900 && year <= 2999 ? year * 100 + m : undefined;
}

/**
 * The contract month of an expiry written as `YYYYMM`, `YYYYMMDD`, `YYYYMM00` or `MMM-YY`
 * (month names in any case, e.g. `DEC-26` or `Dec-26`); undefined when it is none of them.
 *
 * Example: `parseExpiry('20261200')` and `parseExpiry('DEC-26')` are both 202612.
 *
 * @param raw the `contract_expiry` of a position, trimmed or not
 */
export function parseExpiry(raw: string): ContractMonth | undefined {
  const s = raw.trim().toUpperCase();
  let m = /^(\d{4})(\d{2})$/.exec(s);
  if (m) return month(Number(m[1]), Number(m[2]));
  m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (m) {
    const day = Number(m[3]);
    if (day > 31) return undefined;
    return month(Number(m[1]), Number(m[2]));
  }
  m = /^([A-Z]{3})-?(\d{2})$/.exec(s);
  if (m) {
    const idx = MONTHS.indexOf(m[1]);
    return idx < 0 ? undefined : month(2000 + Number(m[2]), idx + 1);
  }
  return undefined;
}

/**
 * Months between two contract months (b − a).
 *
 * Example: `monthsBetween(202612, 202701)` is 1.
 *
 * @param a the earlier month
 * @param b the later month
 */
export function monthsBetween(a: ContractMonth, b: ContractMonth): number {
  return (Math.floor(b / 100) - Math.floor(a / 100)) * 12 + ((b % 100) - (a % 100));
}

/**
 * The listed month nearest to `wanted`; on a tie the earlier one.
 *
 * Example: with quarterly listings `nearestListed(202604, [202603, 202606])` is 202603.
 *
 * @param wanted the month the position asked for
 * @param listed the contract's listed months, ascending, not empty
 */
export function nearestListed(wanted: ContractMonth, listed: readonly ContractMonth[]): ContractMonth {
  let best = listed[0];
  for (const candidate of listed) {
    if (Math.abs(monthsBetween(wanted, candidate)) < Math.abs(monthsBetween(wanted, best))) best = candidate;
  }
  return best;
}

/**
 * The expiry date the emulator gives a contract month: the 15th, at midnight UTC, in ms.
 *
 * Example: `expiryTime(202612) === Date.UTC(2026, 11, 15)`
 *
 * @param m the contract month
 */
export function expiryTime(m: ContractMonth): number {
  return Date.UTC(Math.floor(m / 100), (m % 100) - 1, 15);
}

/**
 * A valuation date written as YYYYMMDD, at midnight UTC, in ms; undefined when it is no calendar date.
 *
 * Example: `dateTime(20260102) === Date.UTC(2026, 0, 2)`; `dateTime(20260231)` is undefined.
 *
 * @param yyyymmdd the date as an integer
 */
export function dateTime(yyyymmdd: number): number | undefined {
  if (!Number.isInteger(yyyymmdd)) return undefined;
  const y = Math.floor(yyyymmdd / 10000);
  const mo = Math.floor(yyyymmdd / 100) % 100;
  const d = yyyymmdd % 100;
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && y >= 1900 ? t : undefined;
}

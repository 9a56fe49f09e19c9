/**
 * The emulator's FX table: fixed rates, so the same payload always gives the same figures.
 * Values are indicative, chosen once; they are emulator data, not market data.
 */

/** The result currencies the API accepts in `currency_code`. */
export const CURRENCY_CODES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'AUD', 'CAD', 'BRL', 'CNH', 'HKD', 'INR', 'NZD'] as const;
export type CurrencyCode = (typeof CURRENCY_CODES)[number];

/** US dollars per one unit of each currency. */
export const USD_PER_UNIT: Readonly<Record<CurrencyCode, number>> = {
  USD: 1,
  EUR: 1.08,
  GBP: 1.27,
  JPY: 0.0067,
  CHF: 1.13,
  AUD: 0.66,
  CAD: 0.73,
  BRL: 0.18,
  CNH: 0.138,
  HKD: 0.128,
  INR: 0.012,
  NZD: 0.6,
};

/**
 * True when `code` is one of {@link CURRENCY_CODES}.
 *
 * Example: `isCurrencyCode('EUR')` is true; `isCurrencyCode('XAU')` is false.
 *
 * @param code any value
 */
export function isCurrencyCode(code: unknown): code is CurrencyCode {
  return typeof code === 'string' && (CURRENCY_CODES as readonly string[]).includes(code);
}

/**
 * Units of `to` per one unit of `from` (the factor that converts an amount in `from` into `to`).
 *
 * Example: `fxRate('EUR', 'USD')` is 1.08.
 *
 * @param from the currency an amount is in
 * @param to the currency wanted
 */
export function fxRate(from: CurrencyCode, to: CurrencyCode): number {
  return from === to ? 1 : USD_PER_UNIT[from] / USD_PER_UNIT[to];
}

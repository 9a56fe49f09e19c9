/**
 * The emulator's contract table: every contract it can margin, with fixed parameters.
 *
 * These are emulator data chosen once to be plausible, not exchange or vendor data: the
 * point is figures that are deterministic, of a believable size, and easy to check by hand.
 * Shipped as code (not read from disk) so the emulator works from the installed package.
 *
 * Units: `price` is in price units of the contract (e.g. USD/bbl); `multiplier` converts one
 * price unit of one lot into `currency`; `scanRange` is the loss of one lot, in `currency`,
 * for a full price scan move, so the price scan range is `scanRange / multiplier`.
 */
import type { CurrencyCode } from './fx';
import type { ContractMonth } from './expiry';

/** Months a contract is listed in: every month from `from` to `to`, or only `months` of the year. */
export interface ListedExpiries {
  readonly from: ContractMonth;
  readonly to: ContractMonth;
  /** Calendar months (1–12) listed; all when absent. */
  readonly months?: readonly number[];
}

/** One contract of the table. Futures and options are separate entries (an option is its own combined commodity here). */
export interface ContractSpec {
  readonly exchange: string;
  readonly code: string;
  readonly name: string;
  readonly kind: 'future' | 'option';
  readonly clearingOrg: string;
  readonly sector: string;
  readonly subSector: string;
  readonly currency: CurrencyCode;
  readonly multiplier: number;
  /** Futures price (of the underlying future, for options). */
  readonly price: number;
  /** Loss of one lot for a full price scan move, in `currency`. */
  readonly scanRange: number;
  /** Futures: share of one scan range credited per offsetting long/short lot pair across months. */
  readonly spreadCredit: number;
  /** Options: annual volatility of the underlying (0.35 = 35 %). */
  readonly volatility: number;
  /** Options: minimum charge per short lot, in `currency`. */
  readonly shortOptionMinimum: number;
  readonly expiries: ListedExpiries;
}

/** Risk-free rate used to discount option values. */
export const RISK_FREE_RATE = 0.03;
/** Volatility scan: scenarios move volatility up and down by this share of it (σ × (1 ± 0.25)). */
export const VOLATILITY_SCAN = 0.25;
/** Extreme scenarios move the price by this many scan ranges… */
export const EXTREME_MOVE = 3;
/** …and cover this share of the loss. */
export const EXTREME_COVER = 0.35;
/** Accounts of these types are speculators and pay {@link SPECULATOR_FACTOR} times the hedger figure. */
export const SPECULATOR_TYPES: readonly string[] = ['S', 'NHRP'];
export const SPECULATOR_FACTOR = 1.1;
/** The valuation date when the payload has neither `bdate` nor `price_date` (fixed, so figures never drift with the wall clock). */
export const DEFAULT_VALUATION_DATE = 20260102;

const MONTHLY: ListedExpiries = { from: 202601, to: 202812 };
const QUARTERLY: ListedExpiries = { from: 202603, to: 202812, months: [3, 6, 9, 12] };

function future(
  exchange: string,
  code: string,
  name: string,
  clearingOrg: string,
  sector: string,
  subSector: string,
  currency: CurrencyCode,
  multiplier: number,
  price: number,
  scanRange: number,
  spreadCredit: number,
  expiries: ListedExpiries = MONTHLY,
): ContractSpec {
  return { exchange, code, name, kind: 'future', clearingOrg, sector, subSector, currency, multiplier, price, scanRange, spreadCredit, volatility: 0, shortOptionMinimum: 0, expiries };
}

function option(
  exchange: string,
  code: string,
  name: string,
  clearingOrg: string,
  sector: string,
  subSector: string,
  currency: CurrencyCode,
  multiplier: number,
  price: number,
  scanRange: number,
  volatility: number,
  shortOptionMinimum: number,
  expiries: ListedExpiries = MONTHLY,
): ContractSpec {
  return { exchange, code, name, kind: 'option', clearingOrg, sector, subSector, currency, multiplier, price, scanRange, spreadCredit: 0, volatility, shortOptionMinimum, expiries };
}

/** The table. Every contract of the vendor's sample portfolio is here, plus a few common ones. */
export const CONTRACTS: readonly ContractSpec[] = [
  future('NYMEX', 'CL', 'Light Sweet Crude Oil (WTI) Futures', 'CME', 'Energy', 'Oil', 'USD', 1000, 70, 6000, 0.8),
  future('NYMEX', 'CS', 'WTI Crude Oil Calendar Swap Futures', 'CME', 'Energy', 'Oil', 'USD', 1000, 70, 5400, 0.8),
  option('NYMEX', 'LO', 'Crude Oil Options', 'CME', 'Energy', 'Oil', 'USD', 1000, 70, 6000, 0.35, 300),
  future('ICE.EU', 'B', 'Brent Crude Futures', 'ICEU', 'Energy', 'Oil', 'USD', 1000, 74, 6200, 0.8),
  option('ICE.EU', 'TFO', 'Dutch TTF Natural Gas Options', 'ICEU', 'Energy', 'Natural Gas', 'EUR', 720, 250, 36000, 0.6, 1500),
  future('ICE.EU', 'JKM', 'LNG Japan/Korea Marker (Platts) Futures', 'ICEU', 'Energy', 'Natural Gas', 'USD', 10000, 12, 24000, 0.75),
  option('ICE.EU', 'PHE', 'Henry Hub Natural Gas Options', 'ICEU', 'Energy', 'Natural Gas', 'USD', 2500, 3.5, 1750, 0.55, 90),
  future('ICE.EU', 'BOB', 'Eurobob Oxy NWE Barges Futures', 'ICEU', 'Energy', 'Refined Products', 'USD', 100, 780, 7800, 0.8),
  future('ICE.EU', 'BAR', 'Marine Fuel 0.5% Barges Futures', 'ICEU', 'Energy', 'Refined Products', 'USD', 100, 480, 6720, 0.8),
  future('ICE.EU', 'SMT', 'Singapore Mogas 92 Unleaded Futures', 'ICEU', 'Energy', 'Refined Products', 'USD', 1000, 82, 8200, 0.8),
  future('ICE.EU', 'M', 'UK Natural Gas Futures', 'ICEU', 'Energy', 'Natural Gas', 'GBP', 300, 95, 5700, 0.85),
  future('LME', 'AHD', 'Primary Aluminium Futures', 'LMEC', 'Metals', 'Base Metals', 'USD', 25, 2400, 6000, 0.9),
  future('LME', 'AAD', 'Aluminium Alloy Futures', 'LMEC', 'Metals', 'Base Metals', 'USD', 20, 2200, 4400, 0.9),
  future('EUREX', 'FDAX', 'DAX Futures', 'ECAG', 'Equity', 'Index', 'EUR', 25, 20000, 40000, 0.7, QUARTERLY),
  future('ASX', 'XT', '10 Year Treasury Bond Futures', 'ASXCLF', 'Interest Rates', 'Bonds', 'AUD', 10000, 95.75, 4500, 0.7, QUARTERLY),
];

const BY_KEY: ReadonlyMap<string, ContractSpec> = new Map(CONTRACTS.map((c) => [`${c.exchange}|${c.code}`, c]));
const LISTED: ReadonlyMap<ContractSpec, readonly ContractMonth[]> = new Map(CONTRACTS.map((c) => [c, listMonths(c.expiries)]));

function listMonths({ from, to, months }: ListedExpiries): ContractMonth[] {
  const out: ContractMonth[] = [];
  for (let m = from; m <= to; m = m % 100 === 12 ? m + 89 : m + 1) {
    if (!months || months.includes(m % 100)) out.push(m);
  }
  return out;
}

/**
 * The contract with this exchange and code (both compared without regard to case), if listed.
 *
 * Example: `findContract('nymex', 'cl')?.name` is 'Light Sweet Crude Oil (WTI) Futures'.
 *
 * @param exchange `exchange_code` of a position
 * @param code `contract_code` of a position
 */
export function findContract(exchange: string, code: string): ContractSpec | undefined {
  return BY_KEY.get(`${exchange.trim().toUpperCase()}|${code.trim().toUpperCase()}`);
}

/**
 * The listed contract months of a contract, ascending.
 *
 * Example: `listedMonths(findContract('EUREX', 'FDAX')!)` is [202603, 202606, …, 202812].
 *
 * @param spec a contract of the table
 */
export function listedMonths(spec: ContractSpec): readonly ContractMonth[] {
  return LISTED.get(spec) ?? listMonths(spec.expiries);
}

/**
 * Options margin of one contract: a SPAN-like scan of 16 price/volatility scenarios, each
 * valued with Black-76, with a minimum charge per short lot.
 */
import { black76, type OptionRight } from './black76';
import { EXTREME_COVER, EXTREME_MOVE, RISK_FREE_RATE, VOLATILITY_SCAN, type ContractSpec } from './contracts';
import { expiryTime, type ContractMonth } from './expiry';

/** One option series held: net lots of a month, right and strike. */
export interface OptionSeries {
  readonly month: ContractMonth;
  readonly right: OptionRight;
  readonly strike: number;
  readonly net: number;
}

/** A risk scenario: price move in scan ranges, volatility move direction, share of the loss covered. */
export interface RiskScenario {
  readonly price: number;
  readonly vol: -1 | 0 | 1;
  readonly cover: number;
}

/** The 16 scenarios in SPAN's order: unchanged, ±1/3, ±2/3, ±3/3 of the scan range, each with volatility up then down, then the two extreme moves. */
export const SCENARIOS: readonly RiskScenario[] = [
  { price: 0, vol: 1, cover: 1 },
  { price: 0, vol: -1, cover: 1 },
  ...[1 / 3, 2 / 3, 1].flatMap((p): RiskScenario[] => [
    { price: p, vol: 1, cover: 1 },
    { price: p, vol: -1, cover: 1 },
    { price: -p, vol: 1, cover: 1 },
    { price: -p, vol: -1, cover: 1 },
  ]),
  { price: EXTREME_MOVE, vol: 0, cover: EXTREME_COVER },
  { price: -EXTREME_MOVE, vol: 0, cover: EXTREME_COVER },
];

/** The options figures of one contract, in the contract's currency. */
export interface OptionsMargin {
  /** max(scenario risk, short option minimum). */
  readonly margin: number;
  /** Σ over series of each series' own margin: the figure with no offsets between series. */
  readonly gross: number;
  /** The worst scenario loss (never below 0). */
  readonly scenarioRisk: number;
  /** 1-based number of the worst scenario, 0 when no scenario loses. */
  readonly worstScenario: number;
  readonly shortOptionMinimum: number;
  /** Current value of the options held: long positive, short negative. */
  readonly liquidationValue: number;
}

const MS_PER_YEAR = 365 * 86_400_000;

/**
 * Years (of 365 days) from the valuation time to the series' expiry (the 15th of its month).
 *
 * Example: `yearsToExpiry(202612, Date.UTC(2026, 0, 2))` is 347/365.
 *
 * @param month the series' contract month
 * @param valuationTime the valuation date, ms since the epoch
 */
export function yearsToExpiry(month: ContractMonth, valuationTime: number): number {
  return (expiryTime(month) - valuationTime) / MS_PER_YEAR;
}

function scenarioLosses(spec: ContractSpec, series: readonly OptionSeries[], valuationTime: number): number[] {
  const priceScan = spec.scanRange / spec.multiplier;
  const losses = SCENARIOS.map(() => 0);
  for (const s of series) {
    const years = yearsToExpiry(s.month, valuationTime);
    const base = black76(s.right, spec.price, s.strike, years, RISK_FREE_RATE, spec.volatility);
    SCENARIOS.forEach((sc, i) => {
      const value = black76(s.right, spec.price + sc.price * priceScan, s.strike, years, RISK_FREE_RATE, spec.volatility * (1 + sc.vol * VOLATILITY_SCAN));
      losses[i] -= s.net * spec.multiplier * (value - base) * sc.cover;
    });
  }
  return losses;
}

function marginOf(spec: ContractSpec, series: readonly OptionSeries[], valuationTime: number): Omit<OptionsMargin, 'gross' | 'liquidationValue'> {
  const losses = scenarioLosses(spec, series, valuationTime);
  let scenarioRisk = 0;
  let worstScenario = 0;
  losses.forEach((loss, i) => {
    if (loss > scenarioRisk) {
      scenarioRisk = loss;
      worstScenario = i + 1;
    }
  });
  const shortLots = series.reduce((sum, s) => sum + Math.max(-s.net, 0), 0);
  const shortOptionMinimum = shortLots * spec.shortOptionMinimum;
  return { margin: Math.max(scenarioRisk, shortOptionMinimum), scenarioRisk, worstScenario, shortOptionMinimum };
}

/**
 * Margins the option series held in one option contract.
 *
 * Every series is revalued with Black-76 in each of the 16 {@link SCENARIOS}; the portfolio's
 * loss in a scenario is the sum over series, and the scanning risk is the worst loss. The margin
 * is that, or the short option minimum (per short lot) when higher.
 *
 * Example: `optionsMargin(findContract('NYMEX','LO')!, [{ month: 202612, right: 'CALL', strike: 80, net: -5 }], Date.UTC(2026, 0, 2))`
 *
 * @param spec the contract (an option)
 * @param series net lots per series (zero nets may be left out)
 * @param valuationTime the valuation date, ms since the epoch
 */
export function optionsMargin(spec: ContractSpec, series: readonly OptionSeries[], valuationTime: number): OptionsMargin {
  const whole = marginOf(spec, series, valuationTime);
  let gross = 0;
  let liquidationValue = 0;
  for (const s of series) {
    gross += marginOf(spec, [s], valuationTime).margin;
    const years = yearsToExpiry(s.month, valuationTime);
    liquidationValue += s.net * spec.multiplier * black76(s.right, spec.price, s.strike, years, RISK_FREE_RATE, spec.volatility);
  }
  return { ...whole, gross, liquidationValue };
}

/**
 * Futures margin of one contract: scanning risk per contract month, less a calendar-spread credit.
 */
import type { ContractSpec } from './contracts';
import type { ContractMonth } from './expiry';

/** The futures figures of one contract, in the contract's currency. */
export interface FuturesMargin {
  /** Scanning risk less the spread credit. */
  readonly margin: number;
  /** Scanning risk with no offsets: Σ |net per month| × scan range. */
  readonly gross: number;
  readonly spreadCredit: number;
}

/**
 * Margins the net futures position of each contract month of one contract.
 *
 * Scanning risk is |net| × scan range per month. Long lots of some months offset short lots
 * of others: `spreadCredit × min(long lots, short lots) × scan range` comes off.
 *
 * Example: ICE.EU B (scan 6200, credit 0.8), +30 Dec-26 and −20 Jan-27:
 * gross 50 × 6200 = 310,000; credit 0.8 × 20 × 6200 = 99,200; margin 210,800.
 *
 * @param spec the contract (a future)
 * @param netByMonth net lots per contract month (negative = short)
 */
export function futuresMargin(spec: ContractSpec, netByMonth: ReadonlyMap<ContractMonth, number>): FuturesMargin {
  let longLots = 0;
  let shortLots = 0;
  for (const net of netByMonth.values()) {
    if (net > 0) longLots += net;
    else shortLots -= net;
  }
  const gross = (longLots + shortLots) * spec.scanRange;
  const spreadCredit = spec.spreadCredit * Math.min(longLots, shortLots) * spec.scanRange;
  return { margin: gross - spreadCredit, gross, spreadCredit };
}

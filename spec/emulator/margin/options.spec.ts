import { findContract, RISK_FREE_RATE, VOLATILITY_SCAN, EXTREME_MOVE, EXTREME_COVER } from '../../../src/emulator/margin/contracts';
import { optionsMargin, SCENARIOS } from '../../../src/emulator/margin/options';

// An independent standard normal CDF for the spec: Simpson's rule on the density from 0 to |x|
// (2,000 intervals: error below 1e-12, far below a cent on the figures here). Deliberately not the
// rational approximation the emulator uses.
function cdf(x: number): number {
  const n = 2000;
  const h = Math.abs(x) / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const t = i * h;
    s += (Math.exp((-t * t) / 2) / Math.sqrt(2 * Math.PI)) * (i === 0 || i === n ? 1 : i % 2 ? 4 : 2);
  }
  const half = (s * h) / 3;
  return x >= 0 ? 0.5 + half : 0.5 - half;
}

function callValue(F: number, K: number, T: number, r: number, sigma: number): number {
  const sd = sigma * Math.sqrt(T);
  const d1 = (Math.log(F / K) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  return Math.exp(-r * T) * (F * cdf(d1) - K * cdf(d2));
}

function putValue(F: number, K: number, T: number, r: number, sigma: number): number {
  const sd = sigma * Math.sqrt(T);
  const d1 = (Math.log(F / K) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  return Math.exp(-r * T) * (K * cdf(-d2) - F * cdf(-d1));
}

describe('optionsMargin', () => {
  const valuation = Date.UTC(2026, 0, 2); // bdate 20260102

  it('should margin a short call at its worst scenario loss', () => {
    // Short 5 NYMEX LO Dec-26 80 calls, valued on 2026-01-02.
    // Table: F = 70, multiplier 1,000, scan range 6,000 → price scan 6.00; σ = 0.35;
    //        r = 0.03; volatility scan ±25 % → σ up 0.4375, σ down 0.2625; short option minimum 300/lot.
    // Expiry: the 15th of the month, 2026-12-15; 2026-01-02 → 2026-12-15 is 347 days, T = 347/365 = 0.950685.
    //
    // Base value, σ = 0.35:  σ√T = 0.341257
    //   d1 = (ln(70/80) + 0.341257²/2) / 0.341257 = −0.220658,  d2 = d1 − 0.341257 = −0.561919
    //   N(d1) = 0.412679, N(d2) = 0.287086
    //   C = e^(−0.03·0.950685) · (70·0.412679 − 80·0.287086) = 0.971886 · 5.920676 = 5.754224
    // Scenario 11 (price +3/3 scan = 76, σ up 0.4375): σ√T = 0.426571
    //   d1 = 0.093044, d2 = −0.333532, N(d1) = 0.537066, N(d2) = 0.369366
    //   C = 0.971886 · (76·0.537066 − 80·0.369366) = 10.950861
    //   loss of the short = 5 lots × 1,000 × (10.950861 − 5.754224) = 25,983.18
    // The other scenarios lose less: +2/3 up (74, 0.4375) 20,883.87; extreme +3 scans (88, σ 0.35)
    // 35 % × (15.372373 − 5.754224) × 5,000 = 16,831.76; unchanged price, σ up 11,428.50; …
    // Short option minimum: 5 × 300 = 1,500 < 25,983.18, so the margin is 25,983.18.
    const lo = findContract('NYMEX', 'LO')!;
    expect([lo.price, lo.multiplier, lo.scanRange, lo.volatility, lo.shortOptionMinimum]).toEqual([70, 1000, 6000, 0.35, 300]);
    expect([RISK_FREE_RATE, VOLATILITY_SCAN, EXTREME_MOVE, EXTREME_COVER]).toEqual([0.03, 0.25, 3, 0.35]);

    const T = 347 / 365;
    const priceScan = 6000 / 1000;
    const base = callValue(70, 80, T, 0.03, 0.35);
    expect(base).toBeCloseTo(5.754224, 5);
    const worst = 5 * 1000 * (callValue(70 + priceScan, 80, T, 0.03, 0.35 * 1.25) - base);
    expect(worst).toBeCloseTo(25983.18, 2);
    const extreme = 0.35 * 5 * 1000 * (callValue(70 + 3 * priceScan, 80, T, 0.03, 0.35) - base);
    expect(extreme).toBeCloseTo(16831.76, 2);

    const m = optionsMargin(lo, [{ month: 202612, right: 'CALL', strike: 80, net: -5 }], valuation);
    expect(m.worstScenario).toBe(11);
    expect(SCENARIOS[10]).toEqual({ price: 1, vol: 1, cover: 1 });
    expect(m.scenarioRisk).toBeCloseTo(worst, 2);
    expect(m.shortOptionMinimum).toBe(1500);
    expect(m.margin).toBeCloseTo(25983.18, 2);
    // Liquidation value of the short: −5 × 1,000 × 5.754224 = −28,771.12.
    expect(m.liquidationValue).toBeCloseTo(-28771.12, 2);
  });

  it('should charge the short option minimum when the scenarios lose less', () => {
    // Short 10 LO Dec-26 20 puts: with F = 70 even the worst move (−3/3 → 64, or the extreme
    // −3 scans → 52) leaves them far out of the money, so each scenario loses only cents:
    // the value at F = 52 (σ 0.35) is computed below. Minimum: 10 × 300 = 3,000.
    const T = 347 / 365;
    const base = putValue(70, 20, T, 0.03, 0.35);
    const extremeLoss = 0.35 * 10 * 1000 * (putValue(52, 20, T, 0.03, 0.35) - base);
    const downLoss = 10 * 1000 * (putValue(64, 20, T, 0.03, 0.35 * 1.25) - base);
    expect(Math.max(extremeLoss, downLoss)).toBeLessThan(3000);
    const m = optionsMargin(findContract('NYMEX', 'LO')!, [{ month: 202612, right: 'PUT', strike: 20, net: -10 }], valuation);
    expect(m.scenarioRisk).toBeCloseTo(Math.max(extremeLoss, downLoss), 2);
    expect(m.margin).toBe(3000);
  });

  it('should offset a long and a short series in the same scenario', () => {
    // A call spread: long 5 LO Dec-26 75 calls, short 5 80 calls. Together they lose less
    // than the short leg alone, and `gross` (each series alone) is at least the margin.
    const lo = findContract('NYMEX', 'LO')!;
    const alone = optionsMargin(lo, [{ month: 202612, right: 'CALL', strike: 80, net: -5 }], valuation);
    const spread = optionsMargin(lo, [
      { month: 202612, right: 'CALL', strike: 75, net: 5 },
      { month: 202612, right: 'CALL', strike: 80, net: -5 },
    ], valuation);
    expect(spread.margin).toBeLessThan(alone.margin);
    expect(spread.gross).toBeGreaterThanOrEqual(spread.margin);
    expect(spread.margin).toBeGreaterThanOrEqual(1500);
  });
});

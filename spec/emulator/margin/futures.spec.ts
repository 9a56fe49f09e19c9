import { findContract } from '../../../src/emulator/margin/contracts';
import { futuresMargin } from '../../../src/emulator/margin/futures';

describe('futuresMargin', () => {
  it('should charge a single futures position |net| × scan range', () => {
    // Table: NYMEX CL, scan range 6,000 USD per lot.
    // Long 10 lots Dec-26: scanning risk = 10 × 6,000 = 60,000; nothing to offset.
    const cl = findContract('NYMEX', 'CL')!;
    expect(cl.scanRange).toBe(6000);
    const m = futuresMargin(cl, new Map([[202612, 10]]));
    expect(m).toEqual({ margin: 60000, gross: 60000, spreadCredit: 0 });
  });

  it('should credit a calendar spread at the spread-credit rate', () => {
    // Table: ICE.EU B, scan 6,200 USD, spread credit 0.8.
    // +30 Dec-26, −20 Jan-27.
    //   gross  = (30 + 20) × 6,200          = 310,000
    //   credit = 0.8 × min(30, 20) × 6,200  =  99,200
    //   margin = 310,000 − 99,200           = 210,800
    const b = findContract('ICE.EU', 'B')!;
    expect([b.scanRange, b.spreadCredit]).toEqual([6200, 0.8]);
    const m = futuresMargin(b, new Map([[202612, 30], [202701, -20]]));
    expect(m.gross).toBe(310000);
    expect(m.spreadCredit).toBeCloseTo(99200, 6);
    expect(m.margin).toBeCloseTo(210800, 6);
  });

  it('should give no credit when every month is on the same side', () => {
    // +5 Dec-26, +7 Jan-27 on CL: 12 × 6,000 = 72,000, min(12, 0) = 0 spreads.
    const m = futuresMargin(findContract('NYMEX', 'CL')!, new Map([[202612, 5], [202701, 7]]));
    expect(m).toEqual({ margin: 72000, gross: 72000, spreadCredit: 0 });
  });
});

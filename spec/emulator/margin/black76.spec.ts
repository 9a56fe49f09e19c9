import { black76, normCdf } from '../../../src/emulator/margin/black76';

describe('normCdf', () => {
  it('should match known quantiles of the standard normal', () => {
    expect(normCdf(0)).toBe(0.5);
    expect(normCdf(1.959963984540054)).toBeCloseTo(0.975, 12);
    expect(normCdf(-1.959963984540054)).toBeCloseTo(0.025, 12);
    expect(normCdf(1)).toBeCloseTo(0.8413447460685429, 12);
    // Tails stay accurate relative to their size, not just absolutely.
    expect(normCdf(-8) / 6.22096057427178e-16).toBeCloseTo(1, 6);
    expect(normCdf(40)).toBe(1);
  });
});

describe('black76', () => {
  it('should satisfy put-call parity', () => {
    // C − P = e^(−rT) (F − K)
    const [F, K, T, r, s] = [70, 80, 0.95, 0.03, 0.35];
    expect(black76('CALL', F, K, T, r, s) - black76('PUT', F, K, T, r, s)).toBeCloseTo(Math.exp(-r * T) * (F - K), 10);
  });

  it('should give the discounted intrinsic value at expiry', () => {
    expect(black76('CALL', 90, 80, 0, 0.03, 0.35)).toBe(10);
    expect(black76('PUT', 90, 80, 0, 0.03, 0.35)).toBe(0);
  });
});

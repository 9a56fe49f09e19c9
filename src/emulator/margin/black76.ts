/**
 * Black-76: the value of a European option on a futures price.
 */

/**
 * The standard normal cumulative distribution function, to about double precision
 * (Hart's rational approximation as given by G. West, "Better approximations to cumulative
 * normal functions", 2005). Written out here because Node has no `erf`.
 *
 * Example: `normCdf(0)` is 0.5; `normCdf(1.959963985)` is 0.975 to 9 digits.
 *
 * @param x any real number
 */
export function normCdf(x: number): number {
  const z = Math.abs(x);
  let c: number;
  if (z > 37) {
    c = 0;
  } else {
    const e = Math.exp(-(z * z) / 2);
    if (z < 7.07106781186547) {
      let n = 3.52624965998911e-2 * z + 0.700383064443688;
      n = n * z + 6.37396220353165;
      n = n * z + 33.912866078383;
      n = n * z + 112.079291497871;
      n = n * z + 221.213596169931;
      n = n * z + 220.206867912376;
      let d = 8.83883476483184e-2 * z + 1.75566716318264;
      d = d * z + 16.064177579207;
      d = d * z + 86.7807322029461;
      d = d * z + 296.564248779674;
      d = d * z + 637.333633378831;
      d = d * z + 793.826512519948;
      d = d * z + 440.413735824752;
      c = (e * n) / d;
    } else {
      let f = z + 0.65;
      f = z + 4 / f;
      f = z + 3 / f;
      f = z + 2 / f;
      f = z + 1 / f;
      c = e / f / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

/** Call or put. */
export type OptionRight = 'CALL' | 'PUT';

/**
 * The Black-76 value of one unit of a European option on a future.
 * At or past expiry (t ≤ 0) or with no volatility the value is the discounted intrinsic value.
 *
 * Example: `black76('CALL', 70, 80, 0.95, 0.03, 0.35)`
 *
 * @param right CALL or PUT
 * @param forward the futures price (kept above zero)
 * @param strike the strike
 * @param years time to expiry in years
 * @param rate the continuously compounded risk-free rate
 * @param vol the annual volatility (0.35 = 35 %)
 */
export function black76(right: OptionRight, forward: number, strike: number, years: number, rate: number, vol: number): number {
  const f = Math.max(forward, 1e-9);
  const discount = Math.exp(-rate * Math.max(years, 0));
  if (years <= 0 || vol <= 0) {
    return discount * Math.max(right === 'CALL' ? f - strike : strike - f, 0);
  }
  const sd = vol * Math.sqrt(years);
  const d1 = (Math.log(f / strike) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  return right === 'CALL'
    ? discount * (f * normCdf(d1) - strike * normCdf(d2))
    : discount * (strike * normCdf(-d2) - f * normCdf(-d1));
}

'use strict';
/** Small numeric and timing helpers of the benchmark. */

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** @param {number[]} xs */
function mean(xs) {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** @param {number[]} xs @param {number} p 0..100 */
function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

/** Milliseconds since an arbitrary origin, sub-millisecond. */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a full GC when node was started with --expose-gc (run.js is), so one measurement's garbage is not collected during the next. */
function gc() {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
}

/** CPU time (user + system) of this process in microseconds. */
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** @param {number} bytes */
function mb(bytes) {
  return bytes / 1e6;
}

/** @param {number} x @param {number} [digits] */
function fmt(x, digits = 2) {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return x.toFixed(0);
  if (abs >= 100) return x.toFixed(Math.min(digits, 1));
  return x.toFixed(digits);
}

module.exports = { median, mean, percentile, nowMs, sleep, gc, cpuMicros, mb, fmt };

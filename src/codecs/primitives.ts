/**
 * Building blocks shared by the codecs: lenient numbers and "missing or null".
 */
import * as t from 'io-ts';

// Plain decimal notation only: "1,234", "NaN", "Infinity", "" and whitespace are refused
// because each has been seen to mean something other than the number it looks like.
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** True when `s` is a decimal number written the way the API writes them. */
export function isNumericString(s: string): boolean {
  return NUMERIC.test(s) && Number.isFinite(Number(s));
}

/**
 * A finite number, or a string holding one ("42.5"), decoded to a number. Encodes as number.
 */
export const Numeric = new t.Type<number, number, unknown>(
  'Numeric',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => {
    if (typeof u === 'number') return Number.isFinite(u) ? t.success(u) : t.failure(u, c, 'expected a finite number');
    if (typeof u === 'string' && isNumericString(u)) return t.success(Number(u));
    return t.failure(u, c, 'expected a number or a numeric string');
  },
  (n) => n,
);

/**
 * A position quantity as the caller wrote it: a finite number or a numeric string.
 * It is validated but never converted, because the payload a user gives is the payload sent.
 */
export const NumericInput = new t.Type<number | string, number | string, unknown>(
  'NumericInput',
  (u): u is number | string =>
    (typeof u === 'number' && Number.isFinite(u)) || (typeof u === 'string' && isNumericString(u.trim())),
  (u, c) =>
    (typeof u === 'number' && Number.isFinite(u)) || (typeof u === 'string' && isNumericString(u.trim()))
      ? t.success(u)
      : t.failure(u, c, 'expected a number or a numeric string'),
  (v) => v,
);

/**
 * An optional field where `null` and "absent" mean the same thing: both decode to
 * `undefined`, so callers test one case, not two.
 *
 * @param codec the codec of the value when it is present
 */
export function nullish<C extends t.Mixed>(codec: C): t.Type<t.TypeOf<C> | undefined, t.OutputOf<C> | undefined, unknown> {
  return new t.Type<t.TypeOf<C> | undefined, t.OutputOf<C> | undefined, unknown>(
    `nullish(${codec.name})`,
    // null is refused even when `codec` would take it (t.unknown): decode turns null into
    // undefined, and decodeOrThrow's `is` fast path must never keep a value decode would change.
    (u): u is t.TypeOf<C> | undefined => u === undefined || (u !== null && codec.is(u)),
    (u, c) => (u === undefined || u === null ? t.success(undefined) : codec.validate(u, c)),
    (a) => (a === undefined ? undefined : codec.encode(a)),
  );
}

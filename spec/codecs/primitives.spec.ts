import * as t from 'io-ts';
import { decodeOrThrow } from '../../src/codecs/decode';
import { Numeric, NumericInput, isNumericString, nullish } from '../../src/codecs/primitives';
import { DecodeError } from '../../src/http/errors';

describe('Numeric', () => {
  it('should decode numbers and numeric strings to numbers', () => {
    const Row = t.type({ a: Numeric, b: Numeric, c: Numeric, d: Numeric });
    expect(decodeOrThrow(Row, { a: '42.5', b: 7, c: '-0.001', d: '1e3' }, 'row')).toEqual({ a: 42.5, b: 7, c: -0.001, d: 1000 });
  });

  it('should refuse "", " ", "1,234", "NaN", "Infinity" and non-finite numbers, each at its path', () => {
    const bad = { empty: '', blank: ' ', grouped: '1,234', nan: 'NaN', inf: 'Infinity', neg: '-Infinity', num: Number.NaN, big: Number.POSITIVE_INFINITY };
    const Row = t.type(Object.fromEntries(Object.keys(bad).map((k) => [k, Numeric])) as Record<keyof typeof bad, typeof Numeric>);
    let caught: unknown;
    try {
      decodeOrThrow(Row, bad, 'row');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DecodeError);
    expect((caught as DecodeError).paths).toEqual(Object.keys(bad));
  });

  it('should agree with isNumericString', () => {
    for (const s of ['0', '42.5', '.5', '5.', '-3', '+3', '1E-7']) expect(isNumericString(s)).toBe(true);
    for (const s of ['', ' ', '1,234', 'NaN', 'Infinity', '0x10', '1 2', '--1', '1e400']) expect(isNumericString(s)).toBe(false);
  });
});

describe('NumericInput', () => {
  it('should accept numeric strings without converting them', () => {
    expect(decodeOrThrow(NumericInput, '-5', 'qty')).toBe('-5');
    expect(decodeOrThrow(NumericInput, 3, 'qty')).toBe(3);
    expect(() => decodeOrThrow(NumericInput, '1,234', 'qty')).toThrow(DecodeError);
  });
});

describe('nullish', () => {
  it('should decode null and a missing field the same way', () => {
    const Row = t.partial({ a: nullish(Numeric), b: nullish(t.string), c: nullish(t.unknown) });
    const fromNull = decodeOrThrow(Row, { a: null, b: null, c: null }, 'row');
    const fromMissing = decodeOrThrow(Row, {}, 'row');
    for (const key of ['a', 'b', 'c'] as const) {
      expect(fromNull[key]).toBeUndefined();
      expect(fromMissing[key]).toBeUndefined();
    }
  });

  it('should not claim null as already decoded, even around t.unknown', () => {
    expect(nullish(t.unknown).is(null)).toBe(false);
    expect(nullish(t.unknown).is(undefined)).toBe(true);
    expect(nullish(t.string).is('x')).toBe(true);
  });
});

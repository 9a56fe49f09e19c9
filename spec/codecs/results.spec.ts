/**
 * AccountResult's `is` is written out by hand for speed; it must answer exactly as the io-ts
 * intersection it stands for, on any value, and the codec must decode and report errors as
 * that intersection does.
 */
import fc from 'fast-check';
import * as t from 'io-ts';
import { AccountResult, AccountResults, decodeOrThrow } from '../../src/codecs';
import { DecodeError } from '../../src/http/errors';
import { announceSeed, checkProperty, describeRuns, propertySettings } from '../support/fastCheck';

const settings = propertySettings();
const RUNS = 400;

/**
 * The codec as io-ts builds it, from the codec's own parts (so it follows any field added
 * there): io-ts's generic intersection `is` is the definition of the fast one.
 */
const ioTsAccountResult = t.intersection(AccountResult.types);

/** Every field the codec checks, read from the codec itself: a field added there is drawn here too. */
const FIELDS = [...Object.keys(AccountResult.types[0].props), ...Object.keys(AccountResult.types[1].props)];

/** Values of every kind a field may hold, right or wrong for it. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, true, 0, -1.5, Number.NaN, Infinity, '', '42.5', 'USD', [], {}, [{}], [null], [{ position_id: 1 }], [{ position_id: null }], [{ engine: 3 }]),
  fc.anything(),
  fc.array(fc.oneof(fc.constant({}), fc.record({ position_id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), engine: fc.oneof(fc.string(), fc.constant(undefined)) })), { maxLength: 3 }),
);
/** A value of each kind a row field holds, valid or not for a given field. */
const POOL: readonly unknown[] = [undefined, null, 'USD', '', '42.5', 0, 1.5, -2, Number.NaN, Infinity, true, {}, [], [{}], [{ clearing_org: 'CME' }], [{ position_id: 1, engine: 'span' }], [null], [1]];
const fieldCodec = (field: string): t.Mixed => {
  const [required, optional] = AccountResult.types;
  return field in required.props ? required.props[field as keyof typeof required.props] : optional.props[field as keyof typeof optional.props];
};
/** Each field absent or holding a value its own codec accepts: a row io-ts accepts. */
const validRow = fc.record(
  Object.fromEntries(FIELDS.map((field) => [field, fc.constantFrom(...POOL.filter((v) => fieldCodec(field).is(v)))])),
  { requiredKeys: ['account_code'] },
);
/** Valid rows, valid rows with one field replaced by anything, row-like objects, and anything at all. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: validRow },
  { weight: 6, arbitrary: fc.tuple(validRow, fc.constantFrom(...FIELDS), fc.oneof(fc.constantFrom(...POOL), anyValue)).map(([row, field, v]) => ({ ...row, [field]: v })) },
  { weight: 2, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS, 'other'), anyValue, { maxKeys: FIELDS.length + 1 }) },
  { weight: 1, arbitrary: fc.anything() },
);

describe('AccountResult', () => {
  beforeAll(() => announceSeed(settings, 'spec/codecs/results.spec.ts'));

  it(`should answer is() exactly as the io-ts intersection on any value (${describeRuns(settings, RUNS)})`, async () => {
    await checkProperty(
      settings,
      RUNS,
      fc.property(value, (u) => {
        expect(AccountResult.is(u)).toBe(ioTsAccountResult.is(u));
        expect(AccountResults.is([u])).toBe(ioTsAccountResult.is(u));
      }),
    );
  });

  it('should accept a full row and refuse one with a null or wrong drill-down entry', () => {
    const row = { account_code: 'A1', initial_margin: 1, margin_by_ccp: [{ clearing_org: 'CME' }], exceptions: [{ position_id: '1' }] };
    expect(AccountResult.is(row)).toBe(true);
    expect(AccountResult.is({ ...row, margin_by_ccp: [null] })).toBe(false);
    expect(AccountResult.is({ ...row, exceptions: [{ position_id: null }] })).toBe(false);
    expect(AccountResult.is({ ...row, initial_margin: '1' })).toBe(false);
  });

  it('should still decode lenient fields and report bad ones by path, never by value', () => {
    expect(decodeOrThrow(AccountResults, [{ account_code: 'A1', initial_margin: '2.5', status: null }], 'rows')).toEqual([
      { account_code: 'A1', initial_margin: 2.5, status: undefined },
    ]);
    const messageOf = (codec: t.Mixed, rows: unknown): string => {
      try {
        decodeOrThrow(codec, rows, 'rows');
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError);
        return (error as DecodeError).message;
      }
      throw new Error('decoded');
    };
    const bad = [{ account_code: 'A1' }, { account_code: 'A2', margin_by_contract: ['secret-value'], initial_margin: 'secret-number' }];
    const message = messageOf(AccountResults, bad);
    expect(message).toBe(messageOf(t.array(ioTsAccountResult, 'AccountResults'), bad));
    expect(message).toContain('[1].margin_by_contract');
    expect(message).toContain('[1].initial_margin');
    expect(message).not.toContain('secret');
  });
});

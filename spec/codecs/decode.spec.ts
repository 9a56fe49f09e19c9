import * as t from 'io-ts';
import { AccountResults } from '../../src/codecs/results';
import { BatchStatus } from '../../src/codecs/batch';
import { decodeOrThrow } from '../../src/codecs/decode';
import { Numeric, nullish } from '../../src/codecs/primitives';
import { DecodeError } from '../../src/http/errors';

function decodeError(run: () => unknown): DecodeError {
  try {
    run();
  } catch (error) {
    if (error instanceof DecodeError) return error;
    throw error;
  }
  throw new Error('expected a DecodeError');
}

describe('decodeOrThrow', () => {
  it('should report one line per bad field, with its path and without its value', () => {
    const rows = [
      { account_code: 'A', initial_margin: 'SECRET-VALUE-1' },
      { account_code: 42, gross_margin: 'SECRET-VALUE-2', margin_by_ccp: 'SECRET-VALUE-3' },
      { initial_margin: 1 },
    ];
    const error = decodeError(() => decodeOrThrow(AccountResults, rows, 'account results'));
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('invalid account results:');
    expect(lines.slice(1)).toHaveLength(5);
    expect(error.paths).toEqual(['[0].initial_margin', '[1].account_code', '[1].gross_margin', '[1].margin_by_ccp', '[2].account_code']);
    expect(lines.slice(1).map((line) => line.split(':')[0])).toEqual(error.paths);
    expect(lines[5]).toMatch(/^\[2\]\.account_code: required/);
    expect(error.message).not.toMatch(/SECRET-VALUE|42/);
    expect(JSON.stringify(error)).not.toMatch(/SECRET-VALUE/);
  });

  it('should return already-decoded data as the same object (fast path)', () => {
    const rows = [{ account_code: 'A', initial_margin: 10, margin_by_ccp: [{ ccp: 'X' }], extra: { kept: true } }];
    const decoded = decodeOrThrow(AccountResults, rows, 'account results');
    expect(decoded).toBe(rows);
  });

  it('should give the same result on the fast path as through decode', () => {
    const Row = t.intersection([t.type({ id: t.string }), t.partial({ n: nullish(Numeric), note: nullish(t.unknown) })]);
    const samples: unknown[] = [{ id: 'a', n: 1 }, { id: 'a', n: '1' }, { id: 'a', n: null }, { id: 'a', note: null }, { id: 'a', note: 'x', other: 2 }];
    for (const sample of samples) {
      const viaDecode = Row.decode(sample);
      expect(viaDecode._tag).toBe('Right');
      expect(decodeOrThrow(Row, sample, 'row')).toEqual(viaDecode._tag === 'Right' ? viaDecode.right : undefined);
    }
  });

  it('should convert numeric strings even when the rest of the value is already decoded', () => {
    const status = decodeOrThrow(BatchStatus, { batch_id: 'b', status: 'processing', completed_pct: '50' }, 'batch status');
    expect(status.completed_pct).toBe(50);
  });
});

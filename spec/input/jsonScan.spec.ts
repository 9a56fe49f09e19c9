import fc from 'fast-check';
import { formatJsonPath, isExactNumber, jsonSyntaxError, lineAndColumn, mayHoldDuplicateKey, mayHoldInexactNumber, scanJson } from '../../src/input/jsonScan';

function parseError(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (error) {
    return error;
  }
  throw new Error(`${text} parsed`);
}

describe('isExactNumber', () => {
  it('should accept literals whose value survives JSON.parse, however they are written', () => {
    for (const literal of ['0', '-0', '1.50', '100.0', '1e2', '1E21', '0.1', '0.30000000000000004', '9007199254740992', '-1.0000000000000000000', '0e999']) {
      expect([literal, isExactNumber(literal)]).toEqual([literal, true]);
    }
  });

  it('should refuse literals JSON.parse rounds, overflows or underflows', () => {
    for (const literal of ['12345678901234567890.5', '9007199254740993', '123456789012345678', '0.1000000000000000055511151231257827', '1e400', '-1e400', '1e-400']) {
      expect([literal, isExactNumber(literal)]).toEqual([literal, false]);
    }
  });

  it('should accept what JSON.stringify writes for any double', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => isExactNumber(JSON.stringify(value))));
  });
});

describe('mayHoldInexactNumber', () => {
  it('should be true for every text holding a literal isExactNumber refuses', () => {
    const literal = fc
      .tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9]\d{0,24})$/), fc.option(fc.stringMatching(/^\d{1,24}$/)), fc.option(fc.integer({ min: -400, max: 400 })))
      .map(([minus, int, frac, exp]) => `${minus ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`);
    fc.assert(
      fc.property(literal, (l) => {
        if (isExactNumber(l)) return true;
        return mayHoldInexactNumber(`{"a": [1, ${l}]}`) && mayHoldInexactNumber(`{"a":${l}}`) && mayHoldInexactNumber(l);
      }),
    );
  });

  it('should be false for short numbers and for long digits inside strings', () => {
    expect(mayHoldInexactNumber('{"a":1.5,"b":[123456789012345],"c":"12345678901234567890","d":"3e5"}')).toBe(false);
  });
});

describe('mayHoldDuplicateKey', () => {
  it('should be false when every key is written once in its object, and true for a key written twice', () => {
    const cases: [string, boolean][] = [
      ['{"a":1,"a":2}', true],
      ['[{"a":{"b":1,"b":2}}]', true],
      ['{"a" :1, "a"\n: 2}', true],
      ['{"a":{"a":1},"b":[{"a":1},{"a":1}]}', false],
      ['{"a":"y :","b":"z: 1"}', false],
      ['{"__proto__":1,"b":2}', false],
    ];
    for (const [text, expected] of cases) expect([text, mayHoldDuplicateKey(text, JSON.parse(text))]).toEqual([text, expected]);
  });

  it('should be true for any object with one of its keys written again', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.boolean(), (value, spaced) => {
        const key = Object.keys(value)[0];
        // Spliced by slice, not String.replace: a generated key such as "$&" is a replacement pattern.
        const written = JSON.stringify(value, null, spaced ? 1 : 0);
        const text = `${written.slice(0, -1)},${JSON.stringify(key)} : 0}`;
        return mayHoldDuplicateKey(text, JSON.parse(text));
      }),
      // The counterexample that a String.replace splice turned into a text without a repeat.
      { examples: [[{ '$&': [], '': {} }, false]] },
    );
  });
});

describe('scanJson', () => {
  it('should find the path and offset of the first key written twice in one object, escapes decoded', () => {
    const text = '{"portfolio":[{"a":1,"b":{"a":2}},{"a":1,"\\u0061":2}]}';

    expect(scanJson(text, { checkKeys: true })).toEqual({ duplicateKey: { key: 'a', offset: text.indexOf('"\\u0061"'), path: ['portfolio', 1, 'a'] } });
    expect(scanJson(text)).toEqual({});
  });

  it('should find the path and offset of the first inexact number, skipping strings that look like numbers', () => {
    const text = '{"portfolio":[{"a":"x\\" 1e400"},{"odd key":[0, 12345678901234567890.5]}]}';

    expect(scanJson(text, { checkNumbers: true })).toEqual({
      inexact: { literal: '12345678901234567890.5', offset: text.indexOf('1234'), path: ['portfolio', 1, 'odd key', 1] },
    });
    expect(scanJson(text)).toEqual({});
  });

  it('should find nothing in any JSON that JSON.stringify writes', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => expect(scanJson(JSON.stringify(value, null, 1), { checkNumbers: true, checkKeys: true })).toEqual({})));
  });

  it('should put a syntax error where V8 does when V8 gives a position', () => {
    for (const text of ['{"a":1,}', '[1,2', '{"a" 1}', '{"a":1}x', '{"a":01}', '{"a":-}', '{"a":"\\q"}', '{"a":"x\ny"}', '{"a":1.}', '[1e]', '[1e+]', '[1.5e]', '[-]', '']) {
      const at = /at position (\d+)/.exec((parseError(text) as Error).message);
      const expected = at === null ? text.length : Number(at[1]);
      expect([text, scanJson(text).syntaxErrorAt]).toEqual([text, expected]);
    }
  });
});

describe('jsonSyntaxError', () => {
  it('should give the reason without the quoted source, and an offset even when V8 gives none', () => {
    const long = `{"portfolio":[${'{"a":1},'.repeat(20)}{"a":}]}`;

    expect(jsonSyntaxError(parseError('[1,2'), '[1,2')).toEqual({ reason: "Expected ',' or ']' after array element", offset: 4 });
    expect(jsonSyntaxError(parseError('{"a":tru}'), '{"a":tru}')).toEqual({ reason: "Unexpected token '}'", offset: 8 });
    expect(jsonSyntaxError(parseError(long), long)).toEqual({ reason: "Unexpected token '}'", offset: long.length - 3 });
  });
});

describe('lineAndColumn', () => {
  it('should count lines and 1-based columns', () => {
    expect(lineAndColumn('{\n  x', 4)).toEqual({ line: 2, column: 3 });
    expect(lineAndColumn('ab', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('a\n\nb', 3)).toEqual({ line: 3, column: 1 });
  });
});

describe('formatJsonPath', () => {
  it('should write paths as the input errors do', () => {
    expect(formatJsonPath(['portfolio', 0, 'net_position'])).toBe('portfolio[0].net_position');
    expect(formatJsonPath([3, 'odd key'])).toBe('[3]["odd key"]');
    expect(formatJsonPath([])).toBe('(root)');
  });
});

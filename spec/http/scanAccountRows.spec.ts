import { filterAccountRows } from '../../src/http/client';
import { scanAccountRows } from '../../src/http/scanAccountRows';

const codes = (...c: string[]): ReadonlySet<string> => new Set(c);

/** The scan's answer beside what JSON.parse + filter gives, for bodies both read. */
function both(text: string, accountCodes: ReadonlySet<string>): { scanned: unknown[] | undefined; parsed: unknown[] } {
  return { scanned: scanAccountRows(text, accountCodes), parsed: filterAccountRows(JSON.parse(text) as unknown[], accountCodes) };
}

describe('scanAccountRows', () => {
  it('should keep the rows of the given accounts and the sub-account rows of those, in body order', () => {
    const rows = [
      { account_code: 'A', portfolio_id: 'pa', initial_margin: 1 },
      { account_code: 'B', portfolio_id: 'pb' },
      { account_code: 'A-SUB', portfolio_id: 'ps', parent_portfolio_id: 'pa' },
      { account_code: 'B-SUB', portfolio_id: 'pt', parent_portfolio_id: 'pb' },
      { account_code: 'C', portfolio_id: 'pc' },
    ];
    const { scanned, parsed } = both(JSON.stringify(rows), codes('A', 'C', 'NOT-THERE'));
    expect(scanned).toEqual([rows[0], rows[2], rows[4]]);
    expect(scanned).toEqual(parsed);
  });

  it('should read only top-level fields: an account_code inside a drill-down array keeps nothing', () => {
    const text = JSON.stringify([
      { account_code: 'X', portfolio_id: 'px', portfolio: [{ account_code: 'A', position_id: '1' }], margin_by_ccp: [{ account_code: 'A' }] },
      { margin_by_contract: [{ portfolio_id: 'px', parent_portfolio_id: 'pa' }], account_code: 'Y' },
    ]);
    expect(scanAccountRows(text, codes('A'))).toEqual([]);
    expect(scanAccountRows(text, codes('X'))).toEqual([JSON.parse(text)[0]]);
  });

  it('should read keys in any order, escaped keys and values, and a repeated key by its last value', () => {
    const text = [
      '[',
      '{"initial_margin":5,"portfolio_id":"p1","account_code":"A"},',
      '{"account\\u005fcode":"B\\"1","portfolio_id":"p\\/2"},',
      '{"account_code":"C","account_code":"D"},',
      '{"account_code":"E","account_code":7},',
      '{"parent_portfolio_id":"p\\u002f2","account_code":"F"}',
      ']',
    ].join('');
    const { scanned, parsed } = both(text, codes('A', 'B"1', 'C', 'D', 'E'));
    expect(scanned).toEqual([
      { initial_margin: 5, portfolio_id: 'p1', account_code: 'A' },
      { account_code: 'B"1', portfolio_id: 'p/2' },
      { account_code: 'D' },
      { parent_portfolio_id: 'p/2', account_code: 'F' },
    ]);
    expect(scanned).toEqual(parsed);
  });

  it('should take any whitespace JSON allows between tokens, and rows that are not objects', () => {
    const text = ' \r\n[\t{ "account_code" :\n"A" , "x" : [ 1 , { } , [ ] ] } ,\n 3 , "A" , null , [ {"account_code":"A"} ] ]\n ';
    const { scanned, parsed } = both(text, codes('A'));
    expect(scanned).toEqual([{ account_code: 'A', x: [1, {}, []] }]);
    expect(scanned).toEqual(parsed);
    expect(scanAccountRows('[]', codes('A'))).toEqual([]);
    expect(scanAccountRows(' [ ] ', codes('A'))).toEqual([]);
  });

  it.each([
    ['a trailing comma in a row', '[{"account_code":"A",}]'],
    ['a trailing comma in the array', '[{"account_code":"A"},]'],
    ['a trailing comma in a nested array', '[{"account_code":"A","x":[1,]}]'],
    ['a missing comma', '[{"account_code":"A" "x":1}]'],
    ['a missing colon', '[{"account_code" "A"}]'],
    ['a truncated body', '[{"account_code":"A"},{"account_code":"B","x":[1,2'],
    ['a raw control character in a string', '[{"account_code":"A\u0001"}]'],
    ['a raw newline in a key', '[{"account\ncode":"A"}]'],
    ['an escape JSON lacks', '[{"account_code":"A\\v"}]'],
    ['a short unicode escape', '[{"account_code":"\\u12"}]'],
    ['a leading zero', '[{"account_code":"A","x":01}]'],
    ['a bare dot', '[{"account_code":"A","x":1.}]'],
    ['a plus sign', '[{"account_code":"A","x":+1}]'],
    ['a single-quoted string', "[{'account_code':'A'}]"],
    ['a non-breaking space as whitespace', '[\u00a0{"account_code":"A"}]'],
    ['a byte order mark (the caller strips it)', '\ufeff[{"account_code":"A"}]'],
    ['text after the array', '[{"account_code":"A"}] x'],
    ['two arrays', '[][]'],
    ['an unknown literal', '[{"account_code":"A","x":nul}]'],
    ['an HTML page', '<html><body>502 Bad Gateway</body></html>'],
    ['an empty body', ''],
  ])('should decline %s, which JSON.parse refuses', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(scanAccountRows(text, codes('A'))).toBeUndefined();
  });

  it.each([
    ['an object', '{"rows":[{"account_code":"A"}]}'],
    ['a string', '"A"'],
    ['null', 'null'],
  ])('should decline a body that is valid JSON but %s (the caller reports it as not an array)', (_name, text) => {
    expect(scanAccountRows(text, codes('A'))).toBeUndefined();
  });

  it('should decline a row nested deeper than it reads, which the caller then parses whole', () => {
    const deep = JSON.stringify([{ account_code: 'A', x: [[[[[[1]]]]]] }]);
    expect(scanAccountRows(deep, codes('A'))).toBeUndefined();
    const shallow = JSON.stringify([{ account_code: 'A', x: [[[[1]]]] }]);
    expect(scanAccountRows(shallow, codes('A'))).toEqual(JSON.parse(shallow));
  });

  it('should decline, not throw, when a row is too large for the patterns (their backtracking stack overflows)', () => {
    // Valid JSON that JSON.parse reads: a wanted row holding five million escapes, on which
    // the scan runs out of regular-expression stack.
    const filler = Array.from({ length: 200 }, (_, i) => ({ account_code: `A${i}`, portfolio_id: `p${i}` }));
    const escapes = { account_code: 'A', memo: '\n'.repeat(5_000_000) };
    expect(scanAccountRows(JSON.stringify([...filler, escapes]), codes('A'))).toBeUndefined();
  });

  it('should decline when the accounts wanted are about half the store or more (one parse is cheaper)', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({ account_code: `A${i}`, portfolio_id: `p${i}` }));
    const text = JSON.stringify(rows);
    const wanted = (n: number): ReadonlySet<string> => new Set(rows.slice(0, n).map((r) => r.account_code));
    expect(scanAccountRows(text, wanted(120))).toBeUndefined();
    expect(scanAccountRows(text, wanted(60))).toEqual(rows.slice(0, 60));
  });
});

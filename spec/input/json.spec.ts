import { InputError } from '../../src/input/errors';
import { readJsonPortfolio } from '../../src/input/json';
import { scratchDir } from './helpers';

const A = { account_code: 'A', exchange_code: 'NYMEX', contract_code: 'CL', contract_type: 'FUT', contract_expiry: '202612', net_position: 5 };
const B = { account_code: 'B', exchange_code: 'NYMEX', contract_code: 'CL', contract_type: 'CALL', contract_expiry: 202612, contract_strike: '70', net_position: '-2', extra: { deep: [1] } };

describe('readJsonPortfolio', () => {
  const files = scratchDir();
  afterAll(() => files.cleanup());

  async function failure(content: string): Promise<InputError> {
    const error = await readJsonPortfolio(files.write('bad.json', content)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }

  it('should read a whole payload, keeping its top-level options and unknown fields', async () => {
    const payload = { currency_code: 'EUR', calculation_type: 'margins', memo: 'night run', portfolio: [A, B] };

    await expect(readJsonPortfolio(files.write('payload.json', JSON.stringify(payload)))).resolves.toEqual(payload);
  });

  it('should wrap a bare array of positions, kept unchanged and in order', async () => {
    await expect(readJsonPortfolio(files.write('array.json', `\uFEFF${JSON.stringify([B, A, B])}\r\n`))).resolves.toEqual({ portfolio: [B, A, B] });
  });

  it('should name the path of a bad position field in a payload', async () => {
    const error = await failure(JSON.stringify({ portfolio: [A, A, { ...A, net_position: '1,234' }] }));

    expect(error.path).toBe('portfolio[2].net_position');
    expect(error.message).toMatch(/bad\.json: portfolio\[2\]\.net_position: expected a number or a numeric string, got "1,234"/);
  });

  it('should name the path of a missing field in a bare array', async () => {
    const { exchange_code: _dropped, ...noExchange } = A;
    const error = await failure(JSON.stringify([A, noExchange]));

    expect(error.message).toBe(`${error.file}: [1].exchange_code: missing (required)`);
    expect(error.file).toMatch(/bad\.json$/);
  });

  it('should name a bad top-level option', async () => {
    const error = await failure(JSON.stringify({ currency_code: 'XXX', portfolio: [A] }));

    expect(error.path).toBe('currency_code');
  });

  it('should give the line of a syntax error', async () => {
    const error = await failure('{\n  "portfolio": [\n    {"account_code": "A",}\n  ]\n}\n');

    expect(error.line).toBe(3);
    expect(error.message).toBe(`${error.file}:3:26: not valid JSON (Expected double-quoted property name)`);
  });

  it('should give the line and column of a syntax error V8 reports without a position, without quoting the file', async () => {
    const error = await failure('{\n  "portfolio": [\n    {"account_code": }\n  ]\n}\n');

    expect(error.message).toBe(`${error.file}:3:22: not valid JSON (Unexpected token '}')`);
  });

  it('should refuse a number JSON.parse would round, naming its line and path and showing it as written', async () => {
    const text = JSON.stringify({ portfolio: [A, { ...A, net_position: 'N' }] }, null, 1).replace('"N"', '12345678901234567890.5');
    const error = await failure(text);

    expect(error.message).toBe(
      `${error.file}:17: portfolio[1].net_position: the number 12345678901234567890.5 cannot be represented exactly; write it as a string ("12345678901234567890.5")`,
    );
    expect({ line: error.line, path: error.path }).toEqual({ line: 17, path: 'portfolio[1].net_position' });
  });

  it('should show 1e400 as written, not as null', async () => {
    const error = await failure(`[${JSON.stringify({ ...A, net_position: 'N' }).replace('"N"', '1e400')}]`);

    expect(error.message).toBe(`${error.file}:1: [0].net_position: the number 1e400 is too large to be represented (it would be read as Infinity)`);
  });

  it('should keep numbers whose written value survives parsing: trailing zeros, exponents, long but exact', async () => {
    const text = JSON.stringify({ portfolio: [{ ...A, net_position: 'N' }], memo: 'x: 12345678901234567890' })
      .replace('"N"', '1.50, "long_qty": 100.0, "short_qty": 1e2, "lot": 9007199254740992, "tick": 0.30000000000000004');

    await expect(readJsonPortfolio(files.write('exact.json', text))).resolves.toEqual({
      portfolio: [{ ...A, net_position: 1.5, long_qty: 100, short_qty: 100, lot: 9007199254740992, tick: 0.30000000000000004 }],
      memo: 'x: 12345678901234567890',
    });
  });

  it('should refuse a key written twice in a position, naming its second line and path', async () => {
    const text = JSON.stringify({ portfolio: [A, { ...A, net_position: 'N' }] }, null, 1).replace('"N"', '"1",\n   "net_position": "2"');
    const error = await failure(text);

    expect(error.message).toBe(`${error.file}:18: portfolio[1].net_position: the key appears twice`);
    expect({ line: error.line, path: error.path }).toEqual({ line: 18, path: 'portfolio[1].net_position' });
  });

  it('should refuse a key written twice however it is escaped, in a bare array and among the top-level options', async () => {
    const bare = await failure(`[${JSON.stringify(A).replace('}', ',"net_\\u0070osition":6}')}]`);
    const options = await failure(`{"currency_code":"USD",\n"portfolio":${JSON.stringify([A])},\n"currency_code":"EUR"}`);

    expect(bare.message).toBe(`${bare.file}:1: [0].net_position: the key appears twice`);
    expect(options.message).toBe(`${options.file}:3: currency_code: the key appears twice`);
  });

  it('should keep the same key in different objects', async () => {
    const payload = { portfolio: [A, { ...A, extra: { net_position: 1, account_code: { net_position: 2 } } }], net_position: 3 };

    await expect(readJsonPortfolio(files.write('same-keys.json', JSON.stringify(payload)))).resolves.toEqual(payload);
  });

  it('should refuse JSON that is neither a payload nor an array', async () => {
    const error = await failure('{"positions": []}');

    expect(error.message).toContain('expected an object with a "portfolio" array');
  });
});

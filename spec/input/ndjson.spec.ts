import { Readable } from 'node:stream';
import { InputError } from '../../src/input/errors';
import { readNdjsonPositions } from '../../src/input/ndjson';
import { collect, scratchDir } from './helpers';

const A = { account_code: 'A', exchange_code: 'NYMEX', contract_code: 'CL', contract_type: 'FUT', contract_expiry: '202612', net_position: '5' };
const B = { account_code: 'B', exchange_code: 'EUREX', contract_code: 'FDAX', contract_type: 'F', contract_expiry: 202612, net_position: -1, note: 'a, "b"' };

describe('readNdjsonPositions', () => {
  const files = scratchDir();
  afterAll(() => files.cleanup());

  it('should read one position per line in order, skipping blank lines, with BOM and CRLF', async () => {
    const path = files.write('book.ndjson', `\uFEFF${JSON.stringify(A)}\r\n\r\n  \r\n${JSON.stringify(B)}\r\n${JSON.stringify(A)}`);

    await expect(collect(readNdjsonPositions(path))).resolves.toEqual([A, B, A]);
  });

  it('should name the line and field of a bad position', async () => {
    const path = files.write('bad.ndjson', `${JSON.stringify(A)}\n\n${JSON.stringify({ ...A, net_position: 'NaN' })}\n`);

    const error = await collect(readNdjsonPositions(path)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`${path}:3: net_position: expected a number or a numeric string, got "NaN"`);
  });

  it('should name the line of text that is not JSON', async () => {
    const source = Readable.from([`${JSON.stringify(A)}\n`, '{"account_code": \n']);

    const error = await collect(readNdjsonPositions('in.ndjson', source)).catch((e: unknown) => e);

    expect((error as InputError).message).toBe('in.ndjson:2:18: not valid JSON (Unexpected end of JSON input)');
  });

  it('should give the column of a syntax error the same way a .json file does, without quoting the line', async () => {
    const source = Readable.from(['{"account_code":"A","net_position":}\n']);

    const error = await collect(readNdjsonPositions('in.ndjson', source)).catch((e: unknown) => e);

    expect((error as InputError).message).toBe("in.ndjson:1:36: not valid JSON (Unexpected token '}')");
    expect({ line: (error as InputError).line, column: (error as InputError).column }).toEqual({ line: 1, column: 36 });
  });

  it('should refuse a number JSON.parse would round, naming the line and field and showing it as written', async () => {
    const big = `{"account_code":"A","exchange_code":"NYMEX","contract_code":"CL","contract_type":"FUT","contract_expiry":"202612","net_position":12345678901234567890.5}`;
    const huge = big.replace('12345678901234567890.5', '1e400');
    const fine = big.replace('12345678901234567890.5', '100.000000000000000000');

    const rounded = await collect(readNdjsonPositions('in.ndjson', Readable.from([`${fine}\n${big}\n`]))).catch((e: unknown) => e);
    const infinite = await collect(readNdjsonPositions('in.ndjson', Readable.from([`${huge}\n`]))).catch((e: unknown) => e);

    expect((rounded as InputError).message).toBe(
      'in.ndjson:2: net_position: the number 12345678901234567890.5 cannot be represented exactly; write it as a string ("12345678901234567890.5")',
    );
    expect((infinite as InputError).message).toBe('in.ndjson:1: net_position: the number 1e400 is too large to be represented (it would be read as Infinity)');
  });

  it('should keep numbers whose written value survives parsing, trailing zeros and exponents included', async () => {
    const line = { ...A, net_position: 'x' };
    const text = JSON.stringify(line).replace('"net_position":"x"', '"net_position":1.50,"long_qty":1e2,"short_qty":0.30000000000000004');

    await expect(collect(readNdjsonPositions('in.ndjson', Readable.from([text])))).resolves.toEqual([{ ...A, net_position: 1.5, long_qty: 100, short_qty: 0.30000000000000004 }]);
  });

  it('should refuse a key written twice in a position, naming the line and field', async () => {
    const twice = JSON.stringify({ ...A, net_position: '1' }).replace('}', ',"net_position":"2"}');
    const escaped = JSON.stringify(A).replace('{', '{"\\u0061ccount_code":"B",');
    const source = (line: string): Readable => Readable.from([`${JSON.stringify(A)}\n\n${line}\n`]);

    const error = await collect(readNdjsonPositions('in.ndjson', source(twice))).catch((e: unknown) => e);
    const escapedError = await collect(readNdjsonPositions('in.ndjson', source(escaped))).catch((e: unknown) => e);

    expect((error as InputError).message).toBe('in.ndjson:3: net_position: the key appears twice');
    expect(error).toMatchObject({ line: 3, field: 'net_position' });
    expect((escapedError as InputError).message).toBe('in.ndjson:3: account_code: the key appears twice');
  });

  it('should refuse a line that is an array', async () => {
    const source = Readable.from([`[${JSON.stringify(A)}]\n`]);

    const error = await collect(readNdjsonPositions('in.ndjson', source)).catch((e: unknown) => e);

    expect((error as InputError).message).toBe('in.ndjson:1: expected one JSON object (a position) per line');
  });

  it('should fail a missing file with its name', async () => {
    const error = await collect(readNdjsonPositions('/nonexistent/book.ndjson')).catch((e: unknown) => e);

    expect((error as InputError).message).toBe('/nonexistent/book.ndjson: no such file');
  });
});

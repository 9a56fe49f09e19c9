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

    expect((error as InputError).message).toMatch(/^in\.ndjson:2: not valid JSON/);
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

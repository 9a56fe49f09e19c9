import { InputError } from '../../src/input/errors';
import { loadPortfolio } from '../../src/input/loadPortfolio';
import { HEADER, scratchDir } from './helpers';

const A = { account_code: 'A', exchange_code: 'NYMEX', contract_code: 'CL', contract_type: 'FUT', contract_expiry: '202612', net_position: '5' };

describe('loadPortfolio', () => {
  const files = scratchDir();
  afterAll(() => files.cleanup());

  it('should read the vendor sample CSV into 32 positions', async () => {
    const payload = await loadPortfolio(`${__dirname}/../../examples/sample_portfolio.csv`);

    expect(Object.keys(payload)).toEqual(['portfolio']);
    expect(payload.portfolio).toHaveLength(32);
  });

  it('should choose the format by extension', async () => {
    const csv = files.write('a.csv', `${HEADER}\nA,NYMEX,CL,FUT,202612,,5\n`);
    const json = files.write('a.json', JSON.stringify({ currency_code: 'GBP', portfolio: [A] }));
    const ndjson = files.write('a.jsonl', `${JSON.stringify(A)}\n`);

    await expect(loadPortfolio(csv)).resolves.toEqual({ portfolio: [A] });
    await expect(loadPortfolio(json)).resolves.toEqual({ currency_code: 'GBP', portfolio: [A] });
    await expect(loadPortfolio(ndjson)).resolves.toEqual({ portfolio: [A] });
  });

  it('should guess the format from the content when the extension does not tell', async () => {
    const csv = files.write('book.txt', `\uFEFF${HEADER}\r\nA,NYMEX,CL,FUT,202612,,5\r\n`);
    const array = files.write('book1.dat', ` [${JSON.stringify(A)}]`);
    const payload = files.write('book2.dat', `{"portfolio":[${JSON.stringify(A)}]}`);
    const payloadPretty = files.write('book3.dat', JSON.stringify({ portfolio: [A] }, null, 2));
    const ndjson = files.write('book4.dat', `${JSON.stringify(A)}\n${JSON.stringify(A)}\n`);

    await expect(loadPortfolio(csv)).resolves.toEqual({ portfolio: [A] });
    await expect(loadPortfolio(array)).resolves.toEqual({ portfolio: [A] });
    await expect(loadPortfolio(payload)).resolves.toEqual({ portfolio: [A] });
    await expect(loadPortfolio(payloadPretty)).resolves.toEqual({ portfolio: [A] });
    await expect(loadPortfolio(ndjson)).resolves.toEqual({ portfolio: [A, A] });
  });

  it('should follow an explicit format over the extension', async () => {
    const path = files.write('really-ndjson.csv', `${JSON.stringify(A)}\n`);

    await expect(loadPortfolio(path, { format: 'ndjson' })).resolves.toEqual({ portfolio: [A] });
  });

  it('should refuse a file without positions', async () => {
    const path = files.write('empty.csv', `${HEADER}\r\n\r\n`);

    const error = await loadPortfolio(path).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`${path}: the file holds no positions`);
  });

  it('should fail a missing file of unknown format with its name', async () => {
    await expect(loadPortfolio('/nonexistent/book')).rejects.toThrow('/nonexistent/book: no such file');
  });
});

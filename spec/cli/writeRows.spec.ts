import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { checkOutFile, outFormatOf, rowsToCsv, writeRows } from '../../src/cli/writeRows';

const rows = [
  { account_code: 'A, "quoted"', initial_margin: 12.5, margin_by_ccp: [{ ccp: 'ICE', im: 1 }] },
  { account_code: 'B', parent_portfolio_id: 'p1', memo: 'two\nlines', initial_margin: undefined },
];

describe('rowsToCsv', () => {
  it('should write one column per field in first-appearance order, nested values as JSON, quoted where needed', () => {
    const records = parse(rowsToCsv(rows), { columns: true }) as Record<string, string>[];

    expect(records).toEqual([
      { account_code: 'A, "quoted"', initial_margin: '12.5', margin_by_ccp: '[{"ccp":"ICE","im":1}]', parent_portfolio_id: '', memo: '' },
      { account_code: 'B', initial_margin: '', margin_by_ccp: '', parent_portfolio_id: 'p1', memo: 'two\nlines' },
    ]);
  });
});

describe('outFormatOf', () => {
  it('should pick the format from the extension', () => {
    expect(outFormatOf('x.JSON')).toBe('json');
    expect(outFormatOf('x.csv')).toBe('csv');
    expect(outFormatOf('x.txt')).toBeUndefined();
  });
});

describe('writeRows', () => {
  const dir = mkdtempSync(join(tmpdir(), 'c9-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should write JSON that reads back as the rows', async () => {
    const path = join(dir, 'rows.json');
    await writeRows(path, rows);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(rows)));
  });

  it('should refuse another extension', async () => {
    await expect(writeRows(join(dir, 'rows.txt'), rows)).rejects.toThrow(TypeError);
  });

  it('should name --out and the path when the file cannot be written, not only the syscall', async () => {
    const path = join(dir, 'gone', 'rows.csv');

    await expect(writeRows(path, rows)).rejects.toMatchObject({ message: `--out ${path}: no such directory: ${join(dir, 'gone')}` });
  });
});

describe('checkOutFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'c9-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should pass a .json or .csv file in a writable directory without creating it', async () => {
    await checkOutFile(join(dir, 'rows.json'));
    await checkOutFile(join(dir, 'rows.CSV'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('should refuse another extension and a missing directory with one line naming --out', async () => {
    await expect(checkOutFile(join(dir, 'rows.txt'))).rejects.toThrow(`--out ${join(dir, 'rows.txt')}: the file name must end in .json or .csv`);
    await expect(checkOutFile('/nonexistent/dir/rows.json')).rejects.toMatchObject({ message: '--out /nonexistent/dir/rows.json: no such directory: /nonexistent/dir' });
  });
});

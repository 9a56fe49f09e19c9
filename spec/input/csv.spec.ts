import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { csvPositionGroups, readCsvPositions, type CsvCursor } from '../../src/input/csv';
import { InputError } from '../../src/input/errors';
import { collect, HEADER, scratchDir } from './helpers';

describe('readCsvPositions', () => {
  const files = scratchDir();
  afterAll(() => files.cleanup());

  async function failure(content: string | Buffer, name = 'bad.csv'): Promise<InputError> {
    const path = files.write(name, content);
    const error = await collect(readCsvPositions(path)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }

  it("should refuse a record the parser joined across a line that ends in LF alone in a file of CRLF lines, naming the record's line", async () => {
    // "A,ICE.EU," ends in LF alone: the parser reads on, and the joined lines make exactly one
    // record of the header's seven fields, contract_code "\nB".
    const error = await failure(`${HEADER}\r\nX,ICE.EU,B,FUT,202612,,1\r\nA,ICE.EU,\nB,FUT,202612,,5\r\n`, 'joined.csv');
    expect(error.message).toMatch(/joined\.csv:3: a line of this record ends in LF alone while the file's lines end in CRLF/);
  });

  it('should name the column of a quote error in the first read of the file, where the parser drops the header it made', async () => {
    const error = await failure(`${HEADER}\nA,ICE.EU,B"x,FUT,202612,,5\n`, 'early-quote.csv');
    expect(error.message).toMatch(/early-quote\.csv:2: contract_code: a quote inside an unquoted field \(quote the whole field and double the quote\)$/);
  });

  it("should report the header's own fault before a parser error in the same read", async () => {
    const error = await failure(`${HEADER},account_code\nA,ICE.EU,B"x,FUT,202612,,5,A\n`, 'twice.csv');
    expect(error.message).toMatch(/twice\.csv:1: account_code: the column appears twice in the header$/);
  });

  it('should read the vendor sample as one position per row, values unchanged and in order', async () => {
    const path = `${__dirname}/../../examples/sample_portfolio.csv`;
    const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l !== '');
    const header = lines[0].split(',');
    const expected = lines.slice(1).map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(header.map((name, i) => [name, cells[i]]).filter(([, v]) => v !== ''));
    });

    const positions = await collect(readCsvPositions(path));

    expect(positions).toHaveLength(32);
    expect(positions).toEqual(expected);
    expect(typeof positions[0].net_position).toBe('string');
  });

  it('should drop a byte-order mark, accept CRLF and skip blank lines', async () => {
    const path = files.write('excel.csv', `\uFEFF${HEADER}\r\nA,NYMEX,CL,FUT,202612,,5\r\n\r\n\r\nB,NYMEX,CL,FUT,202701,,-3\r\n\r\n`);

    const positions = await collect(readCsvPositions(path));

    expect(positions).toEqual([
      { account_code: 'A', exchange_code: 'NYMEX', contract_code: 'CL', contract_type: 'FUT', contract_expiry: '202612', net_position: '5' },
      { account_code: 'B', exchange_code: 'NYMEX', contract_code: 'CL', contract_type: 'FUT', contract_expiry: '202701', net_position: '-3' },
    ]);
    expect(Object.keys(positions[0])[0]).toBe('account_code');
  });

  it('should keep quoted commas, doubled quotes and line breaks inside a field', async () => {
    const path = files.write('quoted.csv', `${HEADER},memo\r\n"A, Ltd",NYMEX,CL,FUT,202612,,5,"say ""hi"",\r\nthen go"\r\n`);

    const [position] = await collect(readCsvPositions(path));

    expect(position.account_code).toBe('A, Ltd');
    expect(position.memo).toBe('say "hi",\r\nthen go');
  });

  it('should keep extra columns as position fields named by their header', async () => {
    const path = files.write('extra.csv', `${HEADER},account_type,position_id,__proto__\nA,NYMEX,CL,FUT,202612,,5,S,p-1,x\n`);

    const [position] = await collect(readCsvPositions(path));

    expect(position).toMatchObject({ account_type: 'S', position_id: 'p-1' });
    expect(Object.getOwnPropertyDescriptor(position, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(position)).toBe(Object.prototype);
  });

  it('should keep rows for the same contract separate and in file order', async () => {
    const rows = ['A,ICE.EU,B,FUT,202612,,1', 'B,ICE.EU,B,FUT,202612,,2', 'A,ICE.EU,B,FUT,202612,,1', 'A,ICE.EU,B,FUT,202612,,01.0'];
    const path = files.write('dups.csv', `${HEADER}\n${rows.join('\n')}\n`);

    const positions = await collect(readCsvPositions(path));

    expect(positions.map((p) => `${p.account_code}:${String(p.net_position)}`)).toEqual(['A:1', 'B:2', 'A:1', 'A:01.0']);
  });

  it('should read from a given stream split into small chunks', async () => {
    const text = `\uFEFF${HEADER}\r\n"A\r\n",NYMEX,CL,FUT,202612,,5\r\n\r\nB,NYMEX,CL,FUT,202612,,x\r\n`;
    const source = Readable.from([...Buffer.from(text)].map((b) => Buffer.from([b])));

    const error = await collect(readCsvPositions('stream.csv', source)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('stream.csv:5: net_position: expected a number or a numeric string, got "x"');
  });

  it('should name the file, the line and the field of a value that is not numeric', async () => {
    const error = await failure(`${HEADER}\nA,NYMEX,CL,FUT,202612,,5\n\nA,NYMEX,CL,FUT,202612,,1.5x\n`);

    expect(error.message).toMatch(/bad\.csv:4: net_position: expected a number or a numeric string, got "1\.5x"$/);
    expect(error.line).toBe(4);
    expect(error.field).toBe('net_position');
  });

  it('should name the line of a bad record when the byte-order mark stands alone above the header', async () => {
    // The BOM starts no record (the parser drops it): the scan once counted its line as one, so every record was named by the line before it.
    const error = await failure(`\ufeff\n\n${HEADER}\nA,NYMEX,CL,FUT,202612,,5\nA,NYMEX,CL,FUT,202612,,1.5x\n`);

    expect(error.line).toBe(5);
    expect(error.message).toContain('bad.csv:5: net_position');
  });

  it('should name the line of an empty CRLF line in a file of LF lines, which the parser reads as a record', async () => {
    // LF is the record delimiter here, so "\r" is a record of one field: the scan used to skip it as a line end and name the next record's line.
    const error = await failure(`${HEADER}\nA,NYMEX,CL,FUT,202612,,5\n\r\nA,NYMEX,CL,FUT,202612,,6\n`);

    expect(error.line).toBe(3);
    expect(error.message).toContain('bad.csv:3: the record has 1 fields');
  });

  it("should refuse a record whose line ends in CRLF in a file whose first line ends in LF alone, naming the record's line", async () => {
    // LF is the record delimiter, so the parser keeps each CR as the end of the last field:
    // the rows were read with net_position "5\r", memo "ok\r" or account_code "A\r", sent as such.
    for (const [header, row, line] of [
      [HEADER, 'A,NYMEX,CL,FUT,202612,,5', 3],
      [`${HEADER},memo`, 'A,NYMEX,CL,FUT,202612,,5,ok', 3],
      // "A\r" would be an account of its own beside "A": chunked apart, both in flight at once.
      ['exchange_code,contract_code,contract_type,contract_expiry,contract_strike,net_position,account_code', 'NYMEX,CL,FUT,202612,,5,A', 3],
    ] as const) {
      const error = await failure(`${header}\n${row}\n${row}\r\n${row}\n`, 'mixed.csv');
      expect(error.message).toMatch(new RegExp(`mixed\\.csv:${line}: a line of this record ends in CRLF while the file's first line ends in LF alone`));
    }
    // The last line, ended by a CR alone.
    const last = await failure(`${HEADER}\nA,NYMEX,CL,FUT,202612,,5\nA,NYMEX,CL,FUT,202612,,5\r`, 'mixed.csv');
    expect(last.message).toMatch(/mixed\.csv:3: a line of this record ends in CRLF/);
    // A CRLF inside quotes is data, in a file of LF lines too.
    const path = files.write('quoted.csv', `${HEADER},memo\nA,NYMEX,CL,FUT,202612,,5,"two\r\nlines"\n`);
    expect((await collect(readCsvPositions(path))).map((p) => p.memo)).toEqual(['two\r\nlines']);
  });

  it('should name the line of a last line holding a CR alone in a file of CRLF lines, which the parser reads as a record', async () => {
    // CRLF is the record delimiter, so the "\r" ending the file is a record of one field: the
    // scan left that CR undecided at the end and counted no record, so the error fell back to
    // the parser's own line count, which also counts the CR inside the memo (4).
    const error = await failure(`${HEADER},memo\r\nA,NYMEX,CL,FUT,202612,,5,"x\ry"\r\n\r`);

    expect(error.line).toBe(3);
    expect(error.message).toContain('bad.csv:3: the record has 1 fields');
  });

  it('should name the line where a record starts when an earlier field spans lines', async () => {
    const error = await failure(`${HEADER},memo\r\nA,NYMEX,CL,FUT,202612,,5,"one\r\ntwo\r\nthree"\r\nA,NYMEX,,FUT,202612,,5,ok\r\n`);

    expect(error.line).toBe(5);
    expect(error.field).toBe('contract_code');
    expect(error.message).toContain('bad.csv:5: contract_code: missing');
  });

  it('should report a column every row needs but the header lacks once, on the header line', async () => {
    const error = await failure(`account_code,exchange_code,contract_code,contract_type,contract_expiry\nA,NYMEX,CL,FUT,202612\n`);
    const two = await failure(`\naccount_code,contract_code,contract_type,contract_expiry\nA,CL,FUT,202612\n`);
    const noAccount = await failure(`currency_pair,amount\nEURUSD,5\n`);

    expect(error.message).toMatch(/bad\.csv:1: missing column "net_position"$/);
    expect(error.line).toBe(1);
    expect(two.message).toMatch(/bad\.csv:2: missing columns "exchange_code", "net_position"$/);
    expect(noAccount.message).toMatch(/bad\.csv:1: missing column "account_code"$/);
  });

  it('should leave a column only some shapes need to the rows when the header has another shape\'s column', async () => {
    const mixed = 'account_code,exchange_code,contract_code,contract_type,contract_expiry,currency_pair,amount\n';
    const good = files.write('mixed.csv', `${mixed}A,,,,,EURUSD,5\n`);
    await expect(collect(readCsvPositions(good))).resolves.toEqual([{ account_code: 'A', currency_pair: 'EURUSD', amount: '5' }]);

    const error = await failure(`${mixed}A,,,,,EURUSD,5\nB,NYMEX,CL,FUT,202612,,\n`);
    expect(error.message).toMatch(/bad\.csv:3: net_position: missing/);
  });

  it('should fail a row with the wrong number of fields, naming its line', async () => {
    const error = await failure(`${HEADER}\r\nA,NYMEX,CL,FUT,202612,,5\r\n\r\nA,NYMEX,CL,FUT,202612,,5,7\r\n`);

    expect(error.line).toBe(4);
    expect(error.message).toMatch(/bad\.csv:4: the record has 8 fields, the header has 7$/);
  });

  it('should fail a short first row, counting the header', async () => {
    const error = await failure(`${HEADER}\nA,NYMEX,CL\n`);

    expect(error.message).toMatch(/bad\.csv:2: the record has 3 fields, the header has 7$/);
  });

  it('should fail a quote that is never closed at the line where its record starts', async () => {
    const error = await failure(`${HEADER}\nA,NYMEX,CL,FUT,202612,,5\nA,NYMEX,"CL,FUT,202612,,5\nA,NYMEX,CL,FUT,202612,,5\n`);

    expect(error.line).toBe(3);
    expect(error.message).toContain('never closed');
  });

  it('should fail a stray quote inside an unquoted field', async () => {
    const error = await failure(`${HEADER}\nA,NYMEX,C"L,FUT,202612,,5\n`);

    expect(error.line).toBe(2);
  });

  it('should fail a whitespace-only line instead of skipping it', async () => {
    const error = await failure(`${HEADER}\nA,NYMEX,CL,FUT,202612,,5\n   \n`);

    expect(error.line).toBe(3);
  });

  it('should fail a header with a repeated column', async () => {
    const error = await failure(`${HEADER},net_position\nA,NYMEX,CL,FUT,202612,,5,6\n`);

    expect(error.message).toMatch(/bad\.csv:1: net_position: the column appears twice/);
  });

  it('should fail a file separated by semicolons with a hint', async () => {
    const error = await failure(`${HEADER.replace(/,/g, ';')}\nA;NYMEX;CL;FUT;202612;;5\n`);

    expect(error.message).toMatch(/bad\.csv:1: .*only comma-separated/);
  });

  it('should accept a nameless column only while its cells are empty', async () => {
    const good = files.write('trailing.csv', `${HEADER},\nA,NYMEX,CL,FUT,202612,,5,\n`);
    await expect(collect(readCsvPositions(good))).resolves.toHaveLength(1);

    const error = await failure(`${HEADER},\nA,NYMEX,CL,FUT,202612,,5,\nA,NYMEX,CL,FUT,202612,,5,oops\n`);
    expect(error.message).toMatch(/bad\.csv:3: column 8 has a value but no name/);
  });

  it('should fail a missing file with its name', async () => {
    const error = await collect(readCsvPositions('/nonexistent/dir/book.csv')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('/nonexistent/dir/book.csv: no such file');
  });
});

describe('csvPositionGroups', () => {
  it('should tell the line and offset of each record of every group it hands out', async () => {
    const first = `${HEADER}\nA,NYMEX,CL,FUT,202612,,1\n\nB,NYMEX,CL,FUT,202612,,2\n`;
    const second = 'C,NYMEX,CL,FUT,202612,,3\n';
    const source = Readable.from([Buffer.from(first), Buffer.from(second)]);
    const cursor: CsvCursor = { lines: [], offsets: [], header: undefined };
    const codes: string[] = [];
    const lines: number[] = [];
    const offsets: number[] = [];

    for await (const group of csvPositionGroups('groups.csv', { source, cursor })) {
      expect(group.length).toBeGreaterThan(0);
      expect(cursor.lines).toHaveLength(group.length);
      expect(cursor.offsets).toHaveLength(group.length);
      codes.push(...group.map((p) => p.account_code));
      lines.push(...cursor.lines);
      offsets.push(...cursor.offsets);
    }

    const offset = (code: string): number => (first + second).indexOf(`${code},NYMEX`);
    expect(codes).toEqual(['A', 'B', 'C']);
    expect(lines).toEqual([2, 4, 5]);
    expect(offsets).toEqual([offset('A'), offset('B'), offset('C')]);
    expect(cursor.header).toEqual(HEADER.split(','));
  });

  it('should tell the lines and offsets of the records of a file whose byte-order mark stands alone above the header', async () => {
    const text = `\ufeff\r\n${HEADER}\r\nA,NYMEX,CL,FUT,202612,,1\r\nB,NYMEX,CL,FUT,202612,,2\r\n`;
    const bytes = Buffer.from(text);
    const cursor: CsvCursor = { lines: [], offsets: [], header: undefined };
    const lines: number[] = [];
    const offsets: number[] = [];
    // One byte at a time: the mark split across reads.
    const source = Readable.from(Array.from(bytes, (b) => Buffer.from([b])));

    for await (const group of csvPositionGroups('bom.csv', { source, cursor })) {
      expect(group.length).toBeGreaterThan(0);
      lines.push(...cursor.lines);
      offsets.push(...cursor.offsets);
    }

    expect(lines).toEqual([3, 4]);
    expect(offsets).toEqual([bytes.indexOf('A,NYMEX'), bytes.indexOf('B,NYMEX')]);
  });

  it('should hand out the positions before a failing record, then fail naming its line', async () => {
    const source = Readable.from([Buffer.from(`${HEADER}\nA,NYMEX,CL,FUT,202612,,1\nB,NYMEX,CL,FUT,202612,,x\nC,NYMEX,CL,FUT,202612,,3\n`)]);
    const handedOut: string[] = [];

    const error = await (async () => {
      for await (const group of csvPositionGroups('failing.csv', { source })) handedOut.push(...group.map((p) => p.account_code));
    })().catch((e: unknown) => e);

    expect(handedOut).toEqual(['A']);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).line).toBe(3);
  });
});

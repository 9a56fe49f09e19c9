import { appendFileSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { firstValueFrom, type Subscription } from 'rxjs';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createClient } from '../../src/http/client';
import { InputError, loadPortfolio, openPortfolio } from '../../src/input';
import { chunkByAccount } from '../../src/streams/chunkByAccount';
import { runBatches } from '../../src/streams/runBatches';
import { countReads } from '../support/fileReads';
import { collect, HEADER, scratchDir } from './helpers';

const KEY = 'sk-stream-portfolio-key-01';
const row = (account: string, contract: string, net: string): string => `${account},CME,${contract},FUT,202712,,${net}`;
const CSV = [HEADER, row('A', 'ES', '1'), row('A', 'NQ', '-2'), row('B', 'ES', '3'), row('A', 'YM', '4'), row('C', 'ES', '5')].join('\n') + '\n';
const ANY_TIME = new Date('2026-01-02T03:04:05Z');
const OTHER_TIME = new Date('2026-01-02T03:04:06Z');

/**
 * Rewrites `file` in place with `text` of the same size and sets its modification time to
 * `time`: ANY_TIME (what the specs open files with) for an edit the file's identity cannot
 * show (one within the clock's resolution), so only the rows' own checks can catch it.
 */
function rewriteInPlace(file: string, text: string, time: Date = ANY_TIME): void {
  expect(Buffer.byteLength(text)).toBe(statSync(file).size);
  writeFileSync(file, text);
  utimesSync(file, time, time);
}

/** `book`, calling `edit` once its positions are being read (after the first one is handed out). */
function editedWhileRead<T extends { positions(): AsyncIterable<unknown> }>(book: T, edit: () => void): T {
  return {
    ...book,
    positions: async function* positions() {
      let first = true;
      for await (const position of book.positions()) {
        yield position;
        if (first) edit();
        first = false;
      }
    },
  };
}

/** The error `promise` rejects with (the spec fails when it resolves). */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('openPortfolio', () => {
  const files = scratchDir();
  let emulator: EmulatorHandle;
  beforeAll(async () => {
    emulator = await startEmulator({ apiKeys: [KEY], msPerAccount: 0 });
    emulator.faults.holdBatch('*', 'queued');
  });
  afterAll(async () => {
    await emulator.close();
    files.cleanup();
  });

  it('should give the positions loadPortfolio gives, and the accounts in order of first appearance', async () => {
    const file = files.write('mixed.csv', CSV);
    const book = await openPortfolio(file);
    expect(await collect(book.positions())).toEqual((await loadPortfolio(file)).portfolio);
    expect(book.accountCodes).toEqual(['A', 'B', 'C']);
    expect(book.positionCount).toBe(5);
    expect(book.options).toEqual({});
  });

  it('should read the file again for every call of positions()', async () => {
    const file = files.write('again.csv', CSV);
    const book = await openPortfolio(file);
    const first = await collect(book.positions());
    expect(await collect(book.positions())).toEqual(first);
  });

  it('should refuse a bad line when opened, with the error loadPortfolio gives', async () => {
    const file = files.write('bad.csv', `${HEADER}\n${row('A', 'ES', '1')}\n${row('B', 'ES', '12a')}\n`);
    const opened = await failure(openPortfolio(file));
    const loaded = await failure(loadPortfolio(file));
    expect(opened).toBeInstanceOf(InputError);
    expect((opened as InputError).message).toBe((loaded as InputError).message);
    expect(opened).toMatchObject({ line: 3, field: 'net_position' });
  });

  it('should refuse a position writing a key twice when opened, JSON and NDJSON alike', async () => {
    const position = '{"account_code":"A","exchange_code":"CME","contract_code":"ES","contract_type":"FUT","contract_expiry":"202712","net_position":"1","net_position":"2"}';
    const ndjson = files.write('twice.ndjson', `${position.replace(',"net_position":"2"', '')}\n${position}\n`);
    const json = files.write('twice.json', `{"portfolio":[\n${position}\n]}`);

    await expect(openPortfolio(ndjson)).rejects.toThrow(`${ndjson}:2: net_position: the key appears twice`);
    await expect(openPortfolio(json)).rejects.toThrow(`${json}:2: portfolio[0].net_position: the key appears twice`);
  });

  it('should refuse a file without positions', async () => {
    await expect(openPortfolio(files.write('empty.csv', `${HEADER}\n`))).rejects.toThrow(/holds no positions/);
  });

  it('should refuse to read a file whose size or time changed since it was opened, before reading a row', async () => {
    const file = files.write('appended.csv', CSV);
    const book = await openPortfolio(file);
    appendFileSync(file, `${row('A', 'ES', 'x')}\n`);
    const error = await failure(collect(book.positions()));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`${file}: the file changed after it was opened: its size or modification time differs; the request was not completed`);
  });

  it('should fail the read naming the line when a bad line was written after the file was opened, size and time kept', async () => {
    const file = files.write('changed.csv', CSV);
    utimesSync(file, ANY_TIME, ANY_TIME);
    const book = await openPortfolio(file);
    rewriteInPlace(file, CSV.replace(row('C', 'ES', '5'), row('C', 'ES', 'x')));
    const error = await failure(collect(book.positions()));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ line: 6, field: 'net_position' });
  });

  it('should fail the read when the file holds another account or more or fewer positions than when opened, size and time kept', async () => {
    // Blank lines (skipped) leave room for a row of the same total size.
    const padding = '\n'.repeat(row('A', 'ZZ', '9').length + 1);
    const file = files.write('grown.csv', CSV + padding);
    utimesSync(file, ANY_TIME, ANY_TIME);
    const book = await openPortfolio(file);
    rewriteInPlace(file, `${CSV}${row('A', 'ZZ', '9')}\n`);
    await expect(collect(book.positions())).rejects.toThrow(/changed after it was opened: it holds more than the 5 positions/);
    rewriteInPlace(file, CSV.replace(row('C', 'ES', '5'), row('D', 'ES', '5')) + padding);
    await expect(collect(book.positions())).rejects.toThrow(/account "D" was not in it/);
    rewriteInPlace(file, CSV.replace(row('C', 'ES', '5'), '\n'.repeat(row('C', 'ES', '5').length)) + padding);
    await expect(collect(book.positions())).rejects.toThrow(/5 positions read then, 4 now/);
  });

  it('should keep only the given accounts in a subset, in file order', async () => {
    const book = await openPortfolio(files.write('subset.csv', CSV));
    const part = book.subset(['C', 'A']);
    expect(part.accountCodes).toEqual(['A', 'C']);
    expect((await collect(part.positions())).map((p) => p.contract_code)).toEqual(['ES', 'NQ', 'YM', 'ES']);
    expect(() => book.subset(['Z'])).toThrow(TypeError);
  });

  it('should submit the file as one batch, reading it again for a retried attempt', async () => {
    const file = files.write('retry.csv', CSV);
    const book = (await openPortfolio(file)).withOptions({ currency_code: 'USD' });
    let reads = 0;
    const counted = {
      ...book,
      positions: () => {
        reads++;
        return book.positions();
      },
    };
    const client = createClient({ endpoint: emulator.url, apiKey: KEY, retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    const submitsBefore = emulator.stats.requests.submit;
    emulator.faults.failNext('submit', { status: 503 });
    const accepted = await firstValueFrom(client.submitBatch(counted));
    expect(accepted.batch_id).toEqual(expect.any(String));
    expect(emulator.stats.requests.submit - submitsBefore).toBe(2);
    expect(reads).toBe(2);
    expect(emulator.stats.lastSubmittedPayloads.get(KEY)).toEqual({ ...(await loadPortfolio(file)), currency_code: 'USD' });
  });

  it('should abort the request when a bad line turns up mid-upload, and the server accepts no batch', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 3000; i++) lines.push(row(`ACC${i}`, 'ES', String(i)));
    const file = files.write('midway.csv', lines.join('\n') + '\n');
    utimesSync(file, ANY_TIME, ANY_TIME);
    const book = await openPortfolio(file);
    // Line 2501 goes bad after the file was checked, size and time kept: found only when read.
    lines[2500] = row('ACC2499', 'ES', 'oops');
    rewriteInPlace(file, lines.join('\n') + '\n');
    const client = createClient({ endpoint: emulator.url, apiKey: KEY, retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    const submitsBefore = emulator.stats.requests.submit;
    const batchesBefore = emulator.stats.lastSubmittedPayloads.get(KEY);
    const error = await failure(firstValueFrom(client.submitBatch(book)));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`${file}:2501: net_position: expected a number or a numeric string, got "oops"`);
    // Not retried, and nothing the server parsed.
    expect(emulator.stats.requests.submit - submitsBefore).toBeLessThanOrEqual(1);
    expect(emulator.stats.lastSubmittedPayloads.get(KEY)).toBe(batchesBefore);
  });

  it('should refuse to send a file edited in place to the same length after it was opened, and the server parses no batch', async () => {
    const text = CSV.replace(row('C', 'ES', '5'), row('C', 'ES', '17'));
    const client = createClient({ endpoint: emulator.url, apiKey: KEY, retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    for (const [name, edited] of [
      ['value.csv', text.replace(row('C', 'ES', '17'), row('C', 'ES', '27'))],
      ['moved.csv', text.replace(row('A', 'YM', '4'), row('B', 'YM', '4'))],
    ]) {
      const file = files.write(name, text);
      utimesSync(file, ANY_TIME, ANY_TIME);
      const book = await openPortfolio(file);
      // Every row still valid, same accounts and count: only the file's identity shows the edit.
      rewriteInPlace(file, edited, OTHER_TIME);
      const batchesBefore = emulator.stats.lastSubmittedPayloads.get(KEY);
      const error = await failure(firstValueFrom(client.submitBatch(book)));
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe(`${file}: the file changed after it was opened: its size or modification time differs; the request was not completed`);
      expect(emulator.stats.lastSubmittedPayloads.get(KEY)).toBe(batchesBefore);
    }
  });

  it('should abort the request when the file is edited while it is read, and the server parses no batch', async () => {
    const text = CSV.replace(row('C', 'ES', '5'), row('C', 'ES', '17'));
    const file = files.write('during.ndjson', (await loadPortfolio(files.write('during.csv', text))).portfolio.map((p) => JSON.stringify(p)).join('\n') + '\n');
    utimesSync(file, ANY_TIME, ANY_TIME);
    const book = await openPortfolio(file);
    // The rows already buffered are the old ones; only the check when the read ends can tell.
    const edited = editedWhileRead(book, () => rewriteInPlace(file, readFileSync(file, 'utf8').replace('"17"', '"27"'), OTHER_TIME));
    const client = createClient({ endpoint: emulator.url, apiKey: KEY, retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 } });
    const batchesBefore = emulator.stats.lastSubmittedPayloads.get(KEY);
    const error = await failure(firstValueFrom(client.submitBatch(edited)));
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/changed after it was opened: its size or modification time differs/);
    expect(emulator.stats.lastSubmittedPayloads.get(KEY)).toBe(batchesBefore);
  });

  describe('chunks', () => {
    // Each account's rows together, CRLF line ends and a blank line: offsets and lines must still be exact.
    const GROUPED = [HEADER, row('A', 'ES', '1'), row('A', 'NQ', '2'), '', row('B', 'ES', '3'), row('C', 'ES', '4'), row('C', 'NQ', '5'), row('D', 'ES', '6')].join('\r\n') + '\r\n';
    it('should cut the file as chunkByAccount cuts the loaded portfolio, options on every chunk', async () => {
      const file = files.write('grouped.csv', GROUPED);
      const book = (await openPortfolio(file)).withOptions({ currency_code: 'USD' });
      const chunks = book.chunks({ maxAccounts: 2 });
      expect(chunks.map((c) => c.accountCodes)).toEqual([['A', 'B'], ['C', 'D']]);
      expect(chunks.map((c) => c.options)).toEqual([{ currency_code: 'USD' }, { currency_code: 'USD' }]);
      const loaded = await loadPortfolio(file);
      const expected = chunkByAccount({ ...loaded, currency_code: 'USD' }, { maxAccounts: 2 });
      for (const [i, chunk] of chunks.entries()) expect(await collect(chunk.positions())).toEqual(expected[i].portfolio);
      expect(() => book.chunks({ maxAccounts: 0 })).toThrow(TypeError);
    });

    it('should refuse a file of LF lines with a CRLF line before any chunk is read, naming its line', async () => {
      // LF lines but one CRLF: the whole file's parser keeps that CR as the end of B's
      // net_position ("2\r"), which was sent as such (a chunk's own parser once even cut B's
      // rows differently). It is refused, as a bare LF in a file of CRLF lines is.
      const mixed = `${[HEADER, row('A', 'ES', '1'), row('B', 'ES', '2')].join('\n')}\r\n${[row('B', 'ES', '3'), row('B', 'NQ', '4'), row('C', 'ES', '5')].join('\n')}\n`;
      const file = files.write('mixed-line-ends.csv', mixed);
      await expect(openPortfolio(file)).rejects.toThrow(/mixed-line-ends\.csv:3: a line of this record ends in CRLF while the file's first line ends in LF alone/);
      await expect(loadPortfolio(file)).rejects.toThrow(/mixed-line-ends\.csv:3: a line of this record ends in CRLF/);
    });

    it('should read each chunk of a file with CR-only line ends, whose record offsets the scan cannot tell, from the whole file', async () => {
      const file = files.write('cr-only.csv', GROUPED.replace(/\r\n/g, '\r'));
      const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 1 });
      const expected = chunkByAccount(await loadPortfolio(file), { maxAccounts: 1 });
      expect(chunks.map((c) => c.accountCodes)).toEqual([['A'], ['B'], ['C'], ['D']]);
      for (const [i, chunk] of chunks.entries()) expect(await collect(chunk.positions())).toEqual(expected[i].portfolio);
    });

    it('should read each chunk of a file whose byte-order mark stands alone above the header, grouped or not', async () => {
      // The scan took the BOM's line for a record, so every row's offset was its previous record's: a chunk read the header
      // as a row, or failed with "the file changed" on a file that had not.
      for (const [name, text] of [
        ['bom-grouped.csv', `\ufeff\r\n${GROUPED}`],
        ['bom-interleaved.csv', `\ufeff\n\n${CSV}`],
      ]) {
        const file = files.write(name, text);
        const book = await openPortfolio(file);
        const expected = chunkByAccount(await loadPortfolio(file), { maxAccounts: 1 });
        const chunks = book.chunks({ maxAccounts: 1 });
        expect(chunks).toHaveLength(expected.length);
        for (const [i, chunk] of chunks.entries()) expect(await collect(chunk.positions())).toEqual(expected[i].portfolio);
      }
    });

    it('should send each chunk of a UTF-16 file (a spreadsheet\'s "Unicode text" export) as loadPortfolio reads it', async () => {
      // Its rows cannot be read on their own (a part has no byte-order mark, and its offsets
      // are a byte off): every chunk reads the whole file instead.
      // One file grouped by account (a chunk is a byte range), one not (a chunk is runs of rows).
      for (const [order, eol] of [['A', 'A', 'B', 'Ä'], ['A', 'B', 'A', 'Ä']].flatMap((o) => [[o, '\n'] as const, [o, '\r\n'] as const])) {
        const rows = order.map((account, i) => row(account, i % 2 === 0 ? 'ES' : 'NQ', String(i + 1)));
        const file = files.write('utf16.csv', Buffer.from(`\ufeff${HEADER}${eol}${rows.join(eol)}${eol}`, 'utf16le'));
        const loaded = await loadPortfolio(file);
        expect(loaded.portfolio.map((p) => p.account_code)).toEqual(order);
        const book = await openPortfolio(file);
        const expected = chunkByAccount(loaded, { maxAccounts: 1 });
        const chunks = book.chunks({ maxAccounts: 1 });
        expect(chunks.map((c) => c.accountCodes)).toEqual([['A'], ['B'], ['Ä']]);
        for (const [i, chunk] of chunks.entries()) expect(await collect(chunk.positions())).toEqual(expected[i].portfolio);
        expect(await collect(book.subset(['B', 'Ä']).positions())).toEqual(loaded.portfolio.filter((p) => p.account_code !== 'A'));
      }
    });

    it('should refuse a file of CRLF lines holding a bare LF line, naming its line, when loaded and when opened', async () => {
      // With CRLF the record delimiter, the parser reads a bare LF as text of the next record:
      // "\nA" would be sent as an account of its own, beside A.
      const text = `${HEADER}\r\n${row('A', 'ES', '1')}\r\n${row('B', 'ES', '2')}\r\n\n${row('A', 'NQ', '3')}\r\n${row('B', 'NQ', '4')}\r\n`;
      const file = files.write('bare-lf.csv', text);
      const refused = `${file}:4: a line of this record ends in LF alone while the file's lines end in CRLF`;
      await expect(loadPortfolio(file)).rejects.toThrow(refused);
      await expect(openPortfolio(file)).rejects.toThrow(refused);
    });

    it("should group an interleaved file's accounts in each chunk, as chunkByAccount does", async () => {
      const file = files.write('interleaved.csv', CSV);
      const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 2 });
      expect(chunks.map((c) => c.accountCodes)).toEqual([['A', 'B'], ['C']]);
      expect((await collect(chunks[0].positions())).map((p) => `${p.account_code}${p.contract_code}`)).toEqual(['AES', 'ANQ', 'AYM', 'BES']);
    });

    it('should read only its own rows of a grouped file, naming the file\'s own lines', async () => {
      const file = files.write('ranges.csv', GROUPED);
      utimesSync(file, ANY_TIME, ANY_TIME);
      const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 2 });
      // The same bytes but for a bad cell in the second chunk (line 7), size and time kept:
      // the first chunk never reads it, the second names its line.
      writeFileSync(file, GROUPED.replace(row('C', 'NQ', '5'), row('C', 'NQ', 'x')));
      utimesSync(file, ANY_TIME, ANY_TIME);
      expect(statSync(file).size).toBe(Buffer.byteLength(GROUPED));
      expect((await collect(chunks[0].positions())).map((p) => p.net_position)).toEqual(['1', '2', '3']);
      const error = await failure(collect(chunks[1].positions()));
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ line: 7, field: 'net_position' });
    });

    it('should refuse to read a chunk of a file that changed size or time since it was opened', async () => {
      const file = files.write('resized.csv', GROUPED);
      const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 2 });
      appendFileSync(file, `${row('E', 'ES', '7')}\n`);
      await expect(collect(chunks[1].positions())).rejects.toThrow(/changed after it was opened: its size or modification time differs/);
    });

    it('should fail a chunk whose file is edited while the chunk is read', async () => {
      const file = files.write('chunk-during.csv', GROUPED);
      utimesSync(file, ANY_TIME, ANY_TIME);
      const [, second] = (await openPortfolio(file)).chunks({ maxAccounts: 2 });
      const edited = editedWhileRead(second, () => rewriteInPlace(file, GROUPED.replace(row('D', 'ES', '6'), row('D', 'ES', '7')), OTHER_TIME));
      await expect(collect(edited.positions())).rejects.toThrow(/changed after it was opened: its size or modification time differs/);
    });

    describe('of a file not grouped by account', () => {
      /** `accounts` accounts of `rows` rows each, written round-robin (every account in `rows` places), `eol` line ends. */
      function interleaved(accounts: number, rows: number, eol = '\n'): string {
        const lines = [HEADER];
        for (let r = 0; r < rows; r++) for (let a = 0; a < accounts; a++) lines.push(row(`ACC${String(a).padStart(3, '0')}`, `C${r}`, String(a * 10 + r)));
        return lines.join(eol) + eol;
      }
      const positionsOf = (file: string) => loadPortfolio(file).then((loaded) => chunkByAccount(loaded, { maxAccounts: 1 }).map((c) => c.portfolio));

      it('should read the file once in all for many chunks of one account, not once per chunk', async () => {
        const text = interleaved(40, 3);
        const file = files.write('interleaved-many.csv', text);
        const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 1 });
        expect(chunks).toHaveLength(40);
        const expected = await positionsOf(file);
        const reads = countReads(file);
        try {
          const sent = [];
          for (const chunk of chunks) sent.push(await collect(chunk.positions()));
          expect(sent).toEqual(expected);
          // Each row's bytes read by its own chunk only (a chunk used to read the whole file: 40 times its size).
          expect(reads.bytes).toBeLessThanOrEqual(Buffer.byteLength(text));
          await reads.settled();
          expect(reads.opened).toBe(40);
          expect(reads.closed).toBe(40);
        } finally {
          reads.restore();
        }
      });

      it('should send each chunk as chunkByAccount sends it, NDJSON with LF, CRLF and CR line ends and the last line unended', async () => {
        const loaded = await loadPortfolio(files.write('ends-source.csv', interleaved(3, 3)));
        const lines = loaded.portfolio.map((p) => JSON.stringify(p));
        // readline ends a line at LF, CRLF or a CR alone: the offsets and lines found must split the same way.
        const text = lines.map((line, i) => line + (i === lines.length - 1 ? '' : ['\n', '\r\n', '\r', '\n\n'][i % 4])).join('');
        const file = files.write('ends.ndjson', text);
        const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 2 });
        const expected = chunkByAccount(await loadPortfolio(file), { maxAccounts: 2 });
        expect(chunks.map((c) => c.accountCodes)).toEqual([['ACC000', 'ACC001'], ['ACC002']]);
        for (const [i, chunk] of chunks.entries()) expect(await collect(chunk.positions())).toEqual(expected[i].portfolio);
        // Halves and a subset of the whole file (file order) read their own rows too.
        expect(await collect(chunks[0].subset(['ACC001']).positions())).toEqual(expected[0].portfolio.filter((p) => p.account_code === 'ACC001'));
        const book = await openPortfolio(file);
        expect(await collect(book.subset(['ACC002', 'ACC000']).positions())).toEqual(loaded.portfolio.filter((p) => p.account_code !== 'ACC001'));
      });

      it('should send every chunk and half of generated CSV files as chunkByAccount sends the loaded file: LF, CRLF, mixed ends, BOM, blank lines, quoted line breaks', async () => {
        // A seeded generator (xorshift): the same 60 files each run.
        let state = 2463534242;
        const next = (n: number): number => {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          return (state >>> 0) % n;
        };
        const pick = <T>(items: readonly T[]): T => items[next(items.length)];
        const cell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
        let compared = 0;
        for (let n = 0; n < 60; n++) {
          const eol = pick(['\n', '\r\n']);
          const accounts = ['A', 'B,1', 'C\n2', 'D', 'É'].slice(0, 2 + next(4));
          const lines = [...(next(3) === 0 ? [''] : []), `${HEADER},memo`];
          for (let r = 0; r < 4 + next(12); r++) {
            if (next(6) === 0) lines.push('');
            lines.push([pick(accounts), 'CME', `C${r}`, 'FUT', '202712', '', String(r), pick(['', 'x', 'a,b', 'two\nlines', 'cr\r\nlf', 'q"q'])].map(cell).join(','));
          }
          // Mixed: some line ends the other kind (a bare LF in a CRLF file is text of the next record to the parser).
          const mixed = next(2) === 0;
          const text = (next(3) === 0 ? '\ufeff' : '') + lines.map((line) => line + (mixed && next(4) === 0 ? pick(['\n', '\r\n']) : eol)).join('');
          const file = files.write(`generated-${n}.csv`, text);
          const loaded = await loadPortfolio(file).catch(() => undefined);
          if (loaded === undefined) continue;
          compared++;
          const book = await openPortfolio(file);
          for (const config of [{ maxAccounts: 1 }, { maxAccounts: 2 }]) {
            const expected = chunkByAccount(loaded, config);
            const chunks = book.chunks(config);
            expect(chunks.map((c) => c.accountCodes)).toEqual(expected.map((c) => [...new Set(c.portfolio.map((p) => p.account_code))]));
            for (const [i, chunk] of chunks.entries()) {
              expect(await collect(chunk.positions())).toEqual(expected[i].portfolio);
              const half = chunk.accountCodes.slice(1);
              if (half.length > 0) expect(await collect(chunk.subset(half).positions())).toEqual(expected[i].portfolio.filter((p) => half.includes(p.account_code)));
            }
          }
          const some = book.accountCodes.filter((_, i) => i % 2 === 0);
          expect(await collect(book.subset(some).positions())).toEqual(loaded.portfolio.filter((p) => some.includes(p.account_code)));
        }
        // Most files are valid: the comparison ran on them, not only on refusals.
        expect(compared).toBeGreaterThan(30);
      });

      it("should name the file's own line of a bad row in a chunk, CSV and NDJSON", async () => {
        const text = interleaved(3, 3, '\r\n');
        const csv = files.write('own-lines.csv', text);
        const ndjson = files.write('own-lines.ndjson', (await loadPortfolio(csv)).portfolio.map((p) => JSON.stringify(p)).join('\n') + '\n');
        for (const [file, line] of [
          [csv, 9],
          [ndjson, 8],
        ] as const) {
          utimesSync(file, ANY_TIME, ANY_TIME);
          const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 1 });
          // ACC001's last row (net 12) goes bad, size and time kept.
          rewriteInPlace(file, readFileSync(file, 'utf8').replace(file === csv ? ',12\r\n' : '"12"', file === csv ? ',1x\r\n' : '"1x"'));
          expect((await collect(chunks[0].positions())).map((p) => p.net_position)).toEqual(['0', '1', '2']);
          const error = await failure(collect(chunks[1].positions()));
          expect(error).toBeInstanceOf(InputError);
          expect(error).toMatchObject({ line, field: 'net_position' });
        }
      });

      it('should fail a chunk clearly when the file changed, and close the file whether the read ends, fails or is left early', async () => {
        const text = interleaved(4, 2);
        const file = files.write('changing.csv', text);
        utimesSync(file, ANY_TIME, ANY_TIME);
        const chunks = (await openPortfolio(file)).chunks({ maxAccounts: 1 });
        const reads = countReads(file);
        try {
          // Left after the first position (a request aborted, a run unsubscribed).
          for await (const position of chunks[0].positions()) {
            expect(position.account_code).toBe('ACC000');
            break;
          }
          await reads.settled();
          expect(reads.closed).toBe(reads.opened);
          // A row moved to another account, size and time kept.
          rewriteInPlace(file, text.replace(row('ACC001', 'C1', '11'), row('ACC002', 'C1', '11')));
          await expect(collect(chunks[1].positions())).rejects.toThrow(/changed after it was opened: account "ACC002" was not where it was; the request was not completed/);
          // ACC002's own rows are where they were: they are what it sends.
          expect((await collect(chunks[2].positions())).map((p) => p.net_position)).toEqual(['20', '21']);
          // Cut short, size kept by the time: only the rows tell.
          rewriteInPlace(file, text.slice(0, text.length - 40) + '\n'.repeat(40));
          await expect(collect(chunks[3].positions())).rejects.toThrow(/changed after it was opened/);
          expect(reads.opened).toBeGreaterThan(0);
          await reads.settled();
          expect(reads.closed).toBe(reads.opened);
        } finally {
          reads.restore();
        }
      });
    });

    it('should close the file of every chunk when a chunked run of a scattered file is unsubscribed mid-read (Ctrl-C)', async () => {
      const lines = [HEADER];
      for (let r = 0; r < 200; r++) for (let a = 0; a < 8; a++) lines.push(row(`ACC${a}`, `C${r}`, String(r)));
      const file = files.write('cancelled.csv', lines.join('\n') + '\n');
      const book = await openPortfolio(file);
      const client = createClient({ endpoint: emulator.url, apiKey: KEY, retry: { maxRetries: 0 } });
      let subscription: Subscription | undefined;
      let reads = 0;
      let cancel!: () => void;
      const cancelled = new Promise<void>((resolve) => (cancel = resolve));
      // Cancelled while chunks are being read (each row is a read of its own; 200 a chunk, 4 chunks at once).
      const counted = countReads(file, () => {
        if (++reads !== 300) return;
        subscription?.unsubscribe();
        cancel();
      });
      try {
        const events: string[] = [];
        subscription = runBatches(client, { payload: book, maxAccounts: 1 }, { concurrency: 4 }).subscribe({ next: (e) => events.push(e.type), error: (e: unknown) => events.push(String(e)) });
        await cancelled;
        await counted.settled();
        expect(subscription.closed).toBe(true);
        expect(reads).toBeGreaterThanOrEqual(300);
        expect(counted.opened).toBeGreaterThanOrEqual(2);
        expect(counted.closed).toBe(counted.opened);
        expect(events).not.toContain('report');
      } finally {
        counted.restore();
        subscription?.unsubscribe();
      }
    }, 10_000);

    it('should split a chunk into halves that read their own rows', async () => {
      const file = files.write('halves.csv', GROUPED);
      const [first] = (await openPortfolio(file)).chunks({ maxAccounts: 3 });
      const [left, right] = [first.subset(['A', 'B']), first.subset(['C'])];
      expect((await collect(left.positions())).map((p) => p.net_position)).toEqual(['1', '2', '3']);
      expect((await collect(right.positions())).map((p) => p.net_position)).toEqual(['4', '5']);
      expect(() => first.subset(['D'])).toThrow(TypeError);
    });
  });
});

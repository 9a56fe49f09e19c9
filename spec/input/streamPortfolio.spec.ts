import { appendFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { firstValueFrom } from 'rxjs';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createClient } from '../../src/http/client';
import { InputError, loadPortfolio, openPortfolio } from '../../src/input';
import { chunkByAccount } from '../../src/streams/chunkByAccount';
import { collect, HEADER, scratchDir } from './helpers';

const KEY = 'sk-stream-portfolio-key-01';
const row = (account: string, contract: string, net: string): string => `${account},CME,${contract},FUT,202712,,${net}`;
const CSV = [HEADER, row('A', 'ES', '1'), row('A', 'NQ', '-2'), row('B', 'ES', '3'), row('A', 'YM', '4'), row('C', 'ES', '5')].join('\n') + '\n';

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

  it('should refuse a file without positions', async () => {
    await expect(openPortfolio(files.write('empty.csv', `${HEADER}\n`))).rejects.toThrow(/holds no positions/);
  });

  it('should fail the read naming the line when a bad line was written after the file was opened', async () => {
    const file = files.write('changed.csv', CSV);
    const book = await openPortfolio(file);
    appendFileSync(file, `${row('A', 'ES', 'x')}\n`);
    const error = await failure(collect(book.positions()));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ line: 7, field: 'net_position' });
  });

  it('should fail the read when the file holds another account or more or fewer positions than when opened', async () => {
    const file = files.write('grown.csv', CSV);
    const book = await openPortfolio(file);
    appendFileSync(file, `${row('A', 'ZZ', '9')}\n`);
    await expect(collect(book.positions())).rejects.toThrow(/changed after it was opened: it holds more than the 5 positions/);
    writeFileSync(file, CSV.replace(row('C', 'ES', '5'), row('D', 'ES', '5')));
    await expect(collect(book.positions())).rejects.toThrow(/account "D" was not in it/);
    writeFileSync(file, CSV.replace(`${row('C', 'ES', '5')}\n`, ''));
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
    const book = await openPortfolio(file);
    // Line 2501 goes bad after the file was checked.
    lines[2500] = row('ACC2499', 'ES', 'oops');
    writeFileSync(file, lines.join('\n') + '\n');
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

  describe('chunks', () => {
    // Each account's rows together, CRLF line ends and a blank line: offsets and lines must still be exact.
    const GROUPED = [HEADER, row('A', 'ES', '1'), row('A', 'NQ', '2'), '', row('B', 'ES', '3'), row('C', 'ES', '4'), row('C', 'NQ', '5'), row('D', 'ES', '6')].join('\r\n') + '\r\n';
    const ANY_TIME = new Date('2026-01-02T03:04:05Z');

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

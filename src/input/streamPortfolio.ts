/**
 * A portfolio file submitted without holding its positions: checked once when opened, then
 * read again as a stream for every attempt of the submit.
 */
import { stat } from 'node:fs/promises';
import type { Position } from '../codecs';
import { checkChunkLimits, chunkByAccount, envelopeBytes, planAccountChunks, type ChunkableRequest, type ChunkByAccountConfig } from '../streams/chunkByAccount';
import { groupedPositions } from '../http/serializePayload';
import { csvPositionGroups, type CsvCursor, type CsvRange } from './csv';
import { InputError } from './errors';
import { fileErrorReason } from './fileErrors';
import type { Segment } from './segments';
import { readJsonPortfolio } from './json';
import { ndjsonPositions, type NdjsonCursor, type NdjsonSegments } from './ndjson';
import { resolveFormat, type InputFormat, type LoadPortfolioOptions } from './loadPortfolio';

/**
 * An opened portfolio file: what a submit needs to send it ({@link StreamedPortfolioRequest})
 * plus what was learnt when it was opened. CSV and NDJSON positions are read from the file
 * for each attempt and never held; a JSON file is parsed whole (JSON cannot be read as a
 * stream of positions here), so it is held, as {@link loadPortfolio} holds it.
 */
export interface PortfolioFile extends ChunkableRequest {
  /** The file as the caller named it (errors name it so). */
  readonly file: string;
  readonly format: InputFormat;
  /** Positions in the file when it was opened (a {@link PortfolioFile.subset} sends only some of them). */
  readonly positionCount: number;
  /**
   * The positions, read from the file again, exactly as {@link loadPortfolio} would give them
   * (same validation, same `file:line: field` errors). Fails with an {@link InputError} when
   * the file no longer matches what was read when it was opened.
   */
  positions(): AsyncIterable<Position>;
  /**
   * The same file sent with other request fields (`calculation_type`, `currency_code`, …).
   *
   * @param options the fields beside `portfolio` (a `portfolio` field is refused)
   */
  withOptions(options: Readonly<Record<string, unknown>>): PortfolioFile;
  /**
   * Only these accounts' positions, in file order (a batch refused as too large is split so).
   *
   * @param accountCodes accounts of this file
   */
  subset(accountCodes: readonly string[]): PortfolioFile;
  /**
   * The batches {@link chunkByAccount} would cut the loaded portfolio into (≤ `maxAccounts`
   * accounts and ≤ `maxBytes` bytes of JSON each, an account never split, accounts in order
   * of first appearance, each account's positions together), without reading the file
   * again: the sizes were counted when it was opened. Each chunk reads its positions when
   * sent, only its own rows of the file: in a file where each account's rows are together
   * (the usual export) one byte range, otherwise each of its accounts' runs of rows in turn
   * (so all the chunks together read the file once, whatever its order, and none holds its
   * positions).
   *
   * @param config `maxAccounts` and/or `maxBytes`
   * @throws TypeError when a limit is not a positive integer
   */
  chunks(config: ChunkByAccountConfig): PortfolioFile[];
}

/** Options of {@link openPortfolio}. */
export type OpenPortfolioOptions = LoadPortfolioOptions;

/** Entries per block of a {@link Column}. */
const COLUMN_BLOCK = 4096;

/**
 * Numbers by index in typed-array blocks of a fixed size, added to as rows are read. Growing
 * never copies: a doubling array left each outgrown copy behind, and those copies, promoted
 * by then, were freed only by the next full collection (~10 MB of a 1M-position file's
 * columns were garbage at the end of the read). A block holds 32-bit unsigned integers until
 * it is given any other number (NaN, an offset past 4 GB), then doubles: offsets and byte
 * counts of a usual file fit in 4 bytes (1.6 MB less for the P3 file's 200,000 runs).
 */
class Column {
  length = 0;
  private readonly blocks: (Float64Array | Uint32Array)[] = [];

  /** A column of `length` zeros. */
  static zeros(length: number): Column {
    const column = new Column();
    for (let i = 0; i < length; i += COLUMN_BLOCK) column.blocks.push(new Uint32Array(Math.min(COLUMN_BLOCK, length - i)));
    column.length = length;
    return column;
  }

  push(value: number): void {
    const at = this.length % COLUMN_BLOCK;
    if (at === 0) this.blocks.push(new Uint32Array(COLUMN_BLOCK));
    this.length++;
    this.set(this.blocks.length - 1, at, value);
  }
  get(index: number): number {
    return this.blocks[Math.floor(index / COLUMN_BLOCK)][index % COLUMN_BLOCK];
  }
  add(index: number, value: number): void {
    const b = Math.floor(index / COLUMN_BLOCK);
    const at = index % COLUMN_BLOCK;
    this.set(b, at, this.blocks[b][at] + value);
  }

  private set(b: number, at: number, value: number): void {
    let block = this.blocks[b];
    if (block instanceof Uint32Array && value >>> 0 !== value) {
      block = Float64Array.from(block);
      this.blocks[b] = block;
    }
    block[at] = value;
  }
}


/** A printable ASCII string JSON writes as is, between quotes (no `"`, `\\` or control character). */
const PLAIN_JSON = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Bytes of text per block of a {@link CodeStore}. */
const CODE_BLOCK_BYTES = 96 * 1024;

/**
 * Strings kept as ASCII JSON text (`["a","b"`…) in fixed-size buffers outside the JS heap
 * while the file is read, and made into strings by `JSON.parse` once it is read: exact for
 * any string (what is not plain ASCII is written as JSON with `\\u` escapes, lone surrogates
 * included), one byte per character for the usual code. Fixed-size blocks, not one doubling
 * buffer: no outgrown copies left behind for a full collection.
 *
 * Why `JSON.parse`: V8 internalizes the short strings it parses (10 characters or fewer, the
 * usual account code), and internalized strings are made in the old generation. 200,000 codes
 * made in the young generation instead (the text split at the quotes) were copied once and
 * promoted once, ~14 MB counted as surviving young collections, and that count is what makes
 * V8 double the young generation: it grew to its 32 MB maximum when a 1M-position file had
 * been read, and stayed so for the submit. Longer codes are still made young. The string
 * table's entries cost a few MB; measured on the P3 file, see the commit that made this.
 */
class CodeStore {
  private readonly blocks: Buffer[] = [];
  private used = 0;
  private count = 0;
  /** The last block still takes codes (its `]` not written). */
  private open = false;

  push(text: string): void {
    // `"code"` for a plain code; any other as JSON with everything beyond ASCII escaped.
    const json = PLAIN_JSON.test(text) ? `"${text}"` : JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    // Room for `[` or `,` before it and the closing `]`.
    if (this.open && this.used + json.length + 2 > this.blocks[this.blocks.length - 1].length) this.close();
    if (!this.open) {
      this.blocks.push(Buffer.allocUnsafe(Math.max(CODE_BLOCK_BYTES, json.length + 2)));
      this.used = 0;
      this.open = true;
    }
    const block = this.blocks[this.blocks.length - 1];
    const first = this.used === 0;
    block[this.used++] = first ? 0x5b : 0x2c;
    this.used += block.write(json, this.used, 'latin1');
    this.count++;
  }

  private close(): void {
    const block = this.blocks[this.blocks.length - 1];
    block[this.used++] = 0x5d;
    this.blocks[this.blocks.length - 1] = block.subarray(0, this.used);
    this.open = false;
  }

  /** The strings, in the order pushed; the store is empty after. */
  strings(): string[] {
    if (this.open) this.close();
    // Sized up front: a large array is then made in the old generation directly.
    const out = new Array<string>(this.count);
    let at = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const codes = JSON.parse(this.blocks[b].toString('latin1')) as string[];
      for (let i = 0; i < codes.length; i++) out[at++] = codes[i];
      this.blocks[b] = Buffer.alloc(0);
    }
    return out;
  }
}

/**
 * The UTF-8 length of `JSON.stringify(position)` without building it (a quarter of the CPU,
 * and no garbage) when every field is a plain ASCII string, as CSV fields almost always are;
 * any other position is measured by writing it.
 */
class JsonSizer {
  /** `"key":` plus a comma, per field name seen (a CSV file has a few; NDJSON may have more, so the cache is bounded). */
  private readonly keyBytes = new Map<string, number>();

  bytes(position: Position): number {
    let n = 1;
    for (const key in position) {
      const value: unknown = position[key];
      if (typeof value !== 'string' || !PLAIN_JSON.test(value) || !Object.prototype.hasOwnProperty.call(position, key)) {
        return Buffer.byteLength(JSON.stringify(position));
      }
      let keyBytes = this.keyBytes.get(key);
      if (keyBytes === undefined) {
        keyBytes = Buffer.byteLength(JSON.stringify(key)) + 2;
        if (this.keyBytes.size < 1000) this.keyBytes.set(key, keyBytes);
      }
      n += keyBytes + value.length + 2;
    }
    // `{` + fields each with a trailing comma, the last comma being the `}`; `{}` is 2.
    return n === 1 ? 2 : n;
  }
}

/**
 * What was learnt when the file was opened: its accounts, the position count and JSON size of
 * each (to plan chunks as {@link chunkByAccount} would), and where each run of rows of one
 * account starts (so a chunk of a file grouped by account reads only its own bytes).
 * Per-account numbers are indexed by the account's place in `accountCodes`.
 */
interface Scan {
  /** Distinct codes in order of first appearance. */
  readonly accountCodes: readonly string[];
  /**
   * `accountCodes` indexes in the order of their codes, to look codes up by binary search (a
   * Map of 200,000 accounts costs several times this; a sorted copy of the codes was 1.6 MB
   * more on the JS heap, promoted from the young generation, which counts towards growing it);
   * undefined when the codes are in order already (a file sorted by account).
   */
  readonly bySorted: Uint32Array | undefined;
  readonly positionCount: number;
  /** Positions of each account. */
  readonly accountPositions: Column;
  /** JSON bytes of each account's positions, each plus one comma, as chunkByAccount counts them. */
  readonly accountBytes: Column;
  /**
   * The one run of rows of each account, or -1 when its rows are in several places of the
   * file; undefined when every account is one run (run `i` is account `i`).
   */
  readonly accountRun: Int32Array | undefined;
  /**
   * Each account's runs in file order, `runs[first[a]]` to `runs[first[a + 1] - 1]`, when
   * some account is in several places; undefined when every account is one run.
   */
  readonly runsOfAccount: { readonly first: Uint32Array; readonly runs: Uint32Array } | undefined;
  /** File offset of each run's first record (NaN: unknown, no range reads). */
  readonly runOffset: Column;
  /**
   * Every run's offset is known (and, for CSV, the header and record delimiter): the rows of
   * any set of accounts can be read on their own (see segmentStream).
   */
  readonly runsReadable: boolean;
  /** Line of each run's first record. */
  readonly runLine: Column;
  /** The CSV header, for reading a range on its own; undefined for NDJSON (whose parts are read as segments, see runsReadable). */
  readonly header: readonly string[] | undefined;
  /** The CSV record delimiter the whole file was read with (see CsvRange). */
  readonly recordDelimiter: string | undefined;
  /** The file as it was when opened: a range is read only from the very same file. */
  readonly stamp: FileStamp;
}

interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/**
 * Which accounts of the file a {@link PortfolioFile} sends: all, a run of consecutive accounts
 * (`accountCodes` indexes `[from, to)`: what `chunks` makes, and the halves of one), or any set.
 */
type Selection = { readonly kind: 'all' } | { readonly kind: 'range'; readonly from: number; readonly to: number } | { readonly kind: 'set'; readonly codes: ReadonlySet<string> };

/**
 * Opens a portfolio file for a submit that never holds its positions: reads it once, checking
 * every position exactly as {@link loadPortfolio} does (errors name `file:line: field`), and
 * keeps only the account codes, each account's position count and JSON size, and where its
 * rows start. The result is a {@link StreamedPortfolioRequest}: `client.submitBatch(file)`
 * reads the file again as it writes the body, and again for a retried attempt.
 * `file.chunks({ maxAccounts, maxBytes })` cuts it as {@link chunkByAccount} cuts the loaded
 * portfolio, each chunk read from the file when it is sent.
 *
 * A file changed after it was opened is never sent altered: every read first checks that it
 * is the very file opened (same size, modification time and inode) and checks again once
 * the file is read, before the read completes (so a body's last chunk is never written); a position that no longer passes the checks, an account
 * that was not there, or another number of positions fails too. Each is an {@link InputError}
 * naming the file, before the body is complete, so the request is aborted.
 *
 * Example:
 * ```ts
 * const book = await openPortfolio('big.csv');
 * client.submitBatch(book.withOptions({ currency_code: 'USD' })).subscribe(({ batch_id }) => console.log(batch_id, book.accountCodes.length));
 * ```
 *
 * @param file path of the file (CSV, JSON or NDJSON, as {@link loadPortfolio} reads them)
 * @param options the format, when it should not be guessed
 * @throws InputError naming the file, the line or JSON path, and the field; or that it holds no positions
 */
export async function openPortfolio(file: string, options: OpenPortfolioOptions = {}): Promise<PortfolioFile> {
  const format = await resolveFormat(file, options.format);
  if (format === 'json') {
    const { portfolio, ...fields } = await readJsonPortfolio(file);
    if (portfolio.length === 0) throw new InputError({ file }, 'the file holds no positions');
    return jsonPortfolioFile(file, portfolio, fields);
  }
  const stamp = await stampOf(file);
  // One entry per run of rows of the same account: for a file grouped by account that is
  // one per account, and no hash table (a Set of 200,000 codes and its regrown copies took
  // ~10 MB until the next full GC). The codes are kept as text outside the JS heap
  // until the read is done: 200,000 code strings kept as they are read survive every young
  // collection, and that steady survival is what makes V8 grow the young generation to its
  // 32 MB maximum (a 1M-position pass peaked ~20 MB higher so).
  const codes = new CodeStore();
  const runOffset = new Column();
  const runLine = new Column();
  const runPositions = new Column();
  const runBytes = new Column();
  const measure = new JsonSizer();
  const cursor: CsvCursor = { lines: [], offsets: [], header: undefined };
  let positionCount = 0;
  let previous: string | undefined;
  let offsetsKnown = true;
  for await (const group of format === 'csv' ? csvPositionGroups(file, { cursor }) : ndjsonGroups(file, cursor)) {
    for (let i = 0; i < group.length; i++) {
      const position = group[i];
      positionCount++;
      if (position.account_code !== previous) {
        previous = position.account_code;
        codes.push(previous);
        runOffset.push(cursor.offsets[i]);
        if (!Number.isFinite(cursor.offsets[i])) offsetsKnown = false;
        runLine.push(cursor.lines[i]);
        runPositions.push(0);
        runBytes.push(0);
      }
      runPositions.add(runPositions.length - 1, 1);
      // As chunkByAccount counts a position: its JSON, plus one comma.
      runBytes.add(runBytes.length - 1, measure.bytes(position) + 1);
    }
  }
  if (positionCount === 0) throw new InputError({ file }, 'the file holds no positions');
  const runs = codes.strings();
  const runsReadable = offsetsKnown && (format === 'ndjson' || (cursor.header !== undefined && cursor.recordDelimiter !== undefined));
  const scan = scanOf(runs, positionCount, runPositions, runBytes, runOffset, runLine, cursor.header, cursor.recordDelimiter, stamp, runsReadable);
  return streamedPortfolioFile(file, format, scan, { kind: 'all' }, 'file', {});
}

/**
 * The positions of an NDJSON file (or of some parts of it) one per group, each one's line and
 * offset told through `cursor` when given.
 */
async function* ndjsonGroups(file: string, cursor?: CsvCursor, segments?: NdjsonSegments): AsyncGenerator<Position[], void, undefined> {
  const at: NdjsonCursor = { line: 0, offset: Number.NaN };
  for await (const position of ndjsonPositions(file, undefined, cursor === undefined ? undefined : at, segments)) {
    if (cursor !== undefined) {
      cursor.lines[0] = at.line;
      cursor.offsets[0] = at.offset ?? Number.NaN;
    }
    yield [position];
  }
}

/** The positions of a CSV or NDJSON file, a group at a time (see csvPositionGroups). */
function positionGroupsOf(file: string, format: Exclude<InputFormat, 'json'>): AsyncGenerator<Position[], void, undefined> {
  return format === 'csv' ? csvPositionGroups(file) : ndjsonGroups(file);
}

/**
 * Fails with `changed(…)` unless `file` is still the very file that was opened (same size,
 * modification time and inode). A position's own checks cannot see an edit that keeps
 * every row valid (`17` → `27`), so every read checks this before it starts and again
 * before its last positions are handed out.
 */
async function checkSameFile(file: string, stamp: FileStamp, changed: (what: string) => InputError): Promise<void> {
  const now = await stampOf(file);
  if (now.size !== stamp.size || now.mtimeMs !== stamp.mtimeMs || now.ino !== stamp.ino) throw changed('its size or modification time differs');
}

async function stampOf(file: string): Promise<FileStamp> {
  try {
    const { size, mtimeMs, ino } = await stat(file);
    return { size, mtimeMs, ino };
  } catch (error) {
    throw new InputError({ file }, fileErrorReason(error), { cause: error });
  }
}

/** The per-account scan of the runs read: codes in order of first appearance and sorted, counts and sizes summed per account. */
function scanOf(
  runs: readonly string[],
  positionCount: number,
  runPositions: Column,
  runBytes: Column,
  runOffset: Column,
  runLine: Column,
  header: readonly string[] | undefined,
  recordDelimiter: string | undefined,
  stamp: FileStamp,
  runsReadable: boolean,
): Scan {
  const base = { positionCount, runOffset, runLine, header, recordDelimiter, stamp, runsReadable, runsOfAccount: undefined };
  // A file sorted by account: every account one run, looked up in `runs` itself, and no
  // index arrays made (1.6 MB outside the heap for 200,000 runs, freed only once their
  // wrappers are collected, which was still to come when the submit started).
  let ascending = true;
  for (let i = 1; i < runs.length && ascending; i++) ascending = runs[i - 1] < runs[i];
  if (ascending) return { ...base, accountCodes: runs, bySorted: undefined, accountPositions: runPositions, accountBytes: runBytes, accountRun: undefined };
  // Run indexes by code, a code's runs in file order: its first run comes first.
  const order = sortedIndexes(runs);
  let distinct = true;
  for (let i = 1; i < order.length && distinct; i++) if (runs[order[i]] === runs[order[i - 1]]) distinct = false;
  // Every account in one run (the usual export): the runs are the accounts.
  if (distinct) return { ...base, accountCodes: runs, bySorted: order, accountPositions: runPositions, accountBytes: runBytes, accountRun: undefined };
  // Each run's first run of the same code, then accounts numbered in order of first appearance.
  const firstRun = new Uint32Array(runs.length);
  let groups = 0;
  for (let i = 0; i < order.length; i++) {
    const sameAsPrevious = i > 0 && runs[order[i]] === runs[order[i - 1]];
    if (!sameAsPrevious) groups++;
    firstRun[order[i]] = sameAsPrevious ? firstRun[order[i - 1]] : order[i];
  }
  const accountOfRun = new Uint32Array(runs.length);
  const accountCodes: string[] = [];
  const accountPositions = Column.zeros(groups);
  const accountBytes = Column.zeros(groups);
  const accountRun = new Int32Array(groups);
  runs.forEach((code, run) => {
    let account: number;
    if (firstRun[run] === run) {
      account = accountCodes.length;
      accountCodes.push(code);
      accountRun[account] = run;
    } else {
      account = accountOfRun[firstRun[run]];
      accountRun[account] = -1;
    }
    accountOfRun[run] = account;
    accountPositions.add(account, runPositions.get(run));
    accountBytes.add(account, runBytes.get(run));
  });
  const bySorted = new Uint32Array(groups);
  let k = 0;
  for (let i = 0; i < order.length; i++) if (firstRun[order[i]] === order[i]) bySorted[k++] = accountOfRun[order[i]];
  // Each account's runs together, in file order (a counting sort of the runs by account).
  const first = new Uint32Array(groups + 1);
  for (let run = 0; run < runs.length; run++) first[accountOfRun[run] + 1]++;
  for (let account = 0; account < groups; account++) first[account + 1] += first[account];
  const next = first.slice(0, groups);
  const byAccount = new Uint32Array(runs.length);
  for (let run = 0; run < runs.length; run++) byAccount[next[accountOfRun[run]]++] = run;
  return { ...base, accountCodes, bySorted, accountPositions, accountBytes, accountRun, runsOfAccount: { first, runs: byAccount } };
}

/**
 * The indexes of `values` in the order of their values (by UTF-16 code units, as `sort()`
 * orders strings), equal values by index: a stable bottom-up merge sort in typed arrays.
 * Not `Uint32Array.prototype.sort(compare)`: it sorts in two work arrays on the JS heap
 * (1.6 MB each for 200,000 runs), which a young collection during the sort promotes, and
 * promoted bytes are what makes V8 grow the young generation. A file already in order (the
 * usual export) costs one comparison per merge.
 */
function sortedIndexes(values: readonly string[]): Uint32Array {
  const n = values.length;
  let from = new Uint32Array(n);
  let to = new Uint32Array(n);
  for (let i = 0; i < n; i++) from[i] = i;
  for (let width = 1; width < n; width *= 2) {
    for (let start = 0; start < n; start += 2 * width) {
      const middle = Math.min(start + width, n);
      const end = Math.min(start + 2 * width, n);
      let left = start;
      let right = middle;
      let out = start;
      // Already in order: copied as it is.
      if (right < end && values[from[middle - 1]] > values[from[middle]]) {
        while (left < middle && right < end) to[out++] = values[from[right]] < values[from[left]] ? from[right++] : from[left++];
      }
      while (left < middle) to[out++] = from[left++];
      while (right < end) to[out++] = from[right++];
    }
    [from, to] = [to, from];
  }
  return from;
}

/** The `accountCodes` index of `code`, or -1 when the file had no such account (binary search by UTF-16 code units). */
function accountIndex(scan: Scan, code: string): number {
  const { accountCodes, bySorted } = scan;
  let low = 0;
  let high = accountCodes.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const account = bySorted === undefined ? mid : bySorted[mid];
    const value = accountCodes[account];
    if (value === code) return account;
    if (value < code) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

function checkOptions(options: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (typeof options !== 'object' || options === null || Array.isArray(options) || 'portfolio' in options) {
    throw new TypeError('withOptions: options must be an object without a portfolio field');
  }
  return { ...options };
}

/** The accounts of `accountCodes` this file has, in the order the file has them; others are a TypeError. */
function knownSubset(file: string, all: readonly string[], has: (code: string) => boolean, accountCodes: readonly string[]): string[] {
  const wanted = new Set(accountCodes);
  for (const code of wanted) {
    if (!has(code)) throw new TypeError(`subset: account ${JSON.stringify(code)} is not in ${file}`);
  }
  return all.filter((code) => wanted.has(code));
}

/** The `accountCodes` indexes a selection sends, ascending. */
function selectedAccounts(scan: Scan, selection: Selection): { readonly from: number; readonly to: number } | readonly number[] {
  if (selection.kind === 'all') return { from: 0, to: scan.accountCodes.length };
  if (selection.kind === 'range') return selection;
  return [...selection.codes].map((code) => accountIndex(scan, code)).sort((a, b) => a - b);
}

/**
 * Where in the file the selected accounts' rows are when they fill one stretch of it on
 * their own (each account one run, the runs one after the other), so only those bytes are
 * read; undefined when they do not, or the format cannot read a range.
 */
function byteRange(scan: Scan, selection: Selection): CsvRange | undefined {
  if (scan.header === undefined || selection.kind !== 'range') return undefined;
  const { from, to } = selection;
  const runOf = (account: number): number => (scan.accountRun === undefined ? account : scan.accountRun[account]);
  const first = runOf(from);
  const last = runOf(to - 1);
  if (first < 0 || last < 0 || last - first !== to - 1 - from) return undefined;
  for (let i = from; i < to; i++) if (runOf(i) < 0) return undefined;
  const start = scan.runOffset.get(first);
  const end = last + 1 < scan.runOffset.length ? scan.runOffset.get(last + 1) : scan.stamp.size;
  if (!Number.isFinite(start) || !Number.isFinite(end)) return undefined;
  return { start, end, line: scan.runLine.get(first), header: scan.header, recordDelimiter: scan.recordDelimiter };
}

/**
 * The parts of the file holding the rows of `accounts` (ascending `accountCodes` indexes):
 * each account's runs in turn (`grouped`, the order chunkByAccount gives), or every run in
 * file order (`file`). Runs next to each other in the file are one part.
 */
function* runSegments(scan: Scan, accounts: Iterable<number>, order: 'file' | 'grouped'): Generator<Segment, void, undefined> {
  const { runOffset, runLine, runsOfAccount } = scan;
  const end = (run: number): number => (run + 1 < runOffset.length ? runOffset.get(run + 1) : scan.stamp.size);
  let pending: { start: number; end: number; line: number } | undefined;
  /** The runs in the order they are read, adjacent ones joined. */
  function* add(run: number): Generator<Segment, void, undefined> {
    const start = runOffset.get(run);
    if (pending !== undefined && pending.end === start) {
      pending.end = end(run);
      return;
    }
    if (pending !== undefined) yield pending;
    pending = { start, end: end(run), line: runLine.get(run) };
  }
  if (runsOfAccount === undefined) {
    // Every account one run, run `i` of account `i` (accountRun is undefined then too): both orders are one.
    for (const account of accounts) yield* add(account);
  } else if (order === 'grouped') {
    for (const account of accounts) {
      for (let i = runsOfAccount.first[account]; i < runsOfAccount.first[account + 1]; i++) yield* add(runsOfAccount.runs[i]);
    }
  } else {
    const list: number[] = [];
    for (const account of accounts) {
      for (let i = runsOfAccount.first[account]; i < runsOfAccount.first[account + 1]; i++) list.push(runsOfAccount.runs[i]);
    }
    const runs = Uint32Array.from(list).sort();
    for (const run of runs) yield* add(run);
  }
  if (pending !== undefined) yield pending;
}

/** A selection of consecutive accounts as a range (how a chunk's halves stay byte ranges). */
function normalized(scan: Scan, codes: readonly string[]): Selection {
  const indexes = codes.map((code) => accountIndex(scan, code)).sort((a, b) => a - b);
  const from = indexes[0];
  const to = indexes[indexes.length - 1] + 1;
  if (indexes.length > 0 && to - from === indexes.length) return { kind: 'range', from, to };
  return { kind: 'set', codes: new Set(codes) };
}

function streamedPortfolioFile(
  file: string,
  format: Exclude<InputFormat, 'json'>,
  scan: Scan,
  selection: Selection,
  order: 'file' | 'grouped',
  options: Readonly<Record<string, unknown>>,
): PortfolioFile {
  const accountCodes =
    selection.kind === 'all'
      ? scan.accountCodes
      : selection.kind === 'range'
        ? scan.accountCodes.slice(selection.from, selection.to)
        : scan.accountCodes.filter((code) => selection.codes.has(code));
  const changed = (what: string): InputError => new InputError({ file }, `the file changed after it was opened: ${what}; the request was not completed`);
  const selected = selectedAccounts(scan, selection);
  const indexes = Array.isArray(selected) ? (selected as readonly number[]) : undefined;
  const eachSelected = (f: (account: number) => void): void => {
    if (indexes !== undefined) indexes.forEach(f);
    else for (let i = (selected as { from: number }).from; i < (selected as { to: number }).to; i++) f(i);
  };
  function* selectedIndexes(): Generator<number, void, undefined> {
    if (indexes !== undefined) yield* indexes;
    else for (let i = (selected as { from: number }).from; i < (selected as { to: number }).to; i++) yield i;
  }
  let expected = 0;
  let scattered = false;
  eachSelected((account) => {
    expected += scan.accountPositions.get(account);
    if (scan.accountRun !== undefined && scan.accountRun[account] < 0) scattered = true;
  });
  const isKept: (code: string) => boolean =
    selection.kind === 'all'
      ? (code) => accountIndex(scan, code) >= 0
      : selection.kind === 'range'
        ? (code) => {
            const at = accountIndex(scan, code);
            return at >= selection.from && at < selection.to;
          }
        : (code) => selection.codes.has(code);
  const range = byteRange(scan, selection);

  /**
   * The whole file, checked against the first read, only the selected accounts' positions
   * kept, a group at a time. A position that fails a check ends its group: the ones before
   * it are handed out, then the error is thrown (as one at a time would have it).
   */
  async function* wholeFile(): AsyncGenerator<Position[], void, undefined> {
    let count = 0;
    let kept = 0;
    let previous: string | undefined;
    let keep = false;
    await checkSameFile(file, scan.stamp, changed);
    for await (const group of positionGroupsOf(file, format)) {
      const out: Position[] = [];
      let failure: InputError | undefined;
      for (let i = 0; i < group.length && failure === undefined; i++) {
        const position = group[i];
        const code = position.account_code;
        if (code !== previous) {
          if (accountIndex(scan, code) < 0) {
            failure = changed(`account ${JSON.stringify(code)} was not in it`);
            break;
          }
          previous = code;
          keep = isKept(code);
        }
        count++;
        // Checked before the position is sent: the body must never hold more than was counted.
        if (count > scan.positionCount) failure = changed(`it holds more than the ${scan.positionCount} positions read then`);
        else if (keep) {
          kept++;
          out.push(position);
        }
      }
      if (out.length > 0) yield out;
      if (failure !== undefined) throw failure;
    }
    if (count !== scan.positionCount) throw changed(`${scan.positionCount} positions read then, ${count} now`);
    if (kept !== expected) throw changed(`${expected} positions of these accounts read then, ${kept} now`);
    // Changed while it was read: the body's last chunk is not written yet, so the request is aborted.
    await checkSameFile(file, scan.stamp, changed);
  }

  /**
   * The selected accounts' rows as `read` gives them (only those rows of the file), from the
   * very same file, checked against what was counted when it was opened; `inGroups`: an
   * account's rows must also all come before the next account's.
   */
  async function* ownRows(read: AsyncIterable<Position[]>, inGroups: boolean): AsyncGenerator<Position[], void, undefined> {
    await checkSameFile(file, scan.stamp, changed);
    let count = 0;
    let previous: string | undefined;
    let last = -1;
    for await (const group of read) {
      let failure: InputError | undefined;
      let end = 0;
      for (; end < group.length; end++) {
        const code = group[end].account_code;
        if (code !== previous) {
          const at = inGroups ? accountIndex(scan, code) : -1;
          if (!isKept(code) || at < last) {
            failure = changed(`account ${JSON.stringify(code)} was not where it was`);
            break;
          }
          previous = code;
          last = at;
        }
        count++;
        if (count > expected) {
          failure = changed(`these accounts hold more than the ${expected} positions read then`);
          break;
        }
      }
      if (end > 0) yield end === group.length ? group : group.slice(0, end);
      if (failure !== undefined) throw failure;
    }
    if (count !== expected) throw changed(`${expected} positions of these accounts read then, ${count} now`);
    await checkSameFile(file, scan.stamp, changed);
  }

  /** Only the bytes of the selected accounts' rows (see byteRange), from the very same file. */
  const ownRange = (from: CsvRange): AsyncGenerator<Position[], void, undefined> => ownRows(csvPositionGroups(file, { range: from }), false);

  /**
   * Only the rows of the selected accounts, each run of rows read where the scan found it
   * (in the order positions() gives them: grouped by account, or in file order), from the
   * very same file. Reads each byte of those rows once and no other: a chunk of a file not
   * grouped by account no longer reads the whole file (4,000 interleaved rows in chunks of
   * one account each read the file 2,000 times), nor holds its positions to group them.
   */
  const ownRuns = (runOrder: 'file' | 'grouped'): AsyncGenerator<Position[], void, undefined> => {
    const list = runSegments(scan, selectedIndexes(), runOrder);
    const shorter = (): InputError => changed('it ends before a row read then');
    const fileSize = scan.stamp.size;
    const read =
      format === 'csv'
        ? csvPositionGroups(file, { segments: { list, fileSize, header: scan.header ?? [], recordDelimiter: scan.recordDelimiter ?? '\n', shorter } })
        : ndjsonGroups(file, undefined, { list, fileSize, shorter });
    return ownRows(read, runOrder === 'grouped');
  };

  /**
   * Each account's positions together, accounts in order of first appearance (as
   * chunkByAccount gives them): the selection's positions are held until the file is read,
   * as a loaded chunk holds them. Only for a file whose rows could not be located when it
   * was opened (a CSV file with CR-only line ends).
   */
  async function* grouped(): AsyncGenerator<Position[], void, undefined> {
    const byAccount = new Map<string, Position[]>(accountCodes.map((code) => [code, []]));
    for await (const group of wholeFile()) for (const position of group) byAccount.get(position.account_code)!.push(position);
    for (const group of byAccount.values()) if (group.length > 0) yield group;
  }

  const whole = selection.kind === 'all' || (selection.kind === 'range' && selection.from === 0 && selection.to === scan.accountCodes.length);
  const groups = (): AsyncGenerator<Position[], void, undefined> => {
    if (range !== undefined && !whole) return ownRange(range);
    // An account in several places: file order is not the grouped order a chunk has.
    const regroup = order === 'grouped' && scattered;
    if (scan.runsReadable && selection.kind !== 'all' && (regroup || !whole)) return ownRuns(regroup ? 'grouped' : 'file');
    if (regroup) return grouped();
    return wholeFile();
  };

  const make = (next: Selection, nextOrder: 'file' | 'grouped', nextOptions: Readonly<Record<string, unknown>>): PortfolioFile =>
    streamedPortfolioFile(file, format, scan, next, nextOrder, nextOptions);

  return {
    file,
    format,
    options,
    accountCodes,
    positionCount: scan.positionCount,
    positions: () => groupedPositions(groups),
    withOptions: (next) => make(selection, order, checkOptions(next)),
    subset: (codes) => {
      const known = knownSubset(file, accountCodes, isKept, codes);
      return make(normalized(scan, known), order, options);
    },
    chunks: (config) => {
      const limits = checkChunkLimits(config);
      const list: number[] = [];
      eachSelected((account) => list.push(account));
      const measure = limits.maxBytes !== Infinity;
      const plan = planAccountChunks(list.length, (i) => (measure ? scan.accountBytes.get(list[i]) : 0), envelopeBytes(options, measure), limits);
      return plan.map(([start, end]) => {
        // Consecutive accounts of the file stay a range (a byte range when grouped by account).
        const from = list[start];
        const to = list[end - 1] + 1;
        const next: Selection = to - from === end - start ? { kind: 'range', from, to } : { kind: 'set', codes: new Set(list.slice(start, end).map((i) => scan.accountCodes[i])) };
        return make(next, 'grouped', options);
      });
    },
  };
}

function jsonPortfolioFile(file: string, portfolio: readonly Position[], options: Readonly<Record<string, unknown>>): PortfolioFile {
  const seen = new Set<string>();
  for (const p of portfolio) seen.add(p.account_code);
  const accountCodes = [...seen];
  return {
    file,
    format: 'json',
    options,
    accountCodes,
    positionCount: portfolio.length,
    // Held already: nothing to re-read, and iterating an array never fails.
    positions: () =>
      groupedPositions(async function* group() {
        if (portfolio.length > 0) yield portfolio;
      }),
    withOptions: (next) => jsonPortfolioFile(file, portfolio, checkOptions(next)),
    subset: (codes) => {
      const kept = new Set(knownSubset(file, accountCodes, (code) => seen.has(code), codes));
      return jsonPortfolioFile(file, portfolio.filter((p) => kept.has(p.account_code)), options);
    },
    chunks: (config) => chunkByAccount({ ...options, portfolio: [...portfolio] }, config).map(({ portfolio: part }) => jsonPortfolioFile(file, part, options)),
  };
}

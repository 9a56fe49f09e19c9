/**
 * A portfolio file submitted without holding its positions: checked once when opened, then
 * read again as a stream for every attempt of the submit.
 */
import type { Position } from '../codecs';
import type { StreamedPortfolioRequest } from '../http/serializePayload';
import { InputError } from './errors';
import { readJsonPortfolio } from './json';
import { readPositions, resolveFormat, type InputFormat, type LoadPortfolioOptions } from './loadPortfolio';

/**
 * An opened portfolio file: what a submit needs to send it ({@link StreamedPortfolioRequest})
 * plus what was learnt when it was opened. CSV and NDJSON positions are read from the file
 * for each attempt and never held; a JSON file is parsed whole (JSON cannot be read as a
 * stream of positions here), so it is held, as {@link loadPortfolio} holds it.
 */
export interface PortfolioFile extends StreamedPortfolioRequest {
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
}

/** Options of {@link openPortfolio}. */
export type OpenPortfolioOptions = LoadPortfolioOptions;

/**
 * The accounts read when the file was opened: their codes in order of first appearance, a
 * sorted copy to check later reads against (a Map of 200,000 accounts costs several times
 * the memory of two arrays), and the file's position count.
 */
interface Scan {
  readonly accountCodes: readonly string[];
  readonly sorted: readonly string[];
  readonly positionCount: number;
}

/**
 * Opens a portfolio file for a submit that never holds its positions: reads it once, checking
 * every position exactly as {@link loadPortfolio} does (errors name `file:line: field`), and
 * keeps only the account codes and the number of positions. The result is a
 * {@link StreamedPortfolioRequest}: `client.submitBatch(file)` reads the file again as it
 * writes the body, and again for a retried attempt.
 *
 * A file changed after it was opened is never sent altered: a position that no longer passes
 * the checks, an account that was not there, or another number of positions fails the read
 * with an {@link InputError} before the body is complete, so the request is aborted.
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
  // One entry per run of rows of the same account: for a file grouped by account that is
  // one per account, and no hash table (a Set of 200,000 codes and its regrown copies took
  // ~10 MB until the next full GC; two arrays take ~3 MB).
  const runs: string[] = [];
  let positionCount = 0;
  let previous: string | undefined;
  for await (const position of readPositions(file, format)) {
    positionCount++;
    if (position.account_code === previous) continue;
    previous = position.account_code;
    runs.push(previous);
  }
  if (positionCount === 0) throw new InputError({ file }, 'the file holds no positions');
  return streamedPortfolioFile(file, format, scanOf(runs, positionCount), undefined, {});
}

/** The distinct codes of `runs` in order of first appearance, and sorted. */
function scanOf(runs: readonly string[], positionCount: number): Scan {
  const sorted: string[] = [];
  for (const code of [...runs].sort()) if (code !== sorted[sorted.length - 1]) sorted.push(code);
  if (sorted.length === runs.length) return { accountCodes: runs, sorted, positionCount };
  const taken = new Uint8Array(sorted.length);
  const accountCodes: string[] = [];
  for (const code of runs) {
    const at = indexOfSorted(sorted, code);
    if (taken[at] === 0) {
      taken[at] = 1;
      accountCodes.push(code);
    }
  }
  return { accountCodes, sorted, positionCount };
}

/** Where `code` is in the sorted list, or -1 (binary search by UTF-16 code units, as `sort()` orders). */
function indexOfSorted(sorted: readonly string[], code: string): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const value = sorted[mid];
    if (value === code) return mid;
    if (value < code) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

/** Whether `code` is in the sorted list. */
function includesSorted(sorted: readonly string[], code: string): boolean {
  return indexOfSorted(sorted, code) >= 0;
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

function streamedPortfolioFile(
  file: string,
  format: Exclude<InputFormat, 'json'>,
  scan: Scan,
  kept: ReadonlySet<string> | undefined,
  options: Readonly<Record<string, unknown>>,
): PortfolioFile {
  const accountCodes = kept === undefined ? scan.accountCodes : scan.accountCodes.filter((code) => kept.has(code));
  const changed = (what: string): InputError => new InputError({ file }, `the file changed after it was opened: ${what}; the request was not completed`);

  async function* positions(): AsyncGenerator<Position, void, undefined> {
    // The whole file is read and checked against the first read, kept accounts or not.
    let count = 0;
    let previous: string | undefined;
    for await (const position of readPositions(file, format)) {
      const code = position.account_code;
      if (code !== previous) {
        if (!includesSorted(scan.sorted, code)) throw changed(`account ${JSON.stringify(code)} was not in it`);
        previous = code;
      }
      count++;
      // Checked before the position is sent: the body must never hold more than was counted.
      if (count > scan.positionCount) throw changed(`it holds more than the ${scan.positionCount} positions read then`);
      if (kept === undefined || kept.has(code)) yield position;
    }
    if (count !== scan.positionCount) throw changed(`${scan.positionCount} positions read then, ${count} now`);
  }

  return {
    file,
    format,
    options,
    accountCodes,
    positionCount: scan.positionCount,
    positions,
    withOptions: (next) => streamedPortfolioFile(file, format, scan, kept, checkOptions(next)),
    subset: (codes) => {
      const has = (code: string): boolean => includesSorted(scan.sorted, code) && (kept === undefined || kept.has(code));
      return streamedPortfolioFile(file, format, scan, new Set(knownSubset(file, accountCodes, has, codes)), options);
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
    positions: async function* positions() {
      yield* portfolio;
    },
    withOptions: (next) => jsonPortfolioFile(file, portfolio, checkOptions(next)),
    subset: (codes) => {
      const kept = new Set(knownSubset(file, accountCodes, (code) => seen.has(code), codes));
      return jsonPortfolioFile(file, portfolio.filter((p) => kept.has(p.account_code)), options);
    },
  };
}

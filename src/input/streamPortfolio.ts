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
  /** Positions sent: the file's, or those of the accounts kept by {@link PortfolioFile.subset}. */
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

/** Counts per account, from the read at open time: checks later reads and sizes subsets. */
type AccountCounts = ReadonlyMap<string, number>;

/**
 * Opens a portfolio file for a submit that never holds its positions: reads it once, checking
 * every position exactly as {@link loadPortfolio} does (errors name `file:line: field`), and
 * keeps only the account codes and their position counts. The result is a
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
  const counts = new Map<string, number>();
  for await (const position of readPositions(file, format)) {
    counts.set(position.account_code, (counts.get(position.account_code) ?? 0) + 1);
  }
  if (counts.size === 0) throw new InputError({ file }, 'the file holds no positions');
  return streamedPortfolioFile(file, format, counts, undefined, {});
}

function total(counts: AccountCounts, accounts: readonly string[]): number {
  let sum = 0;
  for (const code of accounts) sum += counts.get(code) ?? 0;
  return sum;
}

function checkOptions(options: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (typeof options !== 'object' || options === null || Array.isArray(options) || 'portfolio' in options) {
    throw new TypeError('withOptions: options must be an object without a portfolio field');
  }
  return { ...options };
}

/** The accounts of `accountCodes` this file has, in the order the file has them; others are a TypeError. */
function knownSubset(file: string, all: readonly string[], counts: AccountCounts, accountCodes: readonly string[]): string[] {
  const wanted = new Set(accountCodes);
  for (const code of wanted) {
    if (!counts.has(code)) throw new TypeError(`subset: account ${JSON.stringify(code)} is not in ${file}`);
  }
  return all.filter((code) => wanted.has(code));
}

function streamedPortfolioFile(
  file: string,
  format: Exclude<InputFormat, 'json'>,
  counts: AccountCounts,
  kept: ReadonlySet<string> | undefined,
  options: Readonly<Record<string, unknown>>,
): PortfolioFile {
  const accountCodes = kept === undefined ? [...counts.keys()] : [...counts.keys()].filter((code) => kept.has(code));
  const positionCount = total(counts, accountCodes);
  const changed = (what: string): InputError => new InputError({ file }, `the file changed after it was opened: ${what}; the request was not completed`);

  async function* positions(): AsyncGenerator<Position, void, undefined> {
    let count = 0;
    for await (const position of readPositions(file, format)) {
      const code = position.account_code;
      if (!counts.has(code)) throw changed(`account ${JSON.stringify(code)} was not in it`);
      if (kept !== undefined && !kept.has(code)) continue;
      count++;
      // Checked before the position is sent: the body must never hold more than was counted.
      if (count > positionCount) throw changed(`it holds more than the ${positionCount} positions read then`);
      yield position;
    }
    if (count !== positionCount) throw changed(`${positionCount} positions read then, ${count} now`);
  }

  return {
    file,
    format,
    options,
    accountCodes,
    positionCount,
    positions,
    withOptions: (next) => streamedPortfolioFile(file, format, counts, kept, checkOptions(next)),
    subset: (codes) => streamedPortfolioFile(file, format, counts, new Set(knownSubset(file, accountCodes, counts, codes)), options),
  };
}

function jsonPortfolioFile(file: string, portfolio: readonly Position[], options: Readonly<Record<string, unknown>>): PortfolioFile {
  const seen = new Map<string, number>();
  for (const p of portfolio) seen.set(p.account_code, (seen.get(p.account_code) ?? 0) + 1);
  const accountCodes = [...seen.keys()];
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
      const kept = new Set(knownSubset(file, accountCodes, seen, codes));
      return jsonPortfolioFile(file, portfolio.filter((p) => kept.has(p.account_code)), options);
    },
  };
}

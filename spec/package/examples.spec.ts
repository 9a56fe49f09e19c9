import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findContract, listedMonths } from '../../src/emulator/margin/contracts';
import { parseExpiry } from '../../src/emulator/margin/expiry';
import { loadPortfolio } from '../../src/input';
import type { Position } from '../../src/codecs';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const GENERATOR = join(EXAMPLES, 'generate-portfolio.js');

function generate(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [GENERATOR, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Positions whose contract or expiry the emulator does not list (it would report them as exceptions). */
function unlisted(portfolio: readonly Position[]): string[] {
  return portfolio.flatMap((p, i) => {
    const etd = p as Record<string, unknown>;
    const contract = findContract(String(etd.exchange_code), String(etd.contract_code));
    const month = parseExpiry(String(etd.contract_expiry));
    if (contract === undefined || month === undefined || !listedMonths(contract).includes(month)) {
      return [`${i}: ${String(etd.exchange_code)} ${String(etd.contract_code)} ${String(etd.contract_expiry)}`];
    }
    return [];
  });
}

describe('examples', () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'c9-examples-'));
  });

  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('should keep the sample portfolio byte-identical to the vendor fixture', () => {
    // SHA-256 of ../shared/fixtures/sample_portfolio.csv: the copy must never drift, and a
    // clone without ../shared must still be able to check it.
    const digest = createHash('sha256').update(readFileSync(join(EXAMPLES, 'sample_portfolio.csv'))).digest('hex');
    expect(digest).toBe('96d1b20ca428112d46ade6ca1d7dd3998bc418f93222973683d9cb06dab682af');
  });

  it('should hold the vendor flow as 200 ICE.EU B futures, one account per row, every expiry listed', async () => {
    const { portfolio } = await loadPortfolio(join(EXAMPLES, 'vendor_flow_200.csv'));
    const expectedAccounts = Array.from({ length: 200 }, (_, i) => `Account ${String(i + 1).padStart(3, '0')}`);
    expect(portfolio.map((p) => p.account_code)).toEqual(expectedAccounts);
    const etd = portfolio as Record<string, unknown>[];
    expect(new Set(etd.map((p) => `${String(p.exchange_code)}|${String(p.contract_code)}|${String(p.contract_type)}`))).toEqual(new Set(['ICE.EU|B|FUT']));
    expect(etd.filter((p) => !/^-?[1-9]\d*$/.test(String(p.net_position)))).toEqual([]);
    expect(new Set(etd.map((p) => p.net_position)).size).toBeGreaterThan(100);
    expect(unlisted(portfolio)).toEqual([]);
  });

  it('should hold the same positions in the vendor flow JSON as in its CSV', async () => {
    const fromCsv = await loadPortfolio(join(EXAMPLES, 'vendor_flow_200.csv'));
    const fromJson = await loadPortfolio(join(EXAMPLES, 'vendor_flow_200.json'));
    expect(fromJson.portfolio).toEqual(fromCsv.portfolio);
    expect(fromJson.calculation_type).toBe('margins');
  });

  it('should generate the same bytes for the same seed and other bytes for another', () => {
    const first = generate(['--accounts', '40', '--positions', '3', '--seed', '5']);
    const again = generate(['--accounts', '40', '--positions', '3', '--seed', '5']);
    const other = generate(['--accounts', '40', '--positions', '3', '--seed', '6']);
    expect(first.status).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(other.stdout).not.toBe(first.stdout);
  });

  it('should generate loadable CSV and NDJSON with the same positions, all of them listed contracts', async () => {
    const csv = join(scratch, 'gen.csv');
    const ndjson = join(scratch, 'gen.ndjson');
    expect(generate(['--accounts', '50', '--positions', '4', '--out', csv, '--seed', '3']).status).toBe(0);
    expect(generate(['--accounts', '50', '--positions', '4', '--out', ndjson, '--seed', '3']).status).toBe(0);
    const fromCsv = await loadPortfolio(csv);
    const fromNdjson = await loadPortfolio(ndjson);
    expect(fromCsv.portfolio).toHaveLength(200);
    expect(new Set(fromCsv.portfolio.map((p) => p.account_code)).size).toBe(50);
    expect(fromNdjson.portfolio).toEqual(fromCsv.portfolio);
    expect(unlisted(fromCsv.portfolio)).toEqual([]);
  });

  it('should refuse an unknown argument with a usage message and exit code 64', () => {
    const run = generate(['--acounts', '5']);
    expect(run.status).toBe(64);
    expect(run.stderr).toContain('unknown argument "--acounts"');
    expect(run.stderr).toContain('usage:');
  });

  it('should read the vendor flow the same after a spreadsheet saved it with CRLF line ends', async () => {
    // The example is meant to be edited in a spreadsheet and saved again: CRLF must not matter.
    const crlf = join(scratch, 'vendor_crlf.csv');
    writeFileSync(crlf, readFileSync(join(EXAMPLES, 'vendor_flow_200.csv'), 'utf8').replace(/\n/g, '\r\n'));
    const original = await loadPortfolio(join(EXAMPLES, 'vendor_flow_200.csv'));
    expect((await loadPortfolio(crlf)).portfolio).toEqual(original.portfolio);
  });
});

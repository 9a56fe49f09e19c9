import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { runCommand } from '../../src/cli/runCommand';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import type { RunReport } from '../../src/streams/report';
import { HEADER, testIo } from './support/io';

const KEY = 'sk-cli-spec-known-key-0123456789';

async function waitFor(condition: () => boolean): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 10_000) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('runCommand', () => {
  let emulator: EmulatorHandle;
  let dir: string;
  const env = (): Record<string, string> => ({ C9_API_ENDPOINT: emulator.url, C9_API_SECRET: KEY });
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(async () => {
    emulator = await startEmulator({ apiKeys: [KEY], msPerAccount: 1, workers: 4 });
    dir = mkdtempSync(join(tmpdir(), 'c9-cli-'));
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => emulator.faults.clear());

  /** Runs the CLI in-process; every run also checks that the key was never printed. */
  async function cli(argv: string[], environment: Record<string, string | undefined> = env(), signal?: AbortSignal) {
    const io = testIo(environment, signal);
    const code = await runCommand(argv, io);
    const stdout = io.stdout.text();
    const stderr = io.stderr.text();
    expect(stdout).not.toContain(KEY);
    expect(stderr).not.toContain(KEY);
    return { code, stdout, stderr };
  }

  const fast = ['--poll-interval', '20'];
  const book = (rows: string[]): string => `${HEADER}\n${rows.join('\n')}\n`;
  const brent = (account: string, qty: number | string): string => `${account},ICE.EU,B,FUT,202612,,${qty}`;

  it('should run a spreadsheet CSV (BOM, CRLF, quoted commas, blank lines, extra column) and send every row unchanged', async () => {
    const path = file(
      'excel.csv',
      `\uFEFF${HEADER},memo\r\n${brent('ACC-1', 5)},"hedge, front"\r\n\r\n${brent('ACC-2', -3)},"say ""hi"""\r\n${brent('ACC-1', 5)},\r\n\r\n`,
    );

    const { code, stdout } = await cli(['run', path, ...fast]);

    expect(code).toBe(0);
    const sent = emulator.stats.lastSubmittedPayloads.get(KEY) as { portfolio: unknown[] };
    const position = (account: string, qty: string) => ({
      account_code: account,
      exchange_code: 'ICE.EU',
      contract_code: 'B',
      contract_type: 'FUT',
      contract_expiry: '202612',
      net_position: qty,
    });
    expect(sent.portfolio).toEqual([
      { ...position('ACC-1', '5'), memo: 'hedge, front' },
      { ...position('ACC-2', '-3'), memo: 'say "hi"' },
      position('ACC-1', '5'),
    ]);
    expect(stdout).toContain('Results fetched: 2 accounts');
    expect(stdout).toMatch(/Total initial margin: [\d,]+\.\d\d USD/);
  });

  it('should print exactly one JSON object of the documented shape with --format json, logs on stderr', async () => {
    const path = file('payload.json', JSON.stringify({ currency_code: 'EUR', portfolio: [{ account_code: 'J-1', exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: 202612, net_position: 2 }] }));

    const { code, stdout, stderr } = await cli(['run', path, '--format', 'json', ...fast]);

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(Object.keys(report)).toEqual(['batches', 'accounts_fetched', 'total_initial_margin', 'currency_code', 'top', 'missing_accounts', 'stale_accounts', 'exceptions']);
    expect(report.batches).toEqual([{ batch_id: expect.any(String), status: 'completed', runtime_ms: expect.any(Number), accounts: 1 }]);
    expect(report.accounts_fetched).toBe(1);
    expect(report.currency_code).toBe('EUR');
    expect(report.top).toEqual([{ account_code: 'J-1', initial_margin: report.total_initial_margin, status: expect.any(String) }]);
    expect(stderr).toContain('submitted');
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it('should run an NDJSON file', async () => {
    const lines = ['N-1', 'N-2', 'N-3'].map((a) => JSON.stringify({ account_code: a, exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202612', net_position: '1' }));
    const path = file('book.ndjson', `${lines.join('\r\n')}\r\n\r\n`);

    const { code, stdout } = await cli(['run', path, '--format', 'json', '--quiet', ...fast]);

    expect(code).toBe(0);
    expect((JSON.parse(stdout) as RunReport).accounts_fetched).toBe(3);
  });

  it('should fail a bad row with exit 1 and one line naming the file and line, before sending anything', async () => {
    const submitsBefore = emulator.stats.requests.submit;
    const path = file('bad.csv', book([brent('A', 1), '', brent('B', '12abc')]));

    const { code, stdout, stderr } = await cli(['run', path, ...fast]);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual([`error: ${path}:4: net_position: expected a number or a numeric string, got "12abc"`]);
    expect(emulator.stats.requests.submit).toBe(submitsBefore);
  });

  it('should exit 2 when the batch completes with errors, listing the exceptions', async () => {
    const path = file('partial.csv', book([brent('P-1', 1), 'P-2,NOPE,ZZ,FUT,202612,,1', brent('P-2', 1)]));

    const { code, stdout } = await cli(['run', path, '--format', 'json', ...fast]);

    expect(code).toBe(2);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.batches[0].status).toBe('completed_with_errors');
    expect(report.exceptions.map((e) => e.account_code)).toContain('P-2');
  });

  it('should exit 1 when the batch fails', async () => {
    const path = file('failed.csv', book(['F-1,NOPE,ZZ,FUT,202612,,1']));

    const { code, stdout, stderr } = await cli(['run', path, '--format', 'json', ...fast]);

    expect(code).toBe(1);
    expect((JSON.parse(stdout) as RunReport).batches[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('failed') });
    expect(stderr).toMatch(/^error: batch .* failed/m);
  });

  it('should exit 1 with one line when the key is refused', async () => {
    const wrong = 'sk-wrong-key-abcdef-987654';
    const path = file('ok.csv', book([brent('K-1', 1)]));

    const { code, stdout, stderr } = await cli(['run', path, '--quiet', ...fast], { C9_API_ENDPOINT: emulator.url, C9_API_SECRET: wrong });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('error: the API key was refused (HTTP 401): check C9_API_SECRET\n');
    expect(stderr).not.toContain(wrong);
  });

  it('should refuse an endpoint without a key', async () => {
    const { code, stderr } = await cli(['run', file('nokey.csv', book([brent('K-1', 1)]))], { C9_API_ENDPOINT: emulator.url });

    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: no API key: set C9_API_SECRET/m);
  });

  it('should split by account into several batches and report each', async () => {
    const path = file('chunks.csv', book([brent('C-1', 1), brent('C-2', 1), brent('C-1', 2), brent('C-3', 1)]));

    const { code, stdout } = await cli(['run', path, '--chunk-accounts', '1', '--concurrency', '2', '--format', 'json', ...fast]);

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.batches.map((b) => b.accounts)).toEqual([1, 1, 1]);
    expect(report.accounts_fetched).toBe(3);
  });

  it('should let only the first batch of a run replace the queue with --mode replace_all', async () => {
    // One worker and a slow batch: later batches of the run sit in the queue, where a second
    // replace_all would drop them.
    const slow = await startEmulator({ apiKeys: [KEY], workers: 1, msPerBatch: 100, msPerAccount: 1 });
    try {
      const path = file('replace.csv', book([brent('R-1', 1), brent('R-2', 1), brent('R-3', 1)]));

      const { code, stdout } = await cli(
        ['run', path, '--mode', 'replace_all', '--chunk-accounts', '1', '--concurrency', '3', '--format', 'json', ...fast],
        { C9_API_ENDPOINT: slow.url, C9_API_SECRET: KEY },
      );

      expect((JSON.parse(stdout) as RunReport).batches.map((b) => b.status)).toEqual(['completed', 'completed', 'completed']);
      expect(code).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('should stop at the run deadline, naming the batch, its state and the time', async () => {
    emulator.faults.holdBatch('*', 'queued');
    const path = file('slow.csv', book([brent('T-1', 1)]));

    const { code, stdout, stderr } = await cli(['run', path, '--timeout', '300ms', '--format', 'json', ...fast]);

    expect(code).toBe(1);
    const report = JSON.parse(stdout) as RunReport;
    expect(stderr).toMatch(new RegExp(`error: batch ${report.batches[0].batch_id} timed out after \\d+ms \\(last status: queued, queue position 0\\)`));
    expect(report.batches[0]).toMatchObject({ status: 'queued', error: expect.stringContaining('timed out') });
  });

  it('should exit 130 on interrupt, cancelling at once and printing the batch still running', async () => {
    emulator.faults.holdBatch('*', 'queued');
    const path = file('interrupt.csv', book([brent('I-1', 1)]));
    const controller = new AbortController();
    const io = testIo(env(), controller.signal);
    const running = runCommand(['run', path, ...fast], io);
    await waitFor(() => io.stderr.text().includes('submitted'));
    const statusPolls = emulator.stats.requests.status;

    controller.abort('SIGINT');
    const code = await running;

    expect(code).toBe(130);
    const id = /submitted (\S+)/.exec(io.stderr.text())?.[1];
    expect(io.stderr.text()).toContain(`interrupted: 1 batch still running on the server: ${id}`);
    expect(io.stdout.text()).toBe('');
    await new Promise((r) => setTimeout(r, 100));
    expect(emulator.stats.requests.status - statusPolls).toBeLessThanOrEqual(1);
  });

  it('should write the kept rows with --out as JSON and as CSV', async () => {
    const path = file('out.csv', book([brent('O-1', 1), brent('O-2', 4)]));
    const jsonOut = join(dir, 'rows.json');
    const csvOut = join(dir, 'rows.csv');

    expect((await cli(['run', path, '--out', jsonOut, '--quiet', ...fast])).code).toBe(0);
    expect((await cli(['run', path, '--out', csvOut, '--quiet', ...fast])).code).toBe(0);

    const jsonRows = JSON.parse(readFileSync(jsonOut, 'utf8')) as { account_code: string }[];
    const csvRows = parse(readFileSync(csvOut, 'utf8'), { columns: true }) as { account_code: string }[];
    expect(jsonRows.map((r) => r.account_code)).toEqual(['O-1', 'O-2']);
    expect(csvRows.map((r) => r.account_code)).toEqual(['O-1', 'O-2']);
    expect(readFileSync(jsonOut, 'utf8')).not.toContain(KEY);
  });

  it('should refuse an --out file that is neither .json nor .csv before running', async () => {
    const { code, stderr } = await cli(['run', file('x.csv', book([brent('X', 1)])), '--out', join(dir, 'rows.txt')]);

    expect(code).toBe(1);
    expect(stderr).toContain('must end in .json or .csv');
  });

  it('should show a batch status and the caller\'s rows', async () => {
    const run = await cli(['run', file('sr.csv', book([brent('S-1', 1), brent('S-2', 1)])), '--format', 'json', '--quiet', ...fast]);
    const batchId = (JSON.parse(run.stdout) as RunReport).batches[0].batch_id;

    const status = await cli(['status', batchId]);
    const results = await cli(['results', '--account', 'S-2', '--endpoint', emulator.url], { C9_API_SECRET: KEY });

    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ batch_id: batchId, status: 'completed' });
    expect(results.code).toBe(0);
    expect((JSON.parse(results.stdout) as { account_code: string }[]).map((r) => r.account_code)).toEqual(['S-2']);
  });

  it('should exit 1 for an unknown batch id', async () => {
    const { code, stderr } = await cli(['status', '3fa85f64-5717-4562-b3fc-2c963f66afa6']);

    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: HTTP 404.*batch not found\n$/);
  });

  it('should start the embedded emulator when no endpoint is set, and say so on stderr', async () => {
    const { code, stdout, stderr } = await cli(['run', `${__dirname}/../../examples/sample_portfolio.csv`, ...fast], {});

    expect(code).toBe(0);
    expect(stderr).toMatch(/running against the embedded emulator at http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toContain('Results fetched: 1 account');
  });

  it('should serve the emulator until interrupted, printing its URL and keys', async () => {
    const controller = new AbortController();
    const io = testIo({});
    const serving = runCommand(['serve', '--api-key', 'sk-serve-one-123456', '--api-key', 'sk-serve-two-123456', '--workers', '2'], { ...io, signal: controller.signal });
    await waitFor(() => io.stdout.text().includes('Ctrl-C'));
    const url = /listening on (\S+)/.exec(io.stdout.text())?.[1] ?? '';

    const health = await fetch(`${url}/healthcheck/analytics-engine`, { headers: { authorization: 'Bearer sk-serve-two-123456' } });
    controller.abort('SIGINT');

    expect(health.status).toBe(200);
    await expect(serving).resolves.toBe(0);
    expect(io.stdout.text()).toContain('sk-serve-one-123456');
  });

  it('should print help with exit 0 and refuse bad options with exit 1', async () => {
    const help = await cli(['run', '--help']);
    const bad = await cli(['run', 'x.csv', '--concurrency', 'many']);
    const mode = await cli(['run', 'x.csv', '--mode', 'lifo']);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: c9-batch run [options] <file>');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("option '--concurrency <n>' argument 'many' is invalid");
    expect(mode.code).toBe(1);
  });
});

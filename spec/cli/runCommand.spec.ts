import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    expect(Object.keys(report)).toEqual(['batches', 'accounts_fetched', 'total_initial_margin', 'currency_code', 'top', 'missing_accounts', 'stale_accounts', 'accounts_without_results', 'exceptions']);
    expect(report.batches).toEqual([{ batch_id: expect.any(String), status: 'completed', runtime_ms: expect.any(Number), accounts: 1 }]);
    expect(report.accounts_fetched).toBe(1);
    expect(report.currency_code).toBe('EUR');
    expect(report.top).toEqual([{ account_code: 'J-1', initial_margin: report.total_initial_margin, status: expect.any(String) }]);
    expect(stderr).toContain('submitted');
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it('should run an NDJSON file (here with the plain poll backoff)', async () => {
    const lines = ['N-1', 'N-2', 'N-3'].map((a) => JSON.stringify({ account_code: a, exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202612', net_position: '1' }));
    const path = file('book.ndjson', `${lines.join('\r\n')}\r\n\r\n`);

    const { code, stdout } = await cli(['run', path, '--format', 'json', '--quiet', '--no-adaptive-poll', ...fast]);

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

  it('should split by account into several batches run together, with progress per batch, and report each', async () => {
    const path = file('chunks.csv', book([brent('C-1', 1), brent('C-2', 1), brent('C-1', 2), brent('C-3', 1)]));

    const { code, stdout, stderr } = await cli(['run', path, '--chunk-accounts', '1', '--concurrency', '2', '--format', 'json', ...fast]);

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.batches.map((b) => b.accounts)).toEqual([1, 1, 1]);
    expect(report.accounts_fetched).toBe(3);
    expect(report).not.toHaveProperty('splits');
    for (const [n, b] of report.batches.entries()) {
      expect(stderr).toContain(`batch ${n + 1}/3: submitted ${b.batch_id} (1 account)`);
      expect(stderr).toMatch(new RegExp(`batch ${n + 1}/3: ${b.batch_id} results for 1 account`));
    }
    expect(stderr).toContain('; 3 batches');
  });

  it('should split into batches of at most --chunk-mb of JSON, never splitting an account', async () => {
    // A position is ~125 bytes of JSON; 0.0002 MB (210 bytes) holds one account's, not two accounts' (M-1 alone exceeds it: a batch of its own).
    const path = file('bytes.csv', book([brent('M-1', 1), brent('M-2', 1), brent('M-1', 3), brent('M-3', 1)]));

    // One batch at a time, so the last body the emulator parsed is the last chunk's (each chunk is read from the file as it is sent).
    const { code, stdout } = await cli(['run', path, '--chunk-mb', '0.0002', '--concurrency', '1', '--format', 'json', '--quiet', ...fast]);

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.batches.map((b) => b.accounts)).toEqual([1, 1, 1]);
    const sent = emulator.stats.lastSubmittedPayloads.get(KEY) as { portfolio: { account_code: string }[] };
    expect(sent.portfolio.map((p) => p.account_code)).toEqual(['M-3']);
  });

  it('should write the accepted batches to --state as they are accepted, atomically and without the key', async () => {
    const state = join(dir, 'run.state.json');
    const path = file('state.csv', book([brent('ST-1', 1), brent('ST-2', 1)]));

    const { code, stdout } = await cli(['run', path, '--chunk-accounts', '1', '--state', state, '--format', 'json', '--quiet', ...fast]);

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    const text = readFileSync(state, 'utf8');
    expect(text).not.toContain(KEY);
    const saved = JSON.parse(text) as { version: number; handles: { batchId: string; accountCodes: string[]; endpoint: string; processingMode: string }[] };
    expect(saved.version).toBe(1);
    expect(saved.handles.map((h) => h.batchId).sort()).toEqual(report.batches.map((b) => b.batch_id).sort());
    expect(saved.handles.map((h) => h.accountCodes).sort()).toEqual([['ST-1'], ['ST-2']]);
    expect(saved.handles.every((h) => h.endpoint === emulator.url && h.processingMode === 'fifo')).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('should refuse a --state file that cannot be written before sending anything', async () => {
    const submitsBefore = emulator.stats.requests.submit;

    const { code, stderr } = await cli(['run', file('nostate.csv', book([brent('NS', 1)])), '--state', join(dir, 'no-such-dir', 's.json'), ...fast]);

    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: --state .*no-such-dir.*s\.json: cannot write the state file/m);
    expect(emulator.stats.requests.submit).toBe(submitsBefore);
  });

  it('should split a batch refused as too large (413) and say so in the report', async () => {
    const position = { account_code: 'BIG-1', exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202612', net_position: '1' };
    const one = JSON.stringify({ portfolio: [position] }).length;
    const small = await startEmulator({ apiKeys: [KEY], msPerAccount: 1, maxPayloadBytes: one + 40 });
    try {
      const path = file('big.csv', book([brent('BIG-1', 1), brent('BIG-2', 1)]));
      const environment = { C9_API_ENDPOINT: small.url, C9_API_SECRET: KEY };

      const json = await cli(['run', path, '--format', 'json', ...fast], environment);
      const text = await cli(['run', path, '--quiet', ...fast], environment);

      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as RunReport;
      expect(report.splits).toEqual([{ chunk: '1', accounts: 2, into: ['1.1', '1.2'] }]);
      expect(report.batches.map((b) => [b.status, b.accounts])).toEqual([
        ['completed', 1],
        ['completed', 1],
      ]);
      expect(report.accounts_fetched).toBe(2);
      expect(json.stderr).toContain('batch: refused as too large (HTTP 413): split into batch (part 1) and batch (part 2) (2 accounts)');
      expect(json.stderr).toMatch(/batch \(part 2\): submitted \S+ \(1 account\)/);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('Split after HTTP 413 (payload too large): 1\n  chunk 1 (2 accounts) into 1.1 and 1.2\n');
    } finally {
      await small.close();
    }
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

  it('should take a deadline longer than a timer can hold as no deadline, not as an immediate one', async () => {
    const { code, stdout } = await cli(['run', file('long.csv', book([brent('L-1', 1)])), '--timeout', '1000h', '--format', 'json', '--quiet', ...fast]);

    expect(code).toBe(0);
    expect((JSON.parse(stdout) as RunReport).batches[0].status).toBe('completed');
  });

  it('should report the chunks the deadline stopped before they were accepted as not submitted', async () => {
    emulator.faults.holdBatch('*', 'queued');
    const path = file('slow2.csv', book([brent('U-1', 1), brent('U-2', 1)]));

    const { code, stdout, stderr } = await cli(['run', path, '--chunk-accounts', '1', '--concurrency', '1', '--timeout', '300ms', '--format', 'json', ...fast]);

    expect(code).toBe(1);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.batches).toEqual([
      { batch_id: expect.any(String), status: 'queued', runtime_ms: expect.any(Number), accounts: 1, error: expect.stringContaining('timed out') },
      { batch_id: null, status: 'not_submitted', runtime_ms: null, accounts: 1, chunk: '2', error: "the run's deadline (300ms) passed before it was accepted" },
    ]);
    expect(stderr).toContain('error: the run timed out after 300ms with 1 batch not yet accepted');
    expect(stderr).toContain(`1 batch still running on the server: ${report.batches[0].batch_id}`);
  });

  it('should warn on stderr when a batch\'s percentage goes backwards, and go on', async () => {
    emulator.faults.holdBatch('*', 'queued');
    const path = file('regress.csv', book([brent('RG-1', 1)]));
    const io = testIo(env());
    const running = runCommand(['run', path, '--format', 'json', ...fast], io);
    await waitFor(() => /submitted \S+/.test(io.stderr.text()));
    const id = /submitted (\S+)/.exec(io.stderr.text())?.[1] ?? '';

    emulator.faults.reportPct(id, [60, 30]);
    await waitFor(() => io.stderr.text().includes('warning:'));
    emulator.faults.releaseBatch('*');

    expect(await running).toBe(0);
    expect(io.stderr.text()).toContain(`warning: batch ${id}: completed_pct went back from 60% to 30%`);
    expect((JSON.parse(io.stdout.text()) as RunReport).batches[0].status).toBe('completed');
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

  it('should refuse an --out file in a missing directory before reading or sending anything', async () => {
    const submitsBefore = emulator.stats.requests.submit;
    const out = join(dir, 'no-such-dir', 'rows.json');

    const { code, stdout, stderr } = await cli(['run', file('outdir.csv', book([brent('OD', 1)])), '--out', out, ...fast]);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`error: --out ${out}: no such directory: ${join(dir, 'no-such-dir')}\n`);
    expect(emulator.stats.requests.submit).toBe(submitsBefore);
  });

  it('should refuse an --out path that is a directory before sending anything', async () => {
    const submitsBefore = emulator.stats.requests.submit;
    const folder = join(dir, 'folder.csv');
    mkdirSync(folder);

    const { code, stderr } = await cli(['run', file('outisdir.csv', book([brent('OD', 1)])), '--out', folder, ...fast]);

    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: --out .*folder\.csv: is a directory, not a file$/m);
    expect(emulator.stats.requests.submit).toBe(submitsBefore);
  });

  it('should name the variable or the option of an endpoint that is no URL, before reading the file', async () => {
    const missing = join(dir, 'never-read.csv');

    const fromEnv = await cli(['run', missing], { C9_API_ENDPOINT: 'not-a-url', C9_API_SECRET: KEY });
    const fromOption = await cli(['run', missing, '--endpoint', 'bad'], { C9_API_SECRET: KEY });
    const status = await cli(['status', 'b-1', '--endpoint', 'ftp://127.0.0.1/'], { C9_API_SECRET: KEY });

    expect(fromEnv).toMatchObject({ code: 1, stdout: '', stderr: 'error: C9_API_ENDPOINT: must be an absolute http(s) URL\n' });
    expect(fromOption).toMatchObject({ code: 1, stdout: '', stderr: 'error: --endpoint: must be an absolute http(s) URL\n' });
    expect(status).toMatchObject({ code: 1, stdout: '', stderr: 'error: --endpoint: must use http or https, not ftp\n' });
  });

  it('should ask for the key before reading the file', async () => {
    const { code, stderr } = await cli(['run', join(dir, 'never-read.csv')], { C9_API_ENDPOINT: emulator.url });

    expect(code).toBe(1);
    expect(stderr).toBe('error: no API key: set C9_API_SECRET (the key is never taken on the command line)\n');
  });

  it('should show a batch status and the caller\'s rows', async () => {
    const run = await cli(['run', file('sr.csv', book([brent('S-1', 1), brent('S-2', 1)])), '--format', 'json', '--quiet', ...fast]);
    const batchId = (JSON.parse(run.stdout) as RunReport).batches[0].batch_id ?? '';

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

  it('should warn, even with --quiet, that a --state file of a run on the embedded emulator cannot be resumed', async () => {
    const state = join(dir, 'embedded.state.json');
    const { code, stderr } = await cli(['run', `${__dirname}/../../examples/sample_portfolio.csv`, ...fast, '--quiet', '--state', state], {});

    expect(code).toBe(0);
    expect(stderr).toBe(`warning: the embedded emulator stops with this run, so the batches in ${state} cannot be resumed after it\n`);
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

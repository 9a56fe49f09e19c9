import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/cli/runCommand';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import type { RunReport } from '../../src/streams/report';
import { HEADER, testIo } from './support/io';

const KEY = 'sk-resume-spec-known-key-0123456789';

async function waitFor(condition: () => boolean): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 10_000) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface SavedFile {
  version: number;
  handles: { batchId: string; accountCodes: string[]; submittedAt: string; processingMode: string; endpoint?: string }[];
}

describe('resumeRun', () => {
  let emulator: EmulatorHandle;
  let dir: string;
  const env = (): Record<string, string> => ({ C9_API_ENDPOINT: emulator.url, C9_API_SECRET: KEY });
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const fast = ['--poll-interval', '20'];
  const book = (accounts: string[]): string => `${HEADER}\n${accounts.map((a) => `${a},ICE.EU,B,FUT,202612,,1`).join('\n')}\n`;
  const readState = (path: string): SavedFile => JSON.parse(readFileSync(path, 'utf8')) as SavedFile;

  beforeAll(async () => {
    emulator = await startEmulator({ apiKeys: [KEY], msPerAccount: 1, workers: 4 });
    dir = mkdtempSync(join(tmpdir(), 'c9-resume-'));
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => emulator.faults.clear());

  /** Runs the CLI in-process; every run also checks that the key was never printed. */
  async function cli(argv: string[], environment: Record<string, string | undefined> = env()) {
    const io = testIo(environment);
    const code = await runCommand(argv, io);
    const stdout = io.stdout.text();
    const stderr = io.stderr.text();
    expect(stdout).not.toContain(KEY);
    expect(stderr).not.toContain(KEY);
    return { code, stdout, stderr };
  }

  /** A finished run's state file, its handles pointed wherever `edit` says. */
  async function savedRun(name: string, accounts: string[], edit: (saved: SavedFile) => SavedFile = (s) => s): Promise<{ state: string; ids: string[] }> {
    const state = join(dir, `${name}.state.json`);
    const run = await cli(['run', file(`${name}.csv`, book(accounts)), '--chunk-accounts', '1', '--state', state, '--quiet', ...fast]);
    expect(run.code).toBe(0);
    const saved = edit(readState(state));
    writeFileSync(state, JSON.stringify(saved));
    return { state, ids: saved.handles.map((h) => h.batchId) };
  }

  it('should pick up the batches of a run interrupted after they were accepted, without submitting again, and report them', async () => {
    emulator.faults.holdBatch('*', 'queued');
    const state = join(dir, 'crash.state.json');
    const controller = new AbortController();
    const io = testIo(env(), controller.signal);
    const running = runCommand(['run', file('crash.csv', book(['CR-1', 'CR-2', 'CR-3'])), '--chunk-accounts', '1', '--concurrency', '3', '--state', state, ...fast], io);
    await waitFor(() => (io.stderr.text().match(/submitted \S+/g) ?? []).length === 3);

    controller.abort('SIGINT');
    const interrupted = await running;

    expect(interrupted).toBe(130);
    expect(io.stdout.text()).toBe('');
    const ids = [...io.stderr.text().matchAll(/submitted (\S+)/g)].map((m) => m[1]);
    expect(io.stderr.text()).toContain(`interrupted: 3 batches still running on the server: `);
    expect(io.stderr.text()).toContain(`\`c9-batch resume ${state}\` picks them up`);
    // Every accepted batch is on disk once the command returns, the last one too.
    const saved = readState(state);
    expect(saved.handles.map((h) => h.batchId).sort()).toEqual([...ids].sort());
    expect(readFileSync(state, 'utf8')).not.toContain(KEY);

    emulator.faults.releaseBatch('*');
    const submits = emulator.stats.requests.submit;
    // No C9_API_ENDPOINT: the handles' own endpoint is used.
    const resumed = await cli(['resume', state, '--format', 'json', '--out', join(dir, 'resumed.json'), ...fast], { C9_API_SECRET: KEY });

    expect(resumed.code).toBe(0);
    const report = JSON.parse(resumed.stdout) as RunReport;
    expect(report.batches.map((b) => b.batch_id)).toEqual(saved.handles.map((h) => h.batchId));
    expect(report.batches.map((b) => b.status)).toEqual(['completed', 'completed', 'completed']);
    expect(report.accounts_fetched).toBe(3);
    expect(emulator.stats.requests.submit).toBe(submits);
    expect(resumed.stderr).toContain(`resuming 3 batches from ${state} at ${emulator.url}`);
    expect(resumed.stderr).toContain(`batch 1/3: resuming ${saved.handles[0].batchId} (1 account)`);
    expect((JSON.parse(readFileSync(join(dir, 'resumed.json'), 'utf8')) as { account_code: string }[]).map((r) => r.account_code).sort()).toEqual(['CR-1', 'CR-2', 'CR-3']);
  });

  it('should print the same text report as run', async () => {
    const { state, ids } = await savedRun('text', ['TX-1', 'TX-2']);

    const { code, stdout } = await cli(['resume', state, '--quiet', ...fast]);

    expect(code).toBe(0);
    expect(stdout).toContain('Batches: 2');
    for (const id of ids) expect(stdout).toContain(`${id}  completed  1 account`);
    expect(stdout).toContain('Results fetched: 2 accounts');
  });

  it('should fail a state file that is not a handle file with one line naming the file and the field, requesting nothing', async () => {
    const bad = file('bad.state.json', JSON.stringify({ version: 1, handles: [{ batchId: 5, accountCodes: ['A'], submittedAt: 'x', processingMode: 'fifo' }] }));
    const garbled = file('garbled.state.json', '{"version":1,"hand');
    const empty = file('empty.state.json', JSON.stringify({ version: 1, handles: [] }));
    const requests = { ...emulator.stats.requests };

    const results = await Promise.all([bad, garbled, empty, join(dir, 'missing.state.json')].map((path) => cli(['resume', path, ...fast])));

    expect(results.map((r) => r.code)).toEqual([1, 1, 1, 1]);
    expect(results.map((r) => r.stderr)).toEqual([
      `error: invalid state file ${bad}: handles[0].batchId: expected string\n`,
      `error: invalid state file ${garbled}: (root): not valid JSON\n`,
      `error: state file ${empty}: handles: no batch was accepted in that run, nothing to resume\n`,
      `error: state file ${join(dir, 'missing.state.json')}: no such file\n`,
    ]);
    expect(results.every((r) => r.stdout === '')).toBe(true);
    expect(emulator.stats.requests).toEqual(requests);
  });

  it('should refuse batches saved for another server than C9_API_ENDPOINT, unless --endpoint says to follow them there', async () => {
    const elsewhere = 'http://127.0.0.1:9';
    const { state } = await savedRun('moved', ['MV-1'], (s) => ({ ...s, handles: s.handles.map((h) => ({ ...h, endpoint: elsewhere })) }));
    const polls = emulator.stats.requests.status;

    const refused = await cli(['resume', state, ...fast]);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `error: state file ${state}: its batches were submitted to ${elsewhere}, not to C9_API_ENDPOINT (${emulator.url}); pass --endpoint URL to follow them there anyway\n`,
    );
    expect(emulator.stats.requests.status).toBe(polls);

    const followed = await cli(['resume', state, '--endpoint', emulator.url, '--format', 'json', ...fast], { C9_API_SECRET: KEY });

    expect(followed.code).toBe(0);
    expect(followed.stderr).toContain(`note: the batches in ${state} were submitted to ${elsewhere}; following them at ${emulator.url} as --endpoint says`);
    expect((JSON.parse(followed.stdout) as RunReport).accounts_fetched).toBe(1);
  });

  it('should say there is no endpoint when neither the options, the environment nor the file names one, never starting an emulator', async () => {
    const { state } = await savedRun('anonymous', ['AN-1'], (s) => ({ ...s, handles: s.handles.map(({ endpoint: _endpoint, ...h }) => h) }));

    const { code, stdout, stderr } = await cli(['resume', state, ...fast], { C9_API_SECRET: KEY });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`error: no endpoint: state file ${state} names none; pass --endpoint URL or set C9_API_ENDPOINT\n`);
  });

  it('should need the key, as run does', async () => {
    const { state } = await savedRun('keyless', ['KL-1']);

    const { code, stderr } = await cli(['resume', state], { C9_API_ENDPOINT: emulator.url });

    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: no API key: set C9_API_SECRET/);
  });
});

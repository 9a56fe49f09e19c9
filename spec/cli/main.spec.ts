/**
 * The real executable, spawned as a child process. The TypeScript entry is run through a
 * tiny swc loader (support/runTs.js), so no build is needed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import type { RunReport } from '../../src/streams/report';
import { HEADER } from './support/io';

const ROOT = join(__dirname, '..', '..');
const KEY = 'sk-main-spec-known-key-abcdef0123';

interface Child {
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderrSoFar(): string;
  kill(signal: NodeJS.Signals): void;
}

function c9(args: string[], env: Record<string, string> = {}): Child {
  const base = { ...process.env };
  delete base.C9_API_ENDPOINT;
  delete base.C9_API_SECRET;
  const child = spawn(process.execPath, [join(ROOT, 'spec/cli/support/runTs.js'), join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { done, stderrSoFar: () => stderr, kill: (signal) => child.kill(signal) };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('c9-batch (spawned)', () => {
  let emulator: EmulatorHandle;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator({ apiKeys: [KEY], msPerAccount: 1 });
    dir = mkdtempSync(join(tmpdir(), 'c9-main-'));
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should run the vendor sample against the embedded emulator and print one JSON report', async () => {
    const { code, stdout, stderr } = await c9(['run', 'examples/sample_portfolio.csv', '--format', 'json', '--poll-interval', '20']).done;

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as RunReport;
    expect(report.batches).toHaveLength(1);
    expect(report.accounts_fetched).toBe(1);
    expect(stderr).toContain('embedded emulator at http://127.0.0.1:');
  });

  it('should exit 1 with one line for a refused key, never printing it', async () => {
    const wrong = 'sk-main-spec-wrong-key-9876543210';
    const path = join(dir, 'one.csv');
    writeFileSync(path, `${HEADER}\nA,ICE.EU,B,FUT,202612,,1\n`);

    const { code, stdout, stderr } = await c9(['run', path, '--verbose'], { C9_API_ENDPOINT: emulator.url, C9_API_SECRET: wrong }).done;

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: the API key was refused \(HTTP 401\): check C9_API_SECRET$/m);
    expect(stderr + stdout).not.toContain(wrong);
  });

  it('should exit 130 on Ctrl-C and print the batch still running, never the key', async () => {
    emulator.faults.holdBatch('*', 'queued');
    const path = join(dir, 'held.csv');
    writeFileSync(path, `${HEADER}\nH,ICE.EU,B,FUT,202612,,1\n`);
    const child = c9(['run', path, '--poll-interval', '20'], { C9_API_ENDPOINT: emulator.url, C9_API_SECRET: KEY });
    await waitFor(() => /submitted \S+/.test(child.stderrSoFar()), 'the submit');

    child.kill('SIGINT');
    const { code, stdout, stderr } = await child.done;
    emulator.faults.clear();

    const id = /submitted (\S+)/.exec(stderr)?.[1];
    expect(code).toBe(130);
    expect(stderr).toContain(`interrupted: 1 batch still running on the server: ${id}`);
    expect(stderr + stdout).not.toContain(KEY);
  });
});

/**
 * Every code block of README.md is compiled or run here:
 * - `ts` blocks are type-checked against src/ (`c9-batch-rx` → src/index.ts);
 * - `sh` blocks run line by line: `c9-batch …` / `npx c9-batch …` through the CLI's own
 *   runCommand against an emulator on 127.0.0.1 (exit code 0 or 2; `serve` is started,
 *   its URL checked, and stopped), `node examples/…` as a process, and `npm …` must name a
 *   built-in command or a script of package.json; `export C9_API_…=` lines stand for the
 *   spec's own endpoint and key, which every command gets in its environment; blocks run
 *   side by side, so no two blocks may write the same file, and a `resume FILE` line must
 *   follow a `run … --state FILE` line of its own block (the crash-and-resume example);
 * - `bash` blocks run whole with bash (the curl flow), against the same emulator;
 * - `text` blocks are output samples and are not run. Any other fence fails.
 * Commands run in a scratch directory where `examples/` is the repository's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { runCommand } from '../../src/cli/runCommand';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createClient } from '../../src/http/client';
import { sink } from '../cli/support/io';
import { parseFences, shellLines, splitWords, type Fence, type ShellLine } from './support/fences';
import { typeCheckSnippets } from './support/typecheck';

const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const FENCES = parseFences(README);
const SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const NPM_BUILTINS = new Set(['install', 'ci', 'pack', 'publish', 'exec']);
const KNOWN_LANGS = new Set(['ts', 'sh', 'bash', 'text']);

type Kind = 'cli' | 'node' | 'npm' | 'env';

function kindOf(text: string): Kind | undefined {
  if (/^(npx )?c9-batch(\s|$)/.test(text)) return 'cli';
  if (/^node examples\//.test(text)) return 'node';
  if (/^npm(\s|$)/.test(text)) return 'npm';
  if (/^export C9_API_(ENDPOINT|SECRET)=\S+$/.test(text)) return 'env';
  return undefined;
}

function where(line: ShellLine): string {
  return `README.md:${line.line}: ${line.text}`;
}

/** Why an `npm …` line does not name something that exists; undefined when it does. */
function npmProblem(text: string): string | undefined {
  for (const part of text.split('&&').map((p) => p.trim())) {
    const [npm, command, name] = part.split(/\s+/);
    if (npm !== 'npm' || command === undefined) return `"${part}" is not an npm command`;
    if (command === 'run' || command === 'run-script') {
      if (name === undefined || !(name in SCRIPTS)) return `no script "${name ?? ''}" in package.json`;
    } else if (command === 'test' || command === 'start') {
      if (!(command in SCRIPTS)) return `no script "${command}" in package.json`;
    } else if (!NPM_BUILTINS.has(command)) {
      return `"npm ${command}" is neither a known npm command nor a script`;
    }
  }
  return undefined;
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `c9-batch …` in process, as bin/c9-batch.js would run it; `serve` is started and stopped. */
async function runCli(argv: readonly string[], env: Record<string, string | undefined>, cwd: string, stdoutTo?: string): Promise<Outcome> {
  const stdout = sink();
  const stderr = sink();
  if (argv[0] === 'serve') {
    // A fixed port from the README could be busy here: serve on a free one, same options otherwise.
    const args = argv.map((a, i) => (argv[i - 1] === '--port' ? '0' : a));
    const stop = new AbortController();
    const done = runCommand(args, { stdout, stderr, env, signal: stop.signal });
    const listening = await waitFor(() => stdout.text(), /listening on (http:\/\/127\.0\.0\.1:\d+)/, done, 5000);
    const url = listening?.[1];
    let health = 'not served';
    if (url !== undefined) {
      const key = (/^\s+(sk-\S+)$/m.exec(stdout.text()) ?? [])[1] ?? '';
      const answer = await fetch(`${url}/healthcheck/analytics-engine`, { headers: { authorization: `Bearer ${key}` } });
      health = `healthcheck ${answer.status}`;
    }
    stop.abort('SIGINT');
    const code = await done;
    return { code: url === undefined || health !== 'healthcheck 200' ? -1 : code, stdout: `${stdout.text()}\n(${health})`, stderr: stderr.text() };
  }
  const code = await runCommand(argv, { stdout, stderr, env });
  if (stdoutTo !== undefined) writeFileSync(join(cwd, stdoutTo), stdout.text());
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Polls `read()` until it matches `pattern`, `done` settles, or `timeoutMs` passes. */
async function waitFor(read: () => string, pattern: RegExp, done: Promise<unknown>, timeoutMs: number): Promise<RegExpExecArray | undefined> {
  let settled = false;
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  const deadline = Date.now() + timeoutMs;
  while (!settled && Date.now() < deadline) {
    const match = pattern.exec(read());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return pattern.exec(read()) ?? undefined;
}

/** A process, with its output collected; killed after `timeoutMs`. */
function runProcess(command: string, args: readonly string[], env: Record<string, string | undefined>, cwd: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: -1, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code, signal) => resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr }));
  });
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-8).join('\n');
}

describe('README', () => {
  const shBlocks = FENCES.filter((f) => f.lang === 'sh');
  const bashBlocks = FENCES.filter((f) => f.lang === 'bash');
  let emulator: EmulatorHandle;
  let scratch: string;
  let previousCwd: string | undefined;
  /** One user of the emulator per block, so blocks running side by side never share a result store. */
  const envs = new Map<Fence, Record<string, string | undefined>>();

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'c9-readme-'));
    symlinkSync(join(ROOT, 'examples'), join(scratch, 'examples'));
    // The CLI runs in this process and resolves its files (--out rows.csv) from the cwd.
    previousCwd = process.cwd();
    process.chdir(scratch);
    const blocks = [...shBlocks, ...bashBlocks];
    const keys = blocks.map((_, i) => `sk-readme-spec-${i}-${Math.random().toString(36).slice(2)}`);
    emulator = await startEmulator({ apiKeys: keys, msPerAccount: 1, workers: 4 });
    await Promise.all(
      blocks.map(async (block, i) => {
        // A batch of this block's user, for lines that name "$BATCH_ID".
        const client = createClient({ endpoint: emulator.url, apiKey: keys[i] });
        const position = { account_code: 'README-1', exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202606', net_position: '1' };
        const { batch_id } = await firstValueFrom(client.submitBatch({ portfolio: [position] }));
        envs.set(block, { PATH: process.env.PATH, HOME: process.env.HOME, C9_API_ENDPOINT: emulator.url, C9_API_SECRET: keys[i], BATCH_ID: batch_id });
      }),
    );
  });

  afterAll(async () => {
    if (previousCwd !== undefined) process.chdir(previousCwd);
    await emulator?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('should open with the two commands: the main job, then the tests', () => {
    expect(FENCES.slice(0, 2).map((f) => f.code.trim())).toEqual(['npm install && npm start', 'npm test']);
    expect(README.indexOf('```')).toBeLessThan(README.indexOf('\n## '));
  });

  it('should fence every block as ts, sh, bash or text', () => {
    expect(FENCES.filter((f) => !KNOWN_LANGS.has(f.lang)).map((f) => `README.md:${f.line}: \`\`\`${f.lang}`)).toEqual([]);
  });

  it('should give every sh line a meaning this spec checks, and every sh block something to run', () => {
    const uncovered: string[] = [];
    for (const block of shBlocks) {
      const lines = shellLines(block);
      for (const line of lines) if (kindOf(line.text) === undefined) uncovered.push(where(line));
      if (!lines.some((l) => kindOf(l.text) !== 'env')) uncovered.push(`README.md:${block.line}: a sh block with nothing to run (fence samples as text)`);
    }
    expect(uncovered).toEqual([]);
  });

  it('should give each sh block its own output files, and resume only a state file its own block wrote', () => {
    // Blocks run side by side in one scratch folder: two blocks writing one file would read each other's.
    const env = { BATCH_ID: 'id', C9_API_ENDPOINT: 'http://127.0.0.1:1', C9_API_SECRET: 'key' };
    const writers = new Map<string, Fence>();
    const problems: string[] = [];
    for (const block of shBlocks) {
      const states = new Set<string>();
      for (const line of shellLines(block)) {
        if (kindOf(line.text) !== 'cli') continue;
        const { argv, stdoutTo } = splitWords(line.text, env);
        const args = argv.slice(argv[0] === 'npx' ? 2 : 1);
        const valueOf = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
        if (args[0] === 'resume' && !states.has(args[1] ?? '')) problems.push(`${where(line)}: resumes a file no earlier line of its block wrote with --state`);
        const state = valueOf('--state');
        if (state !== undefined) states.add(state);
        for (const file of [state, valueOf('--out'), stdoutTo]) {
          if (file === undefined) continue;
          const other = writers.get(file);
          if (other !== undefined && other !== block) problems.push(`${where(line)}: ${file} is also written by the block at README.md:${other.line}`);
          writers.set(file, block);
        }
      }
    }
    expect(problems).toEqual([]);
    expect([...writers.keys()].some((f) => f.endsWith('.state.json'))).toBe(true);
  });

  it('should name only npm commands and scripts that exist', () => {
    const npmLines = shBlocks.flatMap((b) => shellLines(b)).filter((l) => kindOf(l.text) === 'npm');
    expect(npmLines.length).toBeGreaterThan(1);
    expect(npmLines.flatMap((l) => (npmProblem(l.text) === undefined ? [] : [`${where(l)}: ${npmProblem(l.text)}`]))).toEqual([]);
  });

  it('should compile every ts block against the sources', () => {
    const snippets = FENCES.filter((f) => f.lang === 'ts').map((f) => ({ code: f.code, origin: `README.md:${f.line}`, firstLine: f.line }));
    expect(snippets.length).toBeGreaterThan(0);
    expect(typeCheckSnippets(ROOT, snippets)).toEqual([]);
  });

  it('should run every c9-batch and node line of the sh blocks with exit code 0 or 2', async () => {
    const failures: string[] = [];
    let ran = 0;
    // Blocks side by side (each has its own user); the lines of a block in order.
    await Promise.all(
      shBlocks.map(async (block) => {
        const env = envs.get(block) ?? {};
        for (const line of shellLines(block)) {
          const kind = kindOf(line.text);
          if (kind !== 'cli' && kind !== 'node') continue;
          let outcome: Outcome;
          try {
            const { argv, stdoutTo } = splitWords(line.text, env);
            // `npx c9-batch run …` → `run …`; `c9-batch run …` → `run …`; `node file …` → `file …`.
            const args = argv.slice(argv[0] === 'npx' ? 2 : 1);
            outcome = kind === 'cli' ? await runCli(args, env, scratch, stdoutTo) : await runProcess(process.execPath, args, env, scratch, 20_000);
            if (stdoutTo?.endsWith('.json')) JSON.parse(readFileSync(join(scratch, stdoutTo), 'utf8'));
          } catch (error) {
            outcome = { code: -1, stdout: '', stderr: error instanceof Error ? error.message : String(error) };
          }
          ran++;
          const allowed = kind === 'cli' ? [0, 2] : [0];
          if (!allowed.includes(outcome.code)) failures.push(`${where(line)}\n  exit ${outcome.code}\n  stdout: ${tail(outcome.stdout)}\n  stderr: ${tail(outcome.stderr)}`);
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(3);
  });

  it('should run the bash blocks (the curl flow) against the emulator', async () => {
    expect(bashBlocks.length).toBeGreaterThan(0);
    const curl = spawnSync('curl', ['--version'], { encoding: 'utf8' });
    if (curl.error !== undefined) {
      throw new Error(`curl is not installed: README.md:${bashBlocks[0].line} runs the vendor's flow with curl (install it, e.g. apt-get install -y curl)`);
    }
    const results = await Promise.all(
      bashBlocks.map(async (block) => {
        const file = join(scratch, `readme-line-${block.line}.sh`);
        writeFileSync(file, block.code);
        const outcome = await runProcess('bash', ['-e', '-o', 'pipefail', file], envs.get(block) ?? {}, scratch, 30_000);
        return outcome.code === 0 ? undefined : `README.md:${block.line}: exit ${outcome.code}\n  stdout: ${tail(outcome.stdout)}\n  stderr: ${tail(outcome.stderr)}`;
      }),
    );
    expect(results.filter((r) => r !== undefined)).toEqual([]);
  });
});

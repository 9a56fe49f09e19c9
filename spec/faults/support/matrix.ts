/**
 * The fault matrix's machinery: what a case is, how one is run with its leak checks, and
 * the table printed at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../src/cli/runCommand';
import { testIo } from '../../cli/support/io';
import {
  activeHandles,
  connectionsLeftOpen,
  handlesLeftOver,
  reportsSince,
  signalListenersLeft,
  trackTimers,
  waitUntil,
  type ConnectionCounter,
  type ProcessReports,
} from './leaks';
import { startSilentServer, type SilentServer } from './rawServers';
import { describeError, KEY, startRig, type Rig, type RigOptions } from './rig';

/** The rows of the matrix are grouped by the kind of fault. */
export type CaseKind = 'server errors' | 'broken bodies' | 'connections' | 'throttling' | 'batch states' | 'results' | 'cancellation' | 'cli';

/** What a case can ask for; everything it starts is checked for leaks and closed after it. */
export interface CaseContext {
  /** The emulator, a counting proxy in front, and a library client (see {@link startRig}). */
  rig(options?: RigOptions): Promise<Rig>;
  /** A server that accepts connections and never answers. */
  silentServer(): Promise<SilentServer>;
  /**
   * The case cancelled its run: after it, no request may reach the proxy during a short
   * window (a timer that outlived the cancellation would poll or retry again).
   */
  cancelled(): void;
  /** Writes a file in the suite's temporary folder and returns its path. */
  file(name: string, content: string): string;
  /**
   * Runs the CLI in-process with the known key and a signal (the given one, else a fresh one);
   * the key must never appear in what it prints, and no listener may be left on the signal.
   */
  cli(argv: readonly string[], options?: { readonly signal?: AbortSignal; readonly env?: Record<string, string> }): Promise<CliResult>;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One row of the matrix. `run` returns what happened, written the way `expected` is. */
export interface FaultCase {
  readonly kind: CaseKind;
  readonly name: string;
  readonly expected: string;
  run(ctx: CaseContext): Promise<string>;
}

/** A case after it ran. */
export interface CaseRecord {
  readonly kind: CaseKind;
  readonly name: string;
  readonly expected: string;
  readonly got: string;
  /** Leak findings; empty when clean. */
  readonly leaks: readonly string[];
  readonly ms: number;
  readonly pass: boolean;
}

/**
 * How long after a cancellation the proxy must see no request: several poll intervals of the
 * cases, so a poll loop that outlived the cancellation shows here. A longer wait left behind
 * (a retry or throttle timer) shows as a pending timer instead.
 */
const QUIET_WINDOW_MS = 120;

/**
 * Runs one case: the case itself, then every leak check, then closes what it started.
 *
 * @param c the case
 * @param reports the suite's collector of unhandled rejections and warnings
 * @param dir a temporary folder for files the case writes
 */
export async function runCase(c: FaultCase, reports: ProcessReports, dir: string): Promise<CaseRecord> {
  const baseline = activeHandles();
  const timers = trackTimers();
  const from = { rejections: reports.unhandledRejections.length, warnings: reports.warnings.length };
  const started = performance.now();
  const rigs: Rig[] = [];
  const silent: SilentServer[] = [];
  const signals: AbortSignal[] = [];
  const leaks: string[] = [];
  let quiet = false;

  const ctx: CaseContext = {
    rig: async (options) => {
      const rig = await startRig(options);
      rigs.push(rig);
      return rig;
    },
    silentServer: async () => {
      const server = await startSilentServer();
      silent.push(server);
      return server;
    },
    cancelled: () => {
      quiet = true;
    },
    file: (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    cli: async (argv, options = {}) => {
      // Every run gets a signal, as a process's Ctrl-C handler gives one: whether it ends by
      // itself, by an error or by an abort, it must leave no listener on it.
      const signal = options.signal ?? new AbortController().signal;
      if (!signals.includes(signal)) signals.push(signal);
      const io = testIo({ C9_API_SECRET: KEY, ...options.env }, signal);
      const code = await runCommand([...argv], io);
      const stdout = io.stdout.text();
      const stderr = io.stderr.text();
      if (stdout.includes(KEY) || stderr.includes(KEY)) leaks.push('the API key was printed');
      return { code, stdout, stderr };
    },
  };

  let got: string;
  try {
    got = await c.run(ctx);
  } catch (error) {
    got = `case threw ${describeError(error)}`;
  }

  try {
    if (quiet) {
      // Requests written just before the cancellation may still be arriving: let them land first.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const before = rigs.map((r) => r.proxy.log.length);
      const silentBefore = silent.map((s) => s.totalConnections);
      await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
      rigs.forEach((r, i) => {
        const more = r.proxy.log.length - before[i];
        if (more > 0) leaks.push(`${more} request(s) after the cancellation`);
      });
      silent.forEach((s, i) => {
        const more = s.totalConnections - silentBefore[i];
        if (more > 0) leaks.push(`${more} connection(s) after the cancellation`);
      });
    }
    const counters: ConnectionCounter[] = [...rigs.map((r) => r.proxy), ...silent];
    for (const counter of counters) leaks.push(...(await connectionsLeftOpen(counter)));
    for (const signal of signals) leaks.push(...signalListenersLeft(signal));
  } finally {
    await Promise.all([...rigs.map((r) => r.close()), ...silent.map((s) => s.close())]);
  }
  leaks.push(...(await handlesLeftOver(baseline)));
  leaks.push(...timers.stop());
  // An unhandled rejection is reported after the microtask queue drains: give it a turn.
  await waitUntil(() => false, 5);
  leaks.push(...reportsSince(reports, from));

  const ms = Math.round(performance.now() - started);
  return { kind: c.kind, name: c.name, expected: c.expected, got, leaks, ms, pass: got === c.expected && leaks.length === 0 };
}

/**
 * The matrix as a text table (case, expected, got, leaks, pass/fail), one section per kind,
 * with counts at the end.
 *
 * @param records the cases in the order they ran
 */
export function formatTable(records: readonly CaseRecord[]): string {
  const header = ['#', 'case', 'expected', 'got', 'leaks', 'ms', 'result'];
  const cells = records.map((r, i) => [
    String(i + 1),
    r.name,
    r.expected,
    r.got,
    r.leaks.length === 0 ? 'none' : r.leaks.join('; '),
    String(r.ms),
    r.pass ? 'pass' : 'FAIL',
  ]);
  const widths = header.map((h, col) => Math.max(h.length, ...cells.map((row) => row[col].length)));
  const line = (row: readonly string[]): string => row.map((cell, col) => cell.padEnd(widths[col])).join(' | ').trimEnd();
  const out = ['', 'Fault matrix (leaks: timers, sockets, requests, AbortSignal listeners, unhandled rejections or warnings left after the case)', line(header)];
  records.forEach((r, i) => {
    if (i === 0 || records[i - 1].kind !== r.kind) out.push(`-- ${r.kind} `.padEnd(widths.reduce((a, w) => a + w + 3, -3), '-'));
    out.push(line(cells[i]));
  });
  const passed = records.filter((r) => r.pass).length;
  const totalMs = records.reduce((sum, r) => sum + r.ms, 0);
  out.push('', `cases: ${records.length}, passed: ${passed}, failed: ${records.length - passed} (${(totalMs / 1000).toFixed(1)} s)`, '');
  return out.join('\n');
}

/** A temporary folder for the suite. */
export function tempDir(): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'c9-faults-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Leak checks for the fault matrix, with real time and real sockets: timers and sockets the
 * process still holds, connections the server still sees, listeners left on a caller's
 * AbortSignal, unhandled rejections and MaxListenersExceededWarning.
 */
import { createHook } from 'node:async_hooks';
import { getEventListeners } from 'node:events';
import * as vm from 'node:vm';

// Jest gives each spec file its own `process` object whose events are not the real ones:
// unhandled rejections and warnings are emitted on the process of the main context.
const realProcess = vm.runInThisContext('process') as NodeJS.Process;

/**
 * Resource kinds that a leaked request or socket shows up as (files and pipes are jest's own).
 * Timers are not counted here: jest's own come and go and would hide one of ours in a count;
 * {@link trackTimers} follows each timer a case creates instead.
 */
const WATCHED = /^(TCP|GetAddrInfo|WriteWrap|ShutdownWrap|HTTP)/;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `done()` is true, for at most `ms`; tells whether it became true. */
export async function waitUntil(done: () => boolean, ms: number, stepMs = 5): Promise<boolean> {
  const until = performance.now() + ms;
  while (!done()) {
    if (performance.now() > until) return false;
    await sleep(stepMs);
  }
  return true;
}

/** What Node's Timeout objects expose of their state (stable since Node 10, not typed). */
interface TimeoutInternals {
  readonly _destroyed?: boolean;
  readonly _idleTimeout?: number;
  readonly _repeat?: number | null;
  hasRef(): boolean;
}

/** Timers made by jest's own reporters (they run in this process when jest runs one file in band). */
const JEST_FRAME = /node_modules[\\/](@jest[\\/]|jest-)/;

/** Where a timer was created: the first frame outside Node and this file. */
function originOf(stack: string): string {
  const frame = stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .find((l) => !l.includes('node:') && !l.includes('support/leaks.ts'));
  return (frame ?? '?').replace(/^at /, '').replace(`${process.cwd()}/`, '');
}

/**
 * Follows every timer created from now on (setTimeout/setInterval, RxJS schedulers
 * included). `stop()` reports those still pending that keep the process alive, with where
 * each was made. Unref'd timers (the emulator's, Node's socket timeouts) are not leaks, and
 * jest's own reporter timers are not the case's.
 */
export function trackTimers(): { stop(): string[] } {
  const created = new Map<TimeoutInternals, string>();
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type !== 'Timeout') return;
      const stack = new Error('timer created').stack ?? '';
      if (!JEST_FRAME.test(originOf(stack))) created.set(resource as TimeoutInternals, stack);
    },
  });
  hook.enable();
  return {
    stop(): string[] {
      hook.disable();
      const pending = [...created].filter(([t]) => t._destroyed !== true && t.hasRef());
      created.clear();
      if (pending.length === 0) return [];
      const what = pending.map(([t, stack]) => `${t._repeat ? 'interval' : 'timeout'} ${t._idleTimeout ?? '?'} ms from ${originOf(stack)}`);
      return [`${pending.length} timer(s) still pending: ${what.join(', ')}`];
    },
  };
}

/**
 * The sockets, servers and pending socket requests alive now, by identity. Identity (not a
 * count by kind) matters: sockets left by an earlier spec file in the same worker may close
 * during a case, and a count would let them cancel out the case's own leak.
 */
export type HandleSnapshot = ReadonlySet<object>;

interface NodeProcessInternals {
  _getActiveHandles(): unknown[];
  _getActiveRequests(): unknown[];
}

function liveHandles(): object[] {
  const internals = process as unknown as NodeProcessInternals;
  return [...internals._getActiveHandles(), ...internals._getActiveRequests()].filter(
    (h): h is object => typeof h === 'object' && h !== null && WATCHED.test(kindOf(h)),
  );
}

function kindOf(handle: object): string {
  const name = handle.constructor?.name ?? 'unknown';
  // Node's handle wrappers read best under their libuv names, as getActiveResourcesInfo() shows them.
  if (name === 'Socket') return 'TCPSocketWrap';
  if (name === 'Server') return 'TCPServerWrap';
  return name;
}

/** A snapshot of the watched handles, to compare with after a case. */
export function activeHandles(): HandleSnapshot {
  return new Set(liveHandles());
}

function excess(baseline: HandleSnapshot): string[] {
  const counts = new Map<string, number>();
  for (const handle of liveHandles()) {
    if (baseline.has(handle)) continue;
    const kind = kindOf(handle);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, n]) => `${n} ${kind}`);
}

/**
 * Waits (at most `ms`) until no more sockets and requests are active than at `baseline`;
 * returns what is still left over (empty when clean).
 *
 * @param baseline {@link activeHandles} taken before the case started its servers
 */
export async function handlesLeftOver(baseline: HandleSnapshot, ms = 1000): Promise<string[]> {
  await waitUntil(() => excess(baseline).length === 0, ms);
  const left = excess(baseline);
  return left.length === 0 ? [] : [`active handles left: ${left.join(', ')}`];
}

/** Listeners still registered for 'abort' on a caller's signal (empty when clean). */
export function signalListenersLeft(signal: AbortSignal): string[] {
  const n = getEventListeners(signal, 'abort').length;
  return n === 0 ? [] : [`${n} abort listener${n === 1 ? '' : 's'} left on the caller's signal`];
}

/** What the process reported while a collector was on. */
export interface ProcessReports {
  readonly unhandledRejections: unknown[];
  readonly warnings: Error[];
}

/**
 * Starts collecting unhandled rejections and MaxListenersExceededWarnings (and any other
 * process warning) on the real process. Call the returned function to stop.
 */
export function collectProcessReports(): { readonly reports: ProcessReports; stop(): void } {
  const reports: ProcessReports = { unhandledRejections: [], warnings: [] };
  const onRejection = (reason: unknown): void => {
    reports.unhandledRejections.push(reason);
  };
  const onWarning = (warning: Error): void => {
    reports.warnings.push(warning);
  };
  realProcess.on('unhandledRejection', onRejection);
  realProcess.on('warning', onWarning);
  return {
    reports,
    stop: () => {
      realProcess.off('unhandledRejection', onRejection);
      realProcess.off('warning', onWarning);
    },
  };
}

/** The findings of a collector since `from` (indexes taken when a case started). */
export function reportsSince(reports: ProcessReports, from: { rejections: number; warnings: number }): string[] {
  const out: string[] = [];
  for (const reason of reports.unhandledRejections.slice(from.rejections)) {
    out.push(`unhandled rejection: ${reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)}`.slice(0, 160));
  }
  for (const warning of reports.warnings.slice(from.warnings)) out.push(`warning ${warning.name}: ${warning.message}`.slice(0, 160));
  return out;
}

/** A server whose connections can be counted. */
export interface ConnectionCounter {
  readonly openConnections: number;
  readonly activeRequests?: number;
  closeIdle?(): void;
}

/**
 * Checks that the client left nothing open at the server: no request still in flight
 * (waits at most `ms` for aborts to arrive), then, once the idle keep-alive sockets are
 * closed the way a server closes them, no connection at all.
 *
 * Idle keep-alive sockets are the HTTP agent's pool, not a leak: they are unref'd on the
 * client's side (they show up in no active-handle count) and go when the server closes them.
 */
export async function connectionsLeftOpen(server: ConnectionCounter, ms = 1000): Promise<string[]> {
  const out: string[] = [];
  if (server.activeRequests !== undefined) {
    await waitUntil(() => server.activeRequests === 0, ms);
    if (server.activeRequests > 0) out.push(`${server.activeRequests} request(s) still in flight at the server`);
  }
  server.closeIdle?.();
  await waitUntil(() => server.openConnections === 0, ms);
  if (server.openConnections > 0) out.push(`${server.openConnections} connection(s) still open at the server`);
  return out;
}

/**
 * Keeps two batches that share an account from being in flight at once.
 *
 * `GET /results/accounts` holds only the latest row per account: if two batches holding
 * the same account ran together, the later would overwrite the rows of the earlier before
 * (or while) it reads them.
 */
import { defer, Observable, type Subscription } from 'rxjs';
import { C9Error } from '../http/errors';

/** What to do with a batch that shares an account with one in flight. */
export type OverlapPolicy = 'wait' | 'fail';

/** Options of {@link createOverlapGuard}. */
export interface OverlapGuardConfig {
  /** `wait` (default): start once every earlier batch sharing an account is done. `fail`: error at once. */
  readonly onOverlap?: OverlapPolicy;
}

/** A unit of work and the accounts it touches. */
export interface GuardedEntry {
  /** A name for messages and `waiting` reports (a chunk number, a batch id). */
  readonly label: string;
  readonly accountCodes: readonly string[];
}

/** Runs work under the guard; see {@link createOverlapGuard}. */
export interface OverlapGuard {
  /**
   * Subscribes to `work()` once no earlier entry sharing an account is running or waiting;
   * until then emits `onWait(blockedBy)` once (when given), `blockedBy` naming the entries
   * right ahead of it on its accounts. The accounts are held until the work completes,
   * errors or is unsubscribed.
   */
  run<T>(entry: GuardedEntry, work: () => Observable<T>, onWait?: (blockedBy: readonly string[]) => T): Observable<T>;
  /** Labels of the entries whose work is running. */
  readonly running: readonly string[];
  /** Labels of the entries waiting for an account. */
  readonly waiting: readonly string[];
}

/** A batch was refused because it shares accounts with one in flight (`onOverlap: 'fail'`). */
export class AccountOverlapError extends C9Error {
  override readonly code: string = 'ACCOUNT_OVERLAP';
  /** The shared accounts (all of them). */
  readonly accountCodes: readonly string[];
  /** Labels of the entries holding them. */
  readonly blockedBy: readonly string[];
  constructor(label: string, accountCodes: readonly string[], blockedBy: readonly string[]) {
    const shown = accountCodes.slice(0, 5).join(', ') + (accountCodes.length > 5 ? `, … (${accountCodes.length})` : '');
    super(`${label} shares accounts with ${blockedBy.join(', ')} still in flight: ${shown}`);
    this.accountCodes = accountCodes;
    this.blockedBy = blockedBy;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), accountCodes: this.accountCodes, blockedBy: this.blockedBy };
  }
}

interface Entry {
  /** Subscription order: entries freed together start in the order they came. */
  readonly seq: number;
  readonly label: string;
  readonly accounts: ReadonlySet<string>;
  started: boolean;
  ready: boolean;
  released: boolean;
  start: () => void;
}

/**
 * Makes an overlap guard. Entries sharing an account run one after the other, in the order
 * they were subscribed; entries with no account in common run side by side. Each account
 * has a queue of the entries that want it, and an entry starts when it heads the queue of
 * every one of its accounts, so there is no deadlock and no overtaking among entries that
 * conflict. With `onOverlap: 'fail'` an entry that would have to wait errors at once with
 * {@link AccountOverlapError} instead.
 *
 * ```
 * a = {X, Y}, b = {Y}, c = {Z}, all subscribed at 0
 * a:  ^-------|
 * b:  w       ^------|          w = onWait(['a'])
 * c:  ^---|                     (shares nothing: runs at once)
 * ```
 *
 * Example:
 * ```ts
 * const guard = createOverlapGuard();
 * guard.run({ label: 'chunk 2', accountCodes }, () => runBatch(client, payload), (blockedBy) => ({ type: 'waiting', blockedBy }))
 * ```
 *
 * @param config `onOverlap`: `wait` (default) or `fail`
 * @throws TypeError when `onOverlap` is neither
 */
export function createOverlapGuard(config: OverlapGuardConfig = {}): OverlapGuard {
  const { onOverlap = 'wait' } = config;
  if (onOverlap !== 'wait' && onOverlap !== 'fail') {
    throw new TypeError(`createOverlapGuard: onOverlap must be 'wait' or 'fail'; got ${JSON.stringify(onOverlap)}`);
  }
  const queues = new Map<string, Entry[]>();
  const entries = new Set<Entry>();
  // Entries that may start, started from one loop so a chain of releases never nests calls.
  const ready: Entry[] = [];
  let draining = false;
  let seq = 0;

  const headsAll = (entry: Entry): boolean => {
    for (const account of entry.accounts) if (queues.get(account)?.[0] !== entry) return false;
    return true;
  };

  const drain = (): void => {
    if (draining) return;
    draining = true;
    try {
      for (let next = ready.shift(); next !== undefined; next = ready.shift()) {
        next.ready = false;
        if (!next.released && !next.started) next.start();
      }
    } finally {
      draining = false;
    }
  };

  const release = (entry: Entry): void => {
    if (entry.released) return;
    entry.released = true;
    entries.delete(entry);
    const freed: Entry[] = [];
    for (const account of entry.accounts) {
      const queue = queues.get(account);
      if (queue === undefined) continue;
      const at = queue.indexOf(entry);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0) {
        queues.delete(account);
        continue;
      }
      const head = queue[0];
      if (!head.started && !head.ready && headsAll(head)) {
        head.ready = true;
        freed.push(head);
      }
    }
    ready.push(...freed.sort((a, b) => a.seq - b.seq));
    drain();
  };

  /** The entries right ahead of a newcomer on each of its accounts (the last in each queue), in the order they came. */
  const blockersOf = (accounts: ReadonlySet<string>): Entry[] => {
    const found = new Set<Entry>();
    for (const account of accounts) {
      const queue = queues.get(account);
      if (queue !== undefined && queue.length > 0) found.add(queue[queue.length - 1]);
    }
    return [...found].sort((a, b) => a.seq - b.seq);
  };

  return {
    run<T>(entry: GuardedEntry, work: () => Observable<T>, onWait?: (blockedBy: readonly string[]) => T): Observable<T> {
      const { label, accountCodes } = entry;
      if (typeof label !== 'string' || !Array.isArray(accountCodes)) throw new TypeError('run: entry must have a label and accountCodes');
      return new Observable<T>((subscriber) => {
        const accounts = new Set(accountCodes);
        const blockers = blockersOf(accounts);
        if (blockers.length > 0 && onOverlap === 'fail') {
          const shared = [...accounts].filter((a) => blockers.some((b) => b.accounts.has(a)));
          subscriber.error(new AccountOverlapError(label, shared, blockers.map((b) => b.label)));
          return undefined;
        }
        let workSubscription: Subscription | undefined;
        const self: Entry = {
          seq: seq++,
          label,
          accounts,
          started: false,
          ready: false,
          released: false,
          start: () => {
            self.started = true;
            workSubscription = defer(work).subscribe({
              next: (value) => subscriber.next(value),
              error: (error: unknown) => {
                release(self);
                subscriber.error(error);
              },
              complete: () => {
                release(self);
                subscriber.complete();
              },
            });
          },
        };
        entries.add(self);
        for (const account of accounts) {
          const queue = queues.get(account);
          if (queue) queue.push(self);
          else queues.set(account, [self]);
        }
        if (blockers.length === 0) {
          self.ready = true;
          ready.push(self);
          drain();
        } else if (onWait !== undefined) {
          subscriber.next(onWait(blockers.map((b) => b.label)));
        }
        return () => {
          // Cancel this work before the next entry for its accounts may start.
          workSubscription?.unsubscribe();
          release(self);
        };
      });
    },
    get running(): readonly string[] {
      return [...entries].filter((e) => e.started).map((e) => e.label);
    },
    get waiting(): readonly string[] {
      return [...entries].filter((e) => !e.started).map((e) => e.label);
    },
  };
}

/**
 * A user's live results: the latest rows of each account, whichever calculation made them.
 */
import type { AccountRow } from './rows';

/** The rows of one account: its master row and the sub-account rows that go with it. */
export interface StoredAccount {
  readonly master: AccountRow;
  readonly subs: readonly AccountRow[];
}

/** What an account held before a batch overwrote it (undefined: it had no row). */
export type UndoLog = Map<string, StoredAccount | undefined>;

/**
 * One user's live store. A Map keyed by account code, so any code (`__proto__` included) is
 * just a key. Writing an account replaces its master row and all its old sub-account rows.
 */
export class ResultStore {
  private readonly accounts = new Map<string, StoredAccount>();

  /**
   * Replaces the rows of an account, noting the previous rows in `undo` the first time.
   *
   * @param accountCode the master account code
   * @param entry the new rows
   * @param undo where to remember what was there before this batch
   */
  put(accountCode: string, entry: StoredAccount, undo?: UndoLog): void {
    if (undo && !undo.has(accountCode)) undo.set(accountCode, this.accounts.get(accountCode));
    this.accounts.set(accountCode, entry);
  }

  /** Every row: each master followed by its sub-accounts. */
  rows(): AccountRow[] {
    const out: AccountRow[] = [];
    for (const a of this.accounts.values()) out.push(a.master, ...a.subs);
    return out;
  }

  /** The rows as they were before the writes recorded in `undo`. */
  rowsBefore(undo: UndoLog): AccountRow[] {
    const out: AccountRow[] = [];
    for (const [code, current] of this.accounts) {
      const a = undo.has(code) ? undo.get(code) : current;
      if (a) out.push(a.master, ...a.subs);
    }
    return out;
  }
}

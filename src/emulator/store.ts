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
   * Each account's rows as JSON text, made the first time they are read. Stored rows are
   * never changed (an account is rewritten by replacing its entry), so the text stays right;
   * a store of 100,000 rows is then answered by joining texts, as a real server reads stored
   * results, instead of serializing every row again on every `GET /results/accounts`.
   */
  private readonly texts = new WeakMap<StoredAccount, string>();

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

  /**
   * Every row as the JSON array `GET /results/accounts` answers with (each master followed by
   * its sub-accounts), or the rows as they were before the writes recorded in `undo`; joined
   * from the texts kept per account.
   *
   * Example: `store.json()` → `'[{"request_id":"…","account_code":"ACC1",…}]'`
   *
   * @param undo when given, the rows as they were before these writes
   */
  json(undo?: UndoLog): string {
    const parts: string[] = [];
    for (const [code, current] of this.accounts) {
      const a = undo?.has(code) ? undo.get(code) : current;
      if (a) parts.push(this.textOf(a));
    }
    return `[${parts.join(',')}]`;
  }

  private textOf(account: StoredAccount): string {
    let text = this.texts.get(account);
    if (text === undefined) {
      text = [account.master, ...account.subs].map((row) => JSON.stringify(row)).join(',');
      this.texts.set(account, text);
    }
    return text;
  }
}

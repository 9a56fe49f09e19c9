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
   * Each account's rows as UTF-8 JSON bytes, made the first time they are read. Stored rows
   * are never changed (an account is rewritten by replacing its entry), so the bytes stay
   * right; a store of 100,000 rows is then answered by joining bytes, as a real server reads
   * stored results, instead of serializing every row again on every `GET /results/accounts`.
   * Bytes rather than text: a joined string had to be measured and encoded again for every
   * answer, most of the server's time on a large store.
   */
  private readonly texts = new WeakMap<StoredAccount, Buffer>();
  /** The whole answer as last joined; dropped by the next write. */
  private whole: Buffer | undefined;

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
    this.whole = undefined;
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
    return this.body(undo).toString('utf8');
  }

  /**
   * {@link json} as UTF-8 bytes, what the server writes. The answer without `undo` is kept
   * until the next write: clients that poll the store between batches get the same bytes.
   * The caller must not change them.
   *
   * Example: `res.end(store.body())`
   *
   * @param undo when given, the rows as they were before these writes
   */
  body(undo?: UndoLog): Buffer {
    if (undo === undefined && this.whole !== undefined) return this.whole;
    const parts: Buffer[] = [OPEN];
    let length = 2;
    for (const [code, current] of this.accounts) {
      const a = undo?.has(code) ? undo.get(code) : current;
      if (!a) continue;
      if (parts.length > 1) {
        parts.push(COMMA);
        length++;
      }
      const bytes = this.bytesOf(a);
      parts.push(bytes);
      length += bytes.length;
    }
    parts.push(CLOSE);
    const body = Buffer.concat(parts, length);
    if (undo === undefined) this.whole = body;
    return body;
  }

  private bytesOf(account: StoredAccount): Buffer {
    let bytes = this.texts.get(account);
    if (bytes === undefined) {
      bytes = Buffer.from([account.master, ...account.subs].map((row) => JSON.stringify(row)).join(','), 'utf8');
      this.texts.set(account, bytes);
    }
    return bytes;
  }
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

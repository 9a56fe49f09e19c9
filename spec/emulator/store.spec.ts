import type { AccountRow } from '../../src/emulator/rows';
import { ResultStore, type StoredAccount, type UndoLog } from '../../src/emulator/store';

/** A row with the fields the spec looks at; the rest of a real row does not matter to the store. */
function row(accountCode: string, requestId: string, extra: Partial<Record<keyof AccountRow, unknown>> = {}): AccountRow {
  return { account_code: accountCode, request_id: requestId, portfolio_id: `${accountCode}-${requestId}`, margin_by_ccp: [{ clearing_org: 'X', initial_margin: 1.5 }], ...extra } as unknown as AccountRow;
}

function entry(accountCode: string, requestId: string, subs: string[] = []): StoredAccount {
  const master = row(accountCode, requestId);
  return { master, subs: subs.map((s) => row(s, requestId, { parent_portfolio_id: master.portfolio_id })) };
}

describe('ResultStore', () => {
  it('should answer [] when empty', () => {
    expect(new ResultStore().json()).toBe('[]');
  });

  it('should render every master followed by its sub-accounts, exactly as JSON.stringify of the rows', () => {
    const store = new ResultStore();
    const a = entry('A', 'r1', ['A-1', 'A-2']);
    const b = entry('B "quoted" é', 'r1');
    store.put('A', a);
    store.put('B "quoted" é', b);
    expect(store.json()).toBe(JSON.stringify([a.master, ...a.subs, b.master]));
  });

  it('should render an account replaced after it was read with its new rows, not the text read before', () => {
    const store = new ResultStore();
    store.put('A', entry('A', 'r1', ['A-1']));
    store.put('B', entry('B', 'r1'));
    expect(JSON.parse(store.json())).toHaveLength(3);
    const replaced = entry('A', 'r2');
    store.put('A', replaced);
    expect(store.json()).toBe(JSON.stringify([replaced.master, entry('B', 'r1').master]));
  });

  it('should render the rows as they were before the writes recorded in an undo log', () => {
    const store = new ResultStore();
    const before = entry('A', 'r1');
    store.put('A', before);
    const undo: UndoLog = new Map();
    const after = entry('A', 'r2', ['A-1']);
    const added = entry('C', 'r2');
    store.put('A', after, undo);
    store.put('C', added, undo);
    expect(store.json(undo)).toBe(JSON.stringify([before.master]));
    expect(store.json()).toBe(JSON.stringify([after.master, ...after.subs, added.master]));
  });

  it('should give as bytes the UTF-8 of the text, and keep them until the next write', () => {
    const store = new ResultStore();
    const a = entry('A "é" \u2028', 'r1', ['A-1']);
    store.put('A', a);
    const first = store.body();
    expect(first.equals(Buffer.from(JSON.stringify([a.master, ...a.subs]), 'utf8'))).toBe(true);
    expect(store.body()).toBe(first);
    const b = entry('B', 'r2');
    store.put('B', b);
    expect(store.body().toString('utf8')).toBe(JSON.stringify([a.master, ...a.subs, b.master]));
  });

  it('should not keep an answer made from an undo log as the current one', () => {
    const store = new ResultStore();
    const before = entry('A', 'r1');
    store.put('A', before);
    const undo: UndoLog = new Map();
    const after = entry('A', 'r2');
    store.put('A', after, undo);
    expect(store.body(undo).toString('utf8')).toBe(JSON.stringify([before.master]));
    expect(store.body().toString('utf8')).toBe(JSON.stringify([after.master]));
    expect(store.body(undo).toString('utf8')).toBe(JSON.stringify([before.master]));
  });
});

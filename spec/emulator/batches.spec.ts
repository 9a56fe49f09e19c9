import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { call, etd, waitForBatch, type Loose } from './support';

async function submit(emu: EmulatorHandle, portfolio: Loose[], mode?: string): Promise<string> {
  const r = await call(emu, 'POST', '/portfolios/batch', { body: { portfolio }, headers: mode ? { 'x-processing-mode': mode } : {} });
  expect(r.status).toBe(202);
  return r.body.batch_id;
}

async function status(emu: EmulatorHandle, id: string): Promise<Loose> {
  return (await call(emu, 'GET', `/portfolios/batch/${id}`)).body;
}

describe('BatchEngine', () => {
  let emu: EmulatorHandle;

  afterEach(() => emu.close());

  describe('with one worker', () => {
    beforeEach(async () => {
      emu = await startEmulator({ apiKeys: ['sk-q'], workers: 1, msPerAccount: 1 });
    });

    it('should run fifo batches in submission order', async () => {
      emu.faults.holdBatch('*', 'queued');
      const ids = [await submit(emu, [etd('A')]), await submit(emu, [etd('B')], 'fifo'), await submit(emu, [etd('C')])];
      expect(await Promise.all(ids.map(async (id) => (await status(emu, id)).queue_position))).toEqual([0, 1, 2]);
      emu.faults.releaseBatch('*');
      for (const id of ids) expect((await waitForBatch(emu, id)).status).toBe('completed');
      expect(emu.stats.startedBatches).toEqual(ids);
    });

    it('should put priority batches ahead of queued fifo ones, first come first served among them', async () => {
      emu.faults.holdBatch('*', 'queued');
      const f1 = await submit(emu, [etd('A')]);
      const f2 = await submit(emu, [etd('B')]);
      const p1 = await submit(emu, [etd('C')], 'priority');
      const p2 = await submit(emu, [etd('D')], 'priority');
      const positions = await Promise.all([p1, p2, f1, f2].map(async (id) => (await status(emu, id)).queue_position));
      expect(positions).toEqual([0, 1, 2, 3]);
      emu.faults.releaseBatch('*');
      await waitForBatch(emu, f2);
      expect(emu.stats.startedBatches).toEqual([p1, p2, f1, f2]);
    });

    it('should fail every queued batch on replace_all, leave the processing one alone, and keep the replaced ones visible', async () => {
      emu.faults.holdBatch('*', 'processing');
      const running = await submit(emu, [etd('A')]);
      await waitForBatch(emu, running, ['processing']);
      const q1 = await submit(emu, [etd('B')]);
      const q2 = await submit(emu, [etd('C')], 'priority');
      const replacing = await submit(emu, [etd('D')], 'replace_all');
      for (const id of [q1, q2]) {
        const s = await status(emu, id);
        expect(s).toMatchObject({ status: 'failed', error: 'replaced by a later replace_all batch', completed_pct: 0 });
        expect(s.completed_at).not.toBeNull();
        expect(s.queue_position).toBeUndefined();
      }
      expect(await status(emu, running)).toMatchObject({ status: 'processing' });
      expect(await status(emu, replacing)).toMatchObject({ status: 'queued', queue_position: 0 });
      emu.faults.releaseBatch('*');
      expect((await waitForBatch(emu, replacing)).status).toBe('completed');
      expect((await status(emu, running)).status).toBe('completed');
      expect(emu.stats.startedBatches).toEqual([running, replacing]);
      const rows = (await call(emu, 'GET', '/results/accounts')).body;
      expect(rows.map((r: Loose) => r.account_code)).toEqual(['A', 'D']);
    });
  });

  it('should process as many batches of a user at once as it has workers', async () => {
    emu = await startEmulator({ apiKeys: ['sk-w'], workers: 2, msPerAccount: 1 });
    emu.faults.holdBatch('*', 'processing');
    const ids = [await submit(emu, [etd('A')]), await submit(emu, [etd('B')]), await submit(emu, [etd('C')])];
    const states = await Promise.all(ids.map((id) => status(emu, id)));
    expect(states.map((s) => [s.status, s.queue_position])).toEqual([['processing', undefined], ['processing', undefined], ['queued', 0]]);
    emu.faults.releaseBatch('*');
    await waitForBatch(emu, ids[2]);
  });

  it('should raise completed_pct in steps of whole chunks', async () => {
    // 10 accounts, 2 per step: progress can only read 0, 20, 40, 60, 80 or 100, never falls, and
    // (at 10 ms per account, 20 ms per step) is seen between 0 and 100 at least once.
    emu = await startEmulator({ apiKeys: ['sk-p'], msPerAccount: 10, chunkAccounts: 2 });
    const id = await submit(emu, Array.from({ length: 10 }, (_, i) => etd(`acct-${i}`)));
    const seen: number[] = [];
    for (;;) {
      const s = await status(emu, id);
      seen.push(s.completed_pct);
      if (s.status === 'completed') break;
      await new Promise((done) => setTimeout(done, 3));
    }
    expect(seen.every((p) => [0, 20, 40, 60, 80, 100].includes(p))).toBe(true);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.some((p) => p > 0 && p < 100)).toBe(true);
    expect(seen[seen.length - 1]).toBe(100);
  });

  it('should report completed_with_errors, keep the stale row of an account that failed, and fail a batch that margins nothing', async () => {
    emu = await startEmulator({ apiKeys: ['sk-e'], msPerAccount: 1 });
    const first = await submit(emu, [etd('A'), etd('B')]);
    expect((await waitForBatch(emu, first)).status).toBe('completed');

    // A now holds only an unknown contract: it cannot be margined and keeps its first row.
    // B is margined again, with an exception for its unknown position.
    const second = await submit(emu, [etd('A', { contract_code: 'ZZZ' }), etd('B', { net_position: 2 }), etd('B', { exchange_code: 'NOPE' })]);
    expect((await waitForBatch(emu, second)).status).toBe('completed_with_errors');
    const rows = (await call(emu, 'GET', '/results/accounts')).body;
    expect(rows.map((r: Loose) => [r.account_code, r.request_id, r.initial_margin, r.exceptions.length])).toEqual([
      ['A', first, 6000, 0],
      ['B', second, 12000, 1],
    ]);

    const third = await submit(emu, [etd('C', { contract_code: 'ZZZ' })]);
    expect(await waitForBatch(emu, third)).toMatchObject({ status: 'failed', error: 'no account could be margined' });
  });
});

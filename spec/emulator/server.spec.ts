import { request } from 'node:http';
import { firstValueFrom } from 'rxjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, fetchTransport, nodeHttpTransport, openPortfolio } from '../../src';
import { describeEmulator, startEmulator, type EmulatorHandle } from '../../src/emulator';
import { call, etd, samplePortfolio, waitForBatch, type Loose } from './support';

const KEY_A = 'sk-test-alice';
const KEY_B = 'sk-test-bob';

describe('startEmulator', () => {
  let emu: EmulatorHandle;
  let clock: number;

  beforeEach(async () => {
    clock = Date.UTC(2026, 0, 5, 9, 0, 0);
    emu = await startEmulator({ apiKeys: [KEY_A, KEY_B], msPerAccount: 1, now: () => clock, maxPayloadBytes: 256 * 1024 });
  });

  afterEach(() => emu.close());

  it('should listen on an ephemeral 127.0.0.1 port', () => {
    expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    expect(emu.port).toBeGreaterThan(0);
    expect(emu.apiKeys).toEqual([KEY_A, KEY_B]);
  });

  it('should keep idle connections open a minute (Keep-Alive: timeout=65), leaving their closing to clients', async () => {
    const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
      const req = request(`${emu.url}/healthcheck/analytics-engine`, { headers: { authorization: `Bearer ${KEY_A}`, connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.headers['keep-alive'])));
      });
      req.on('error', reject);
      req.end();
    });
    expect(keepAlive).toBe('timeout=65');
  });

  it('should answer the healthcheck with engine entries', async () => {
    const r = await call(emu, 'GET', '/healthcheck/analytics-engine');
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThan(0);
    expect(r.body[0]).toMatchObject({ service: 'span', status: 'OK', healthcheck: clock });
  });

  it.each([
    ['no Authorization header', null, undefined],
    ['an unknown key', 'sk-not-a-key', undefined],
    ['another scheme', null, { authorization: `Basic ${KEY_A}` }],
  ])('should answer 401 to %s, without echoing the key', async (_what, key, headers) => {
    for (const [method, path] of [['GET', '/results/accounts'], ['POST', '/portfolios/batch'], ['GET', '/portfolios/batch/x']] as const) {
      const r = await call(emu, method, path, { key, headers, body: method === 'POST' ? { portfolio: [etd('A')] } : undefined });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { message: 'Invalid or expired API key' } });
    }
    expect(emu.stats.startedBatches).toEqual([]);
  });

  it('should answer 404 JSON to an unknown route', async () => {
    const r = await call(emu, 'GET', '/portfolios');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'Not Found' });
    expect(emu.stats.requests.unknown).toBe(1);
  });

  it('should margin a portfolio synchronously and keep its rows live', async () => {
    const r = await call(emu, 'POST', '/portfolios', { body: { portfolio: samplePortfolio(), memo: 'sample' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'success', memo: 'sample', username: 'user1@emulator.local' });
    expect(r.body.data).toHaveLength(1);
    const row = r.body.data[0];
    expect(row).toMatchObject({ account_code: 'c9', status: 'done', currency_code: 'USD', exceptions: [], closest_matches: [], request_id: r.body.request_id });
    expect(row.submitted_time).toBe(new Date(clock).toISOString());
    expect(row.portfolio).toHaveLength(32);
    expect(row.portfolio[0]).toEqual({ position_id: '0', exchange_code: 'NYMEX', contract_code: 'CS', contract_type: 'FUT', contract_expiry: '20261200', net_position: 579, margined: true, resolved_expiry: '202612' });
    const live = await call(emu, 'GET', '/results/accounts');
    expect(live.body).toEqual([row]);
  });

  it('should not store a synchronous result marked in_memory', async () => {
    await call(emu, 'POST', '/portfolios', { body: { portfolio: [etd('A')], in_memory: true } });
    expect((await call(emu, 'GET', '/results/accounts')).body).toEqual([]);
  });

  it('should refuse more than 100 distinct accounts in a synchronous request', async () => {
    const accounts = (n: number): Loose[] => Array.from({ length: n }, (_, i) => etd(`acct-${i}`));
    const ok = await call(emu, 'POST', '/portfolios', { body: { portfolio: [...accounts(100), etd('acct-0')] } });
    expect(ok.status).toBe(200);
    expect(ok.body.data).toHaveLength(100);
    const tooMany = await call(emu, 'POST', '/portfolios', { body: { portfolio: accounts(101) } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ error: '"portfolio" must contain at most 100 distinct account_code values' });
  });

  it('should run an async request and give its result by request_id, to its owner only', async () => {
    const requestId = '5c09862d-8d69-0f8d-821b-47762ef06a6f';
    const r = await call(emu, 'POST', '/portfolios', { body: { portfolio: [etd('A')], execution_mode: 'async', request_id: requestId } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ request_id: requestId, status: 'loading' });
    let result: Loose;
    do {
      result = await call(emu, 'GET', `/results?request_id=${requestId}`);
    } while (result.body.status === 'loading');
    expect(result.body).toMatchObject({ request_id: requestId, status: 'success', data: [{ account_code: 'A', initial_margin: 6000 }] });
    const other = await call(emu, 'GET', `/results?request_id=${requestId}`, { key: KEY_B });
    expect(other.status).toBe(404);
    expect(other.body).toEqual({ error: 'request not found' });
    const missing = await call(emu, 'GET', '/results');
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: '"request_id" is required' });
  });

  it('should accept a batch, report its status and keep it from other users', async () => {
    const accepted = await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A'), etd('B')] } });
    expect(accepted.status).toBe(202);
    const id: string = accepted.body.batch_id;
    const done = await waitForBatch(emu, id);
    expect(done).toMatchObject({ batch_id: id, status: 'completed', completed_pct: 100, created_at: new Date(clock).toISOString(), completed_at: new Date(clock).toISOString(), runtime_ms: 0 });
    expect(done.queue_position).toBeUndefined();

    const rowsA = await call(emu, 'GET', '/results/accounts');
    expect(rowsA.body.map((row: Loose) => [row.account_code, row.request_id])).toEqual([['A', id], ['B', id]]);

    const foreign = await call(emu, 'GET', `/portfolios/batch/${id}`, { key: KEY_B });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: 'batch not found' });
    const unknown = await call(emu, 'GET', '/portfolios/batch/00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'batch not found' });
    expect((await call(emu, 'GET', '/results/accounts', { key: KEY_B })).body).toEqual([]);
  });

  it('should refuse an unknown x-processing-mode', async () => {
    const r = await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] }, headers: { 'x-processing-mode': 'lifo' } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: '"x-processing-mode" must be one of [fifo, priority, replace_all]' });
  });

  it.each([
    ['malformed JSON', '{"portfolio": [', 'Invalid request body: malformed JSON'],
    ['a JSON array', '[]', '"value" must be of type object'],
    ['a JSON string', '"portfolio"', '"value" must be of type object'],
    ['deeply nested arrays', '['.repeat(50_000) + ']'.repeat(50_000), '"value" must be of type object'],
    ['a missing field', JSON.stringify({ portfolio: [etd('A'), etd('A'), etd('A'), etd('A', { exchange_code: undefined })] }), '"portfolio[3].exchange_code" is required'],
  ])('should answer 400 to %s', async (_what, rawBody, error) => {
    for (const path of ['/portfolios', '/portfolios/batch']) {
      const r = await call(emu, 'POST', path, { rawBody });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error });
    }
  });

  it('should keep deeply nested unknown fields as data without crashing', async () => {
    const deep = '{"x":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const rawBody = `{"portfolio":[{"account_code":"A","exchange_code":"NYMEX","contract_code":"CL","contract_type":"FUT","contract_expiry":"202612","net_position":1,"extra":${deep}}],"meta":${deep}}`;
    const accepted = await call(emu, 'POST', '/portfolios/batch', { rawBody });
    expect(accepted.status).toBe(202);
    await waitForBatch(emu, accepted.body.batch_id);
    const rows = await call(emu, 'GET', '/results/accounts');
    expect(rows.body.map((row: Loose) => row.initial_margin)).toEqual([6000]);
  });

  it('should treat a __proto__ payload as plain data', async () => {
    const rawBody =
      '{"__proto__":{"polluted":"yes","currency_code":"EUR"},"constructor":{"prototype":{"polluted":"yes"}},"portfolio":[' +
      '{"account_code":"__proto__","exchange_code":"NYMEX","contract_code":"CL","contract_type":"FUT","contract_expiry":"202612","net_position":1,"__proto__":{"net_position":1000}},' +
      '{"account_code":"constructor","exchange_code":"NYMEX","contract_code":"CL","contract_type":"FUT","contract_expiry":"202612","net_position":2}]}';
    const accepted = await call(emu, 'POST', '/portfolios/batch', { rawBody });
    expect(accepted.status).toBe(202);
    await waitForBatch(emu, accepted.body.batch_id);
    const rows = await call(emu, 'GET', '/results/accounts');
    // Nothing changed: the result currency stayed USD, the nets are the ones written as fields.
    expect(rows.body.map((row: Loose) => [row.account_code, row.currency_code, row.initial_margin])).toEqual([
      ['__proto__', 'USD', 6000],
      ['constructor', 'USD', 12000],
    ]);
    expect(({} as Loose).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    // The payload is kept exactly as received, __proto__ as an own key.
    const kept = emu.stats.lastSubmittedPayloads.get(KEY_A) as Loose;
    expect(Object.prototype.hasOwnProperty.call(kept, '__proto__')).toBe(true);
  });

  it('should give sub-accounts their own rows under the master row', async () => {
    // One account, two sub-accounts holding opposite CL months.
    //   master: +10 Dec-26 and −10 Jan-27 together = 20 × 6,000 − 0.8 × 10 × 6,000 = 72,000
    //   S1: 10 × 6,000 = 60,000; S2: 60,000 (each alone, no offset)
    const portfolio = [
      etd('M', { sub_account_code: 'S1', net_position: 10 }),
      etd('M', { sub_account_code: 'S2', contract_expiry: '202701', net_position: -10 }),
    ];
    const accepted = await call(emu, 'POST', '/portfolios/batch', { body: { portfolio } });
    await waitForBatch(emu, accepted.body.batch_id);
    const rows = (await call(emu, 'GET', '/results/accounts')).body;
    expect(rows.map((row: Loose) => [row.account_code, row.initial_margin])).toEqual([['M', 72000], ['S1', 60000], ['S2', 60000]]);
    expect(rows[0].parent_portfolio_id).toBeUndefined();
    expect(rows[1].parent_portfolio_id).toBe(rows[0].portfolio_id);
    expect(rows[2].parent_portfolio_id).toBe(rows[0].portfolio_id);
  });

  it('should answer 413 to a declared body above the limit', async () => {
    const big = JSON.stringify({ portfolio: [etd('A')], pad: 'x'.repeat(300 * 1024) });
    const r = await call(emu, 'POST', '/portfolios/batch', { rawBody: big });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/^Payload Too Large/);
    expect(emu.stats.startedBatches).toEqual([]);
  });

  it('should answer 413 to an endless streamed body as soon as the limit is crossed', async () => {
    // No content-length: chunks keep coming until the server answers. The server must answer
    // once 256 KiB have passed, without waiting for an end that never comes.
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const result = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = request(`${emu.url}/portfolios/batch`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' } });
      req.on('response', (res) => {
        answered = true;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent }));
      });
      req.on('error', (e) => (answered ? undefined : reject(e)));
      const pump = (): void => {
        if (answered) return;
        if (sent > 64 * 1024 * 1024) return reject(new Error('the server never answered'));
        sent += chunk.length;
        if (req.write(chunk)) setImmediate(pump);
        else req.once('drain', pump);
      };
      req.write('{"portfolio":[');
      pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body).error).toMatch(/^Payload Too Large/);
    expect(result.sent).toBeGreaterThan(256 * 1024);
  });

  it('should let a client still writing a refused body read the 413 instead of a reset', async () => {
    // The client writes as fast as the socket takes it, so the 413 is sent while megabytes
    // are still on their way; closing at once reset those sockets and EPIPE replaced the 413.
    await emu.close();
    emu = await startEmulator({ apiKeys: [KEY_A], maxPayloadBytes: 1024 * 1024 });
    // Read from a file while it is written (as c9-batch run sends a file), ~9 MB of JSON:
    // far more than the socket buffers take in while the server answers.
    const dir = mkdtempSync(join(tmpdir(), 'c9-linger-'));
    const file = join(dir, 'big.csv');
    const header = 'account_code,exchange_code,contract_code,contract_type,contract_expiry,net_position\n';
    writeFileSync(file, header + Array.from({ length: 60_000 }, (_, i) => `ACC-${i},NYMEX,CL,FUT,202612,1\n`).join(''));
    const portfolio = await openPortfolio(file);
    const outcomes: string[] = [];
    for (const transport of [fetchTransport(), nodeHttpTransport()]) {
      const client = createClient({ endpoint: emu.url, apiKey: KEY_A, transport, retry: { maxRetries: 0 } });
      for (let attempt = 0; attempt < 3; attempt++) {
        const outcome = await firstValueFrom(client.submitBatch(portfolio)).then(
          () => 'accepted',
          (error: Error) => error.name,
        );
        outcomes.push(outcome);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    expect(outcomes).toEqual(Array(6).fill('PayloadTooLargeError'));
    expect(emu.stats.startedBatches).toEqual([]);
  });

  it('should limit each user to its own sliding window and say when to retry', async () => {
    await emu.close();
    emu = await startEmulator({ apiKeys: [KEY_A, KEY_B], now: () => clock, rateLimit: { requests: 2, windowMs: 60_000 } });
    expect((await call(emu, 'GET', '/results/accounts')).status).toBe(200);
    clock += 20_000;
    expect((await call(emu, 'GET', '/results/accounts')).status).toBe(200);
    clock += 10_000;
    const limited = await call(emu, 'GET', '/results/accounts');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: 'Rate limit exceeded' });
    // The first request leaves the window 60 s after it was made: 30 s from now.
    expect(limited.headers.get('retry-after')).toBe('30');
    expect((await call(emu, 'GET', '/results/accounts', { key: KEY_B })).status).toBe(200);
    clock += 30_000;
    expect((await call(emu, 'GET', '/results/accounts')).status).toBe(200);
  });

  it('should close every socket, kept-alive ones included', async () => {
    const sockets = await new Promise<number>((resolve) => {
      const req = request(`${emu.url}/results/accounts`, { headers: { authorization: `Bearer ${KEY_A}`, connection: 'keep-alive' } });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          let closed = 0;
          req.socket?.on('close', () => resolve(++closed));
          void emu.close();
        });
      });
      req.end();
    });
    expect(sockets).toBe(1);
    await expect(fetch(`${emu.url}/healthcheck/analytics-engine`)).rejects.toThrow();
  });
});

describe('startEmulator without payload capture', () => {
  it('should keep no payload when capturePayloads is false', async () => {
    const emu = await startEmulator({ apiKeys: [KEY_A], capturePayloads: false });
    try {
      expect((await call(emu, 'POST', '/portfolios', { body: { portfolio: [etd('A')] } })).status).toBe(200);
      expect(emu.stats.lastSubmittedPayloads.size).toBe(0);
    } finally {
      await emu.close();
    }
  });
});

describe('describeEmulator', () => {
  it('should print the URL and every accepted key', async () => {
    const emu = await startEmulator({ apiKeys: ['sk-one', 'sk-two'] });
    try {
      const text = describeEmulator(emu);
      expect(text).toContain(emu.url);
      expect(text).toContain('sk-one');
      expect(text).toContain('sk-two');
    } finally {
      await emu.close();
    }
  });
});

describe('startEmulator with recordBatchPayloads', () => {
  it("should keep every accepted batch's payload by batch id, and none of a refused one or by default", async () => {
    const recording = await startEmulator({ apiKeys: [KEY_A], recordBatchPayloads: true });
    const plain = await startEmulator({ apiKeys: [KEY_A] });
    try {
      const sent = [{ portfolio: [etd('A')], memo: 'first' }, { portfolio: [etd('B'), etd('C')] }];
      const ids: string[] = [];
      for (const body of sent) {
        const answer = await call(recording, 'POST', '/portfolios/batch', { body });
        expect(answer.status).toBe(202);
        ids.push((answer.body as { batch_id: string }).batch_id);
      }
      expect((await call(recording, 'POST', '/portfolios/batch', { body: { portfolio: [{ account_code: 'X' }] } })).status).toBe(400);
      expect([...recording.stats.batchPayloads]).toEqual([
        [ids[0], sent[0]],
        [ids[1], sent[1]],
      ]);
      expect((await call(plain, 'POST', '/portfolios/batch', { body: sent[0] })).status).toBe(202);
      expect(plain.stats.batchPayloads.size).toBe(0);
    } finally {
      await recording.close();
      await plain.close();
    }
  });
});

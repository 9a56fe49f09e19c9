import { request } from 'node:http';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { call, etd, waitForBatch, type Loose } from './support';

const KEY = 'sk-faults';

function rawGet(emu: EmulatorHandle, path: string): Promise<{ status: number; chunks: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${emu.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
    req.on('response', (res) => {
      let chunks = 0;
      let body = '';
      res.on('data', (d: Buffer) => {
        chunks++;
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, chunks, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('FaultController', () => {
  let emu: EmulatorHandle;

  beforeEach(async () => {
    emu = await startEmulator({ apiKeys: [KEY], msPerAccount: 1 });
  });

  afterEach(() => emu.close());

  it('should add latency to one route only', async () => {
    emu.faults.setLatency('health', 150);
    const finished: string[] = [];
    const t = performance.now();
    await Promise.all([
      rawGet(emu, '/healthcheck/analytics-engine').then(() => finished.push('health')),
      rawGet(emu, '/results/accounts').then(() => finished.push('results')),
    ]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    // Sent together, the route without latency answers first.
    expect(finished).toEqual(['results', 'health']);
  });

  it('should replace the next N responses with JSON errors, without running the handler', async () => {
    emu.faults.failNext('submit', { status: 500, count: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] } });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: 'Internal Server Error' });
    }
    expect(emu.stats.startedBatches).toEqual([]);
    expect(emu.stats.lastSubmittedPayloads.size).toBe(0);
    expect((await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] } })).status).toBe(202);
    expect(emu.stats.requests.submit).toBe(3);
  });

  it('should queue the responses of a second failNext on a route after those still pending', async () => {
    // The second call replaced the first: a test scripting a 502 and then a 429 got only the
    // 429, and passed without the 502 ever being sent.
    emu.faults.failNext('health', { status: 502, count: 2 });
    emu.faults.failNext('health', { status: 429, headers: { 'retry-after': '1' } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await rawGet(emu, '/healthcheck/analytics-engine')).status);
    expect(statuses).toEqual([502, 502, 429, 200]);
  });

  it('should refuse a count that is not a positive integer', () => {
    expect(() => emu.faults.failNext('health', { status: 502, count: 0 })).toThrow(TypeError);
    expect(() => emu.faults.dropNext('health', { when: 'beforeHeaders', count: 1.5 })).toThrow(TypeError);
  });

  it('should replace a response with a proxy HTML page and headers', async () => {
    emu.faults.failNext('status', { status: 503, headers: { 'retry-after': '2' } });
    const res = await fetch(`${emu.url}/portfolios/batch/whatever`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.text()).toContain('<h1>503 Service Unavailable</h1>');
    expect((await call(emu, 'GET', '/portfolios/batch/whatever')).status).toBe(404);
  });

  it('should replace a response with a 429 carrying Retry-After', async () => {
    emu.faults.failNext('results', { status: 429, headers: { 'retry-after': '1' } });
    const r = await call(emu, 'GET', '/results/accounts');
    expect(r.status).toBe(429);
    expect(r.body).toEqual({ error: 'Rate limit exceeded' });
    expect(r.headers.get('retry-after')).toBe('1');
  });

  it('should drop the connection before the headers', async () => {
    emu.faults.dropNext('results', { when: 'beforeHeaders' });
    await expect(fetch(`${emu.url}/results/accounts`, { headers: { authorization: `Bearer ${KEY}` } })).rejects.toThrow();
    expect((await call(emu, 'GET', '/results/accounts')).status).toBe(200);
  });

  it('should drop the connection after the headers, mid-body, once the handler has run', async () => {
    emu.faults.dropNext('submit', { when: 'afterHeaders' });
    const res = await fetch(`${emu.url}/portfolios/batch`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify({ portfolio: [etd('A')] }) });
    expect(res.status).toBe(202);
    await expect(res.text()).rejects.toThrow();
    // The server did accept the batch: the ambiguous case a client has to live with.
    expect(emu.stats.lastSubmittedPayloads.size).toBe(1);
  });

  it('should write a body slowly in small chunks', async () => {
    emu.faults.slowBody('health', { chunkBytes: 64, delayMs: 5, count: 1 });
    const slow = await rawGet(emu, '/healthcheck/analytics-engine');
    expect(slow.status).toBe(200);
    expect(slow.chunks).toBeGreaterThanOrEqual(Math.ceil(slow.body.length / 64));
    expect(JSON.parse(slow.body)[0].service).toBe('span');
    const fast = await rawGet(emu, '/healthcheck/analytics-engine');
    expect(fast.chunks).toBe(1);
  });

  it('should override a status value while processing goes on', async () => {
    const id = (await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] } })).body.batch_id;
    emu.faults.overrideStatus(id, 'paused');
    // 'paused' is outside the schema's enum on purpose: clients must cope with unknown statuses.
    const paused = await call(emu, 'GET', `/portfolios/batch/${id}`, { validate: false });
    expect(paused.body.status).toBe('paused');
    emu.faults.overrideStatus(id, undefined);
    expect((await waitForBatch(emu, id)).status).toBe('completed');
  });

  it('should make completed_pct go backwards on request', async () => {
    const id = (await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] } })).body.batch_id;
    await waitForBatch(emu, id);
    emu.faults.reportPct(id, [60, 30]);
    const pcts: number[] = [];
    for (let i = 0; i < 3; i++) pcts.push((await call(emu, 'GET', `/portfolios/batch/${id}`)).body.completed_pct);
    expect(pcts).toEqual([60, 30, 100]);
  });

  it('should hold a batch in queued until released', async () => {
    emu.faults.holdBatch('*', 'queued');
    const id = (await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] } })).body.batch_id;
    await new Promise((done) => setTimeout(done, 20));
    expect((await call(emu, 'GET', `/portfolios/batch/${id}`)).body).toMatchObject({ status: 'queued', queue_position: 0, completed_pct: 0, completed_at: null });
    emu.faults.releaseBatch(id);
    expect((await waitForBatch(emu, id)).status).toBe('completed');
  });

  it('should let results lag behind completion for N requests', async () => {
    const first = (await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] } })).body.batch_id;
    await waitForBatch(emu, first);
    emu.faults.lagResults(2);
    const second = (await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A', { net_position: 3 }), etd('B')] } })).body.batch_id;
    await waitForBatch(emu, second);
    const views: Loose[] = [];
    for (let i = 0; i < 3; i++) views.push((await call(emu, 'GET', '/results/accounts')).body.map((r: Loose) => [r.account_code, r.request_id]));
    expect(views).toEqual([[['A', first]], [['A', first]], [['A', second], ['B', second]]]);
  });

  it('should clear every fault', async () => {
    emu.faults.failNext('health', { status: 502, count: 5 });
    emu.faults.setLatency('results', 1000);
    emu.faults.holdBatch('*', 'queued');
    emu.faults.clear();
    expect((await call(emu, 'GET', '/healthcheck/analytics-engine')).status).toBe(200);
    const id = (await call(emu, 'POST', '/portfolios/batch', { body: { portfolio: [etd('A')] } })).body.batch_id;
    expect((await waitForBatch(emu, id)).status).toBe('completed');
    expect((await call(emu, 'GET', '/results/accounts')).body).toHaveLength(1);
  });
});

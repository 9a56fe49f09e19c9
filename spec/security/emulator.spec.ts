/**
 * The emulator under attack: keys compared in constant time, other users' batches hidden
 * exactly like unknown ones, payload limits held against slow and endless bodies, hostile
 * JSON (malformed, 100,000 levels deep, `__proto__` / `constructor` / `prototype` keys) refused
 * or carried as plain data, and another user served normally throughout.
 */
import { readFileSync } from 'node:fs';
import crypto = require('node:crypto');
import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { findByKey, hashKey } from '../../src/emulator/auth';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';

const ATTACKER = 'sk-attacker-key-000111';
const HEALTHY = 'sk-healthy-key-222333';
const LIMIT = 64 * 1024;

type JsonObject = Record<string, unknown>;

interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

const position = (account: string, extra: JsonObject = {}): JsonObject => ({
  account_code: account,
  exchange_code: 'ICE.EU',
  contract_code: 'B',
  contract_type: 'FUT',
  contract_expiry: '202612',
  net_position: '1',
  ...extra,
});

describe('emulator security', () => {
  /** A small payload limit, for the limit specs. */
  let emu: EmulatorHandle;
  /** The default (500 MB) limit, for bodies that are hostile but not large. */
  let open: EmulatorHandle;

  beforeAll(async () => {
    [emu, open] = await Promise.all([
      startEmulator({ apiKeys: [ATTACKER, HEALTHY], maxPayloadBytes: LIMIT, msPerAccount: 1, workers: 4 }),
      startEmulator({ apiKeys: [ATTACKER, HEALTHY], msPerAccount: 1, workers: 4 }),
    ]);
  });
  afterAll(() => Promise.all([emu.close(), open.close()]));

  async function call(
    method: 'GET' | 'POST',
    path: string,
    opts: { key?: string | null; body?: string; authorization?: string; server?: EmulatorHandle } = {},
  ): Promise<Answer> {
    const key = opts.key === undefined ? ATTACKER : opts.key;
    const headers: Record<string, string> = {};
    if (opts.authorization !== undefined) headers.authorization = opts.authorization;
    else if (key !== null) headers.authorization = `Bearer ${key}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${(opts.server ?? emu).url}${path}`, { method, headers, body: opts.body });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  }

  /** One round of a well-behaved user: submit, status, results. Throws on any unexpected answer. */
  async function healthyRound(server: EmulatorHandle): Promise<void> {
    const submitted = await call('POST', '/portfolios/batch', { server, key: HEALTHY, body: JSON.stringify({ portfolio: [position('H-1')] }) });
    expect(submitted.status).toBe(202);
    const { batch_id: batchId } = JSON.parse(submitted.text) as { batch_id: string };
    expect((await call('GET', `/portfolios/batch/${batchId}`, { server, key: HEALTHY })).status).toBe(200);
    expect((await call('GET', '/results/accounts', { server, key: HEALTHY })).status).toBe(200);
  }

  /**
   * Runs `attack` while the healthy user keeps working, and checks that the healthy user was
   * served after it, and during it at least `minRoundsDuring` full rounds (for attacks long
   * enough to hold a round).
   */
  async function whileServingOthers<T>(attack: () => Promise<T>, server: EmulatorHandle = emu, minRoundsDuring = 0): Promise<T> {
    let done = false;
    let rounds = 0;
    const healthy = (async () => {
      do {
        await healthyRound(server);
        rounds++;
      } while (!done);
    })();
    try {
      const result = await attack();
      expect(rounds).toBeGreaterThanOrEqual(minRoundsDuring);
      return result;
    } finally {
      done = true;
      await healthy;
      await healthyRound(server);
    }
  }

  describe('keys', () => {
    it('should refuse wrong keys of the same and of other lengths, and malformed headers, with the same 401', async () => {
      const sameLength = ATTACKER.replace(/0/g, '9');
      expect(sameLength).toHaveLength(ATTACKER.length);
      const variants: { key?: string | null; authorization?: string }[] = [
        { key: sameLength },
        { key: `${ATTACKER}x` },
        { key: ATTACKER.slice(0, -1) },
        { key: 'sk' },
        { key: 'x'.repeat(4096) },
        { key: null },
        { authorization: `Basic ${ATTACKER}` },
        { authorization: 'Bearer' },
        { authorization: `Bearer ${ATTACKER} extra` },
      ];
      const answers = await Promise.all(variants.map((v) => call('GET', '/results/accounts', v)));
      const unknown = answers[0];
      expect(unknown.status).toBe(401);
      for (const answer of answers) expect(answer).toEqual(unknown);
      // The right key still works, with either case of the scheme.
      expect((await call('GET', '/results/accounts', { authorization: `bearer ${ATTACKER}` })).status).toBe(200);
    });

    it('should compare every key with timingSafeEqual on equal-length digests, without stopping at a match', () => {
      const spy = jest.spyOn(crypto, 'timingSafeEqual');
      try {
        const users = ['sk-a-0000001', 'sk-b-0000002', 'sk-c-0000003'].map((key) => ({ key, keyHash: hashKey(key) }));
        for (const token of ['sk-a-0000001', 'sk-c-0000003', 'sk-z', 'x'.repeat(1000)]) {
          spy.mockClear();
          const found = findByKey(users, token);
          expect(found?.key).toBe(users.find((u) => u.key === token)?.key);
          // Same number of comparisons whichever key (if any) matches, each of two 32-byte digests.
          expect(spy).toHaveBeenCalledTimes(users.length);
          for (const [a, b] of spy.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
        }
      } finally {
        spy.mockRestore();
      }
      // And at the source: no plain comparison of keys or tokens.
      const source = readFileSync(resolve(__dirname, '../../src/emulator/auth.ts'), 'utf8');
      expect(source).toMatch(/timingSafeEqual\(candidate, u\.keyHash\)/);
      expect(source).not.toMatch(/(token|key)\s*===|===\s*(token|key)\b/);
    });
  });

  describe('isolation', () => {
    it("should answer another user's batch id exactly like an unknown one", async () => {
      const submitted = await call('POST', '/portfolios/batch', { key: HEALTHY, body: JSON.stringify({ portfolio: [position('SECRET-ACC')] }) });
      const { batch_id: theirs } = JSON.parse(submitted.text) as { batch_id: string };

      const foreign = await call('GET', `/portfolios/batch/${theirs}`);
      const unknown = await call('GET', `/portfolios/batch/${crypto.randomUUID()}`);
      const garbage = await call('GET', `/portfolios/batch/${encodeURIComponent('../../results/accounts')}`);

      expect(foreign.status).toBe(404);
      expect(foreign).toEqual(unknown);
      expect(garbage).toEqual(unknown);
      expect((await call('GET', `/portfolios/batch/${theirs}`, { key: HEALTHY })).status).toBe(200);
      expect((await call('GET', '/results/accounts')).text).not.toContain('SECRET-ACC');
    });
  });

  describe('payload limit', () => {
    interface Streamed {
      readonly status: number | undefined;
      readonly text: string;
      /** ms from the moment the bytes sent passed the limit to the answer. */
      readonly answeredAfterLimitMs: number | undefined;
      /** ms from the answer to the socket's close. */
      readonly closedAfterAnswerMs: number | undefined;
      readonly bytesSent: number;
    }

    /**
     * POSTs a chunked body of `chunkBytes` every `delayMs`, at most `maxChunks` chunks (Infinity:
     * until the server answers or hangs up), and reports when the answer came.
     */
    function streamBody(chunkBytes: number, delayMs: number, maxChunks: number): Promise<Streamed> {
      const url = new URL(emu.url);
      return new Promise((resolveStreamed) => {
        let bytesSent = 0;
        let limitPassedAt: number | undefined;
        let answeredAt: number | undefined;
        let status: number | undefined;
        let text = '';
        let finished = false;
        const req = httpRequest({
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/portfolios/batch',
          agent: false,
          headers: { authorization: `Bearer ${ATTACKER}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        });
        const finish = (): void => {
          if (finished) return;
          finished = true;
          const closedAt = Date.now();
          resolveStreamed({
            status,
            text,
            answeredAfterLimitMs: answeredAt === undefined || limitPassedAt === undefined ? undefined : answeredAt - limitPassedAt,
            closedAfterAnswerMs: answeredAt === undefined ? undefined : closedAt - answeredAt,
            bytesSent,
          });
        };
        req.on('response', (res) => {
          answeredAt = Date.now();
          status = res.statusCode;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
        });
        // After a 413 the server hangs up while we still write: EPIPE / ECONNRESET are expected.
        req.on('error', () => undefined);
        req.on('close', finish);
        const chunk = Buffer.from(`[${'1,'.repeat(chunkBytes / 2 - 1)}`.padEnd(chunkBytes, ' '));
        void (async () => {
          const prefix = '{"portfolio":';
          req.write(prefix);
          bytesSent += prefix.length;
          // An endless body goes on after the answer too: the server must hang up on it (capped at 3 s).
          const endless = maxChunks === Infinity;
          const stopAt = Date.now() + 3000;
          for (let i = 0; i < maxChunks && (answeredAt === undefined || endless) && !finished && !req.destroyed && Date.now() < stopAt; i++) {
            req.write(chunk);
            bytesSent += chunk.length;
            if (limitPassedAt === undefined && bytesSent > LIMIT) limitPassedAt = Date.now();
            await sleep(delayMs);
          }
          if (!req.destroyed && answeredAt === undefined) req.end();
        })();
      });
    }

    it('should answer 413 soon after a slow body passes the limit, serving others meanwhile', async () => {
      const streamed = await whileServingOthers(() => streamBody(8 * 1024, 15, 40), emu, 1);

      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.text)).toEqual({ error: expect.stringContaining('Payload Too Large') });
      expect(streamed.answeredAfterLimitMs).toBeLessThan(1000);
      // It stopped reading there: far fewer bytes than the 320 KiB we were ready to send.
      expect(streamed.bytesSent).toBeLessThan(20 + 40 * 8 * 1024);
    });

    it('should answer 413 to an endless body and hang up, serving others meanwhile', async () => {
      const streamed = await whileServingOthers(() => streamBody(16 * 1024, 2, Infinity));

      expect(streamed.status).toBe(413);
      expect(streamed.answeredAfterLimitMs).toBeLessThan(1000);
      expect(streamed.closedAfterAnswerMs).toBeLessThan(2000);
    });

    it('should refuse a declared length above the limit before reading the body', async () => {
      const answer = await whileServingOthers(
        () =>
          new Promise<{ status: number | undefined; ms: number }>((resolveAnswer) => {
            const url = new URL(emu.url);
            const started = Date.now();
            const req = httpRequest({
              host: url.hostname,
              port: url.port,
              method: 'POST',
              path: '/portfolios',
              agent: false,
              headers: { authorization: `Bearer ${ATTACKER}`, 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024 * 1024) },
            });
            req.on('error', () => undefined);
            req.on('response', (res) => {
              res.resume();
              resolveAnswer({ status: res.statusCode, ms: Date.now() - started });
              req.destroy();
            });
            req.write('{"portfolio":[');
          }),
      );
      expect(answer.status).toBe(413);
      expect(answer.ms).toBeLessThan(1000);
    });
  });

  describe('hostile JSON', () => {
    const deepArray = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const deepObject = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

    it('should answer 400 to malformed JSON and keep serving', async () => {
      const bodies = ['{', '{"portfolio": [', 'not json', '{"portfolio":[{"account_code":"A",}]}', '\u0000', ''];
      await whileServingOthers(async () => {
        for (const body of bodies) {
          for (const path of ['/portfolios', '/portfolios/batch']) {
            const answer = await call('POST', path, { server: open, body });
            expect([path, body, answer.status]).toEqual([path, body, 400]);
            expect(JSON.parse(answer.text)).toEqual({ error: expect.any(String) });
          }
        }
      }, open);
    });

    it('should refuse or carry JSON nested 100,000 levels deep without crashing', async () => {
      const levels = 100_000;
      const nestedField = `{"portfolio":[${JSON.stringify(position('DEEP-1')).slice(0, -1)},"extra":${deepArray(levels)}}],"currency_code":"USD"}`;
      const cases: [string, string, string][] = [
        ['bare deep array', '/portfolios/batch', deepArray(levels)],
        ['bare deep object', '/portfolios', deepObject(levels)],
        ['deep portfolio', '/portfolios/batch', `{"portfolio":${deepArray(levels)}}`],
        ['deep memo', '/portfolios/batch', `{"portfolio":[${JSON.stringify(position('DEEP-2'))}],"memo":${deepObject(levels)}}`],
        ['deep unknown field of a position (sync)', '/portfolios', nestedField],
        ['deep unknown field of a position (batch)', '/portfolios/batch', nestedField],
      ];
      const accepted: string[] = [];
      await whileServingOthers(async () => {
        for (const [label, path, body] of cases) {
          const answer = await call('POST', path, { server: open, body });
          // 400, or accepted as data (an unknown field is not the server's business); never a 5xx or a hang-up.
          expect([label, [200, 202, 400].includes(answer.status)]).toEqual([label, true]);
          expect(answer.contentType).toMatch(/^application\/json/);
          if (answer.status === 202) accepted.push((JSON.parse(answer.text) as { batch_id: string }).batch_id);
        }
      }, open);
      // An accepted batch with a deep field is processed like any other, to the end.
      for (const batchId of accepted) {
        const deadline = Date.now() + 5000;
        let status = '';
        while (!['completed', 'completed_with_errors', 'failed'].includes(status) && Date.now() < deadline) {
          await sleep(10);
          status = (JSON.parse((await call('GET', `/portfolios/batch/${batchId}`, { server: open })).text) as { status: string }).status;
        }
        expect(status).toBe('completed');
      }
      const rows = JSON.parse((await call('GET', '/results/accounts', { server: open })).text) as { account_code: string }[];
      expect(rows.map((r) => r.account_code)).toContain('DEEP-1');
    });

    it('should carry __proto__, constructor and prototype keys as plain data, changing nothing else', async () => {
      const hostilePosition = (account: string): string =>
        `{"account_code":${JSON.stringify(account)},"exchange_code":"ICE.EU","contract_code":"B","contract_type":"FUT","contract_expiry":"202612","net_position":"2",` +
        `"__proto__":{"polluted":"position","account_code":"HIJACKED"},"constructor":{"prototype":{"polluted":"ctor"}},"prototype":{"polluted":"proto"}}`;
      const body =
        `{"__proto__":{"polluted":"payload","currency_code":"EUR"},"constructor":{"prototype":{"polluted":"ctor"}},"prototype":{"polluted":"proto"},` +
        `"portfolio":[${['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'].map(hostilePosition).join(',')}]}`;

      const [sync, batch] = await whileServingOthers(async () => {
        const s = await call('POST', '/portfolios', { server: open, body });
        const b = await call('POST', '/portfolios/batch', { server: open, body });
        return [s, b];
      }, open);

      expect(({} as JsonObject).polluted).toBeUndefined();
      expect((Object.prototype as JsonObject).polluted).toBeUndefined();
      expect(sync.status).toBe(200);
      expect(batch.status).toBe(202);
      // The received payload holds the keys as its own data.
      const received = open.stats.lastSubmittedPayloads.get(ATTACKER) as JsonObject;
      expect(Object.getPrototypeOf(received)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(received, '__proto__')?.value).toEqual({ polluted: 'payload', currency_code: 'EUR' });
      const firstPosition = (received.portfolio as JsonObject[])[0];
      expect(Object.getOwnPropertyDescriptor(firstPosition, '__proto__')?.value).toEqual({ polluted: 'position', account_code: 'HIJACKED' });
      // Accounts with those names are ordinary accounts: one row each, in the default currency
      // (the `__proto__` field's currency_code changed nothing), and no HIJACKED account.
      const data = (JSON.parse(sync.text) as { data: { account_code: string; currency_code?: string }[] }).data;
      const codes = data.map((row) => row.account_code);
      expect(codes).toEqual(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']);
      expect(new Set(data.map((row) => row.currency_code))).toEqual(new Set(['USD']));
      const rows = JSON.parse((await call('GET', '/results/accounts', { server: open })).text) as { account_code: string }[];
      expect(rows.map((r) => r.account_code)).toEqual(expect.arrayContaining(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']));
      expect(rows.map((r) => r.account_code)).not.toContain('HIJACKED');
    });
  });
});

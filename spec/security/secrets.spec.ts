/**
 * The API key never leaves the process in anything a person or a file can see: CLI stdout,
 * stderr and files written by --out, every error (message, stack, String, JSON, inspect, the
 * CLI's verbose form), every event of runBatch, and the client object itself.
 *
 * Every case runs with one known key; a second key that does not look like a vendor key
 * (so only registration can hide it) covers the library's own redaction.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { firstValueFrom, toArray } from 'rxjs';
import { formatError } from '../../src/cli/formatError';
import { runCommand } from '../../src/cli/runCommand';
import { startEmulator, type EmulatorHandle } from '../../src/emulator';
import { createClient, type C9Client } from '../../src/http/client';
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  BatchFailedError,
  BatchTimeoutError,
  C9Error,
  ConnectionError,
  DecodeError,
  InternalServerError,
  InvalidResponseError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  RequestTimeoutError,
  makeApiError,
} from '../../src/http/errors';
import { registerSecret } from '../../src/http/redact';
import { InputError, loadPortfolio } from '../../src/input';
import { runBatch } from '../../src/streams/runBatch';
import { runBatches } from '../../src/streams/runBatches';
import { HEADER, testIo } from '../cli/support/io';

const KEY = 'sk-live-KNOWN-SECRET-abc123';
/** Not shaped like a vendor key: only registration (createClient) can hide it. */
const PLAIN_KEY = 'plainKNOWNsecretXYZ789';
const OTHER_KEY = 'sk-live-OTHER-USER-def456';
/** Pieces that would betray a key cut in half. */
const FRAGMENTS = ['KNOWN-SECRET', 'SECRET-abc123', 'KNOWNsecret', 'secretXYZ789'];

/** Fails, naming where, when `text` holds a key or a piece of one. */
function expectNoSecret(where: string, text: string): void {
  const found = [KEY, PLAIN_KEY, ...FRAGMENTS].filter((s) => text.includes(s));
  expect({ where, found }).toEqual({ where, found: [] });
}

/** Every way an error gets shown or stored. */
function errorViews(error: unknown): Record<string, string> {
  const e = error as Error;
  return {
    message: e.message,
    stack: e.stack ?? '',
    string: String(e),
    json: JSON.stringify(e) ?? '',
    inspect: inspect(e, { depth: 5 }),
    cliVerbose: formatError(e, { verbose: true }),
  };
}

function expectErrorClean(label: string, error: unknown): void {
  expect(error).toBeInstanceOf(Error);
  for (const [view, text] of Object.entries(errorViews(error))) expectNoSecret(`${label} (${view})`, text);
}

/** Waits for an Observable's error; fails if it completes instead. */
async function errorOf(source: Promise<unknown>): Promise<unknown> {
  try {
    await source;
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

/** A 127.0.0.1 server whose answers are written by the spec (for echoes the emulator does not do). */
async function captureServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const book = (rows: string[]): string => `${HEADER}\n${rows.join('\n')}\n`;
const brent = (account: string, qty: number): string => `${account},ICE.EU,B,FUT,202612,,${qty}`;

describe('secrets', () => {
  let emulator: EmulatorHandle;
  /** Accepts only another user's key: the known key is refused there. */
  let refusing: EmulatorHandle;
  let dir: string;

  beforeAll(async () => {
    [emulator, refusing] = await Promise.all([
      startEmulator({ apiKeys: [KEY], msPerAccount: 1, workers: 4 }),
      startEmulator({ apiKeys: [OTHER_KEY], msPerAccount: 1 }),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'c9-secrets-'));
    writeFileSync(join(dir, 'book.csv'), book([brent('ACC-1', 5), brent('ACC-2', -3), brent('ACC-3', 7)]));
  });
  afterAll(async () => {
    await Promise.all([emulator.close(), refusing.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => emulator.faults.clear());

  describe('runCommand', () => {
    /** Runs the CLI in-process with the known key and checks stdout and stderr. */
    async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
      const io = testIo(env);
      const code = await runCommand(argv, io);
      const stdout = io.stdout.text();
      const stderr = io.stderr.text();
      expectNoSecret(`stdout of ${argv.join(' ')}`, stdout);
      expectNoSecret(`stderr of ${argv.join(' ')}`, stderr);
      return { code, stdout, stderr };
    }
    const envFor = (emu: EmulatorHandle, key = KEY): Record<string, string> => ({ C9_API_ENDPOINT: emu.url, C9_API_SECRET: key });
    const fast = ['--poll-interval', '20'];

    it('should not show the key in a successful run with --out json, --out csv and --format json, nor in the files written', async () => {
      const path = join(dir, 'book.csv');
      const asJson = await cli(['run', path, ...fast, '--out', join(dir, 'rows.json'), '--verbose'], envFor(emulator));
      const asCsv = await cli(['run', path, ...fast, '--out', join(dir, 'rows.csv')], envFor(emulator));
      const report = await cli(['run', path, ...fast, '--format', 'json'], envFor(emulator));

      expect([asJson.code, asCsv.code, report.code]).toEqual([0, 0, 0]);
      expect((JSON.parse(report.stdout) as { accounts_fetched: number }).accounts_fetched).toBe(3);
      const written = readdirSync(dir).filter((name) => name.startsWith('rows.'));
      expect(written.sort()).toEqual(['rows.csv', 'rows.json']);
      for (const name of readdirSync(dir)) expectNoSecret(`file ${name}`, readFileSync(join(dir, name), 'utf8'));
    });

    it('should not show the key when it is refused, nor a wrong key sent to a server that knows the right one', async () => {
      const refused = await cli(['run', join(dir, 'book.csv'), ...fast, '--verbose'], envFor(refusing));
      const wrong = await cli(['run', join(dir, 'book.csv'), ...fast, '--format', 'json'], envFor(emulator, 'sk-live-WRONG-guess-999'));

      expect([refused.code, wrong.code]).toEqual([1, 1]);
      expect(refused.stderr).toContain('the API key was refused');
      expect(`${wrong.stdout}${wrong.stderr}`).not.toContain('WRONG-guess');
    });

    it('should not show the key when the run times out, or when the server echoes it in a refusal', async () => {
      emulator.faults.holdBatch('*', 'queued');
      const timedOut = await cli(['run', join(dir, 'book.csv'), ...fast, '--timeout', '300ms', '--format', 'json', '--out', join(dir, 'late.json')], envFor(emulator));
      emulator.faults.clear();
      emulator.faults.failNext('submit', { status: 400, format: 'json', body: { error: `"portfolio" refused for Authorization: Bearer ${KEY}` } });
      const echoed = await cli(['run', join(dir, 'book.csv'), ...fast, '--verbose'], envFor(emulator));

      expect([timedOut.code, echoed.code]).toEqual([1, 1]);
      expect(timedOut.stderr).toMatch(/timed out/);
      expect(echoed.stderr).toContain('refused for Authorization: Bearer [redacted]');
      for (const name of readdirSync(dir)) expectNoSecret(`file ${name}`, readFileSync(join(dir, name), 'utf8'));
    });
    it('should not show the key in a --state file nor in a resume from it', async () => {
      const state = join(dir, 'run.state.json');
      const run = await cli(['run', join(dir, 'book.csv'), ...fast, '--chunk-accounts', '1', '--state', state, '--format', 'json'], envFor(emulator));
      const resumed = await cli(['resume', state, ...fast, '--out', join(dir, 'resumed.json'), '--verbose'], envFor(emulator));

      expect([run.code, resumed.code]).toEqual([0, 0]);
      expect(readFileSync(state, 'utf8')).toContain(emulator.url);
      for (const name of readdirSync(dir)) expectNoSecret(`file ${name}`, readFileSync(join(dir, name), 'utf8'));
    });
  });

  describe('errors', () => {
    beforeAll(() => {
      registerSecret(KEY);
      registerSecret(PLAIN_KEY);
    });

    it('should keep the key out of every error class built from inputs that hold it', () => {
      const echo = JSON.stringify({ error: `Invalid key ${KEY} ${PLAIN_KEY}`, headers: { Authorization: `Bearer ${KEY}` } });
      const init = {
        method: 'POST',
        path: `/portfolios/batch?key=${PLAIN_KEY}`,
        requestId: `req-${KEY}`,
        contentType: `application/json; key=${PLAIN_KEY}`,
        body: echo,
        retryAfterMs: 1000,
      };
      const errors: [string, unknown][] = [
        ...[400, 401, 403, 404, 408, 413, 429, 500, 502, 503].map((status): [string, unknown] => [`makeApiError ${status}`, makeApiError({ status, ...init })]),
        ['ApiError', new ApiError({ status: 418, ...init })],
        ['BadRequestError', new BadRequestError({ status: 400, ...init })],
        ['AuthenticationError', new AuthenticationError({ status: 401, ...init })],
        ['NotFoundError', new NotFoundError({ status: 404, ...init })],
        ['PayloadTooLargeError', new PayloadTooLargeError({ status: 413, ...init })],
        ['RequestTimeoutError', new RequestTimeoutError({ status: 408, ...init })],
        ['RateLimitError', new RateLimitError({ status: 429, ...init })],
        ['InternalServerError', new InternalServerError({ status: 500, ...init, contentType: 'text/html', body: `<html><pre>Authorization: Bearer ${PLAIN_KEY}</pre></html>` })],
        ['InvalidResponseError', new InvalidResponseError({ status: 200, contentType: 'text/html', body: `<p>${KEY}</p>`, requestId: PLAIN_KEY, reason: `saw ${KEY}` })],
        ['ConnectionError', new ConnectionError(`POST /x failed: ${KEY}`, { mayHaveReachedServer: true, cause: new Error(`socket said ${PLAIN_KEY}`) })],
        ['DecodeError', new DecodeError(`status ${KEY}`, [`data.${PLAIN_KEY}`], [`data.${PLAIN_KEY}: expected ${KEY}`])],
        ['BatchFailedError', new BatchFailedError(`b-${PLAIN_KEY}`, `because ${KEY}`)],
        ['BatchTimeoutError', new BatchTimeoutError({ batchId: `b-${KEY}`, lastStatus: PLAIN_KEY, queuePosition: 3, elapsedMs: 1000 })],
        ['C9Error', new C9Error(`${KEY} ${PLAIN_KEY}`, { cause: `cause ${KEY}` })],
        ['InputError', new InputError({ file: 'book.csv', line: 3, field: 'net_position' }, `got ${JSON.stringify(KEY)}`)],
      ];
      for (const [label, error] of errors) expectErrorClean(label, error);
    });

    it('should keep the key out of the error of a loader that reads it in a bad cell', async () => {
      const path = join(dir, 'leaky.csv');
      writeFileSync(path, book([brent('ACC-1', 5), `ACC-2,ICE.EU,B,FUT,202612,,${KEY}`, `ACC-3,ICE.EU,B,FUT,202612,,${PLAIN_KEY}`]));

      const error = await errorOf(loadPortfolio(path));

      expect(error).toBeInstanceOf(InputError);
      expectErrorClean('InputError from a CSV cell', error);
    });
  });

  describe('client failures', () => {
    const noRetry = { maxRetries: 0 };
    const client = (endpoint: string, apiKey = KEY, extra: Partial<Parameters<typeof createClient>[0]> = {}): C9Client =>
      createClient({ endpoint, apiKey, retry: noRetry, ...extra });
    const payload = { portfolio: [{ account_code: 'ACC-1', exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202612', net_position: 1 }] };

    it('should keep the key out of a 401 and out of answers that echo the Authorization header', async () => {
      const echo = await captureServer((req, res) => {
        const auth = req.headers.authorization ?? '';
        const route = req.url ?? '';
        if (route.startsWith('/portfolios/batch/b-html')) {
          res.writeHead(500, { 'content-type': 'text/html', 'x-request-id': auth });
          res.end(`<html><body><h1>500</h1><pre>Authorization: ${auth}\nX-Key: ${auth.slice(7)}</pre></body></html>`);
        } else if (route.startsWith('/portfolios/batch/b-json')) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `upstream refused ${auth}` } }));
        } else if (route.startsWith('/portfolios/batch/b-ok-html')) {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(`<p>${auth}</p>`);
        } else if (route.startsWith('/portfolios/batch/b-decode')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ batch_id: auth, status: 7, completed_pct: auth }));
        } else if (route.startsWith('/portfolios/batch/b-cut')) {
          // Headers, then half a body holding the key, then the connection goes.
          const body = JSON.stringify({ error: `key ${auth} `.repeat(50) });
          res.writeHead(500, { 'content-type': 'application/json', 'content-length': String(body.length) });
          res.write(body.slice(0, body.length / 2), () => res.destroy());
        } else {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: `bad request from ${auth}` }));
        }
      });
      try {
        // Thunks: each request starts only when its error is awaited (no rejection left unhandled meanwhile).
        const failures: [string, () => Promise<unknown>][] = [];
        for (const apiKey of [KEY, PLAIN_KEY]) {
          const c = client(echo.url, apiKey);
          failures.push(
            [`401 (${apiKey})`, () => firstValueFrom(client(refusing.url, apiKey).submitBatch(payload))],
            [`500 HTML echo (${apiKey})`, () => firstValueFrom(c.getBatchStatus('b-html'))],
            [`502 JSON echo (${apiKey})`, () => firstValueFrom(c.getBatchStatus('b-json'))],
            [`200 HTML echo (${apiKey})`, () => firstValueFrom(c.getBatchStatus('b-ok-html'))],
            [`200 undecodable echo (${apiKey})`, () => firstValueFrom(c.getBatchStatus('b-decode'))],
            [`body cut mid-way (${apiKey})`, () => firstValueFrom(c.getBatchStatus('b-cut'))],
            [`400 echo on submit (${apiKey})`, () => firstValueFrom(c.submitBatch(payload))],
          );
        }
        for (const [label, failure] of failures) expectErrorClean(label, await errorOf(failure()));
      } finally {
        await echo.close();
      }
    });

    it('should keep the key out of a refused connection and out of a fetch error that carries the request', async () => {
      const port = await closedPort();
      const refused = await errorOf(firstValueFrom(client(`http://127.0.0.1:${port}`).submitBatch(payload)));
      expect(refused).toBeInstanceOf(ConnectionError);
      expectErrorClean('connection refused', refused);

      // Some fetch wrappers (axios-style) reject with the request's config, headers included.
      const leakyFetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
        const headers = (init?.headers ?? {}) as Record<string, string>;
        const inner = Object.assign(new Error(`socket hang up, ${headers.authorization}`), { code: 'ECONNRESET' });
        throw Object.assign(new Error(`request to ${String(url)} failed (${headers.authorization})`), {
          code: 'ECONNRESET',
          config: { url: String(url), headers: { ...headers, 'x-api-key': PLAIN_KEY } },
          cause: inner,
        });
      };
      for (const apiKey of [KEY, PLAIN_KEY]) {
        const error = await errorOf(firstValueFrom(client('http://127.0.0.1:9', apiKey, { fetch: leakyFetch }).getBatchStatus('b-1')));
        expect(error).toBeInstanceOf(ConnectionError);
        expectErrorClean(`fetch error carrying the headers (${apiKey})`, error);
        // What the retry policy and the submit rule need survives the redaction.
        expect((error as ConnectionError).cause).toMatchObject({ code: 'ECONNRESET' });
      }
    });

    it('should keep the key out of every event of runBatch and runBatches and out of the client object', async () => {
      const c = createClient({ endpoint: emulator.url, apiKey: KEY });
      const events = await firstValueFrom(runBatch(c, payload, { poll: { initialIntervalMs: 10 } }).pipe(toArray()));
      const two = { portfolio: [...payload.portfolio, { ...payload.portfolio[0], account_code: 'ACC-2' }] };
      const fanOut = await firstValueFrom(runBatches(c, [two, { portfolio: [{ ...payload.portfolio[0], account_code: 'ACC-3' }] }], { poll: { initialIntervalMs: 10 } }).pipe(toArray()));

      expect(events.map((e) => e.type)).toContain('results');
      expect(fanOut.length).toBeGreaterThan(2);
      for (const event of [...events, ...fanOut]) expectNoSecret(`${event.type} event`, JSON.stringify(event));
      expectNoSecret('client (inspect)', inspect(c, { depth: 5, showHidden: true }));
      expectNoSecret('client (JSON)', JSON.stringify(c));
    });
  });
});

/**
 * Spec support for the emulator: the vendor's OpenAPI schemas as validators, and a small
 * HTTP helper that checks every response body against the schema of its route and status.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import type { EmulatorHandle } from '../../src/emulator';

// The vendor's schema as every developer and CI run has it (../shared); a clone without that
// folder beside it uses the copy kept here (same file, MIT, see openapi/LICENSE-upstream.txt).
const SHARED_OPENAPI = resolve(__dirname, '../../../shared/api/openapi.yaml');
const OPENAPI_PATH = existsSync(SHARED_OPENAPI) ? SHARED_OPENAPI : resolve(__dirname, 'openapi/openapi.yaml');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('uuid', UUID);
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
ajv.addSchema({ $id: 'openapi', components: (parse(readFileSync(OPENAPI_PATH, 'utf8')) as { components: unknown }).components });

const cache = new Map<string, ValidateFunction>();

/** Schema names of components/schemas used by the specs. */
export type SchemaName =
  | 'AccountResult'
  | 'BatchStatus'
  | 'BatchAccepted'
  | 'SyncResponse'
  | 'HealthcheckEntry'
  | 'BadRequestError'
  | 'UnauthorizedError'
  | 'RateLimitedError'
  | 'InternalServerError';

/** Throws with ajv's messages unless `value` matches `#/components/schemas/<name>` (or an array of it). */
export function expectSchema(name: SchemaName, value: unknown, asArray = false): void {
  const key = `${name}${asArray ? '[]' : ''}`;
  let validate = cache.get(key);
  if (!validate) {
    const ref = { $ref: `openapi#/components/schemas/${name}` };
    validate = ajv.compile(asArray ? { type: 'array', items: ref } : ref);
    cache.set(key, validate);
  }
  if (!validate(value)) {
    throw new Error(`response does not match ${key}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
  }
}

/** The schema of an answer, by path and status, as openapi.yaml and CONTRACT.md give it. */
function schemaFor(method: string, path: string, status: number): [SchemaName, boolean] | undefined {
  if (status === 401) return ['UnauthorizedError', false];
  if (status === 429) return ['RateLimitedError', false];
  if (status === 500) return ['InternalServerError', false];
  if (status === 400 || status === 404 || status === 413) return ['BadRequestError', false];
  if (status !== 200 && status !== 202) return undefined;
  const p = path.split('?')[0];
  if (method === 'POST' && p === '/portfolios') return ['SyncResponse', false];
  if (method === 'POST' && p === '/portfolios/batch') return ['BatchAccepted', false];
  if (p.startsWith('/portfolios/batch/')) return ['BatchStatus', false];
  if (p === '/results/accounts') return ['AccountResult', true];
  if (p === '/results') return ['SyncResponse', false];
  if (p === '/healthcheck/analytics-engine') return ['HealthcheckEntry', true];
  return undefined;
}

/** One answer, body parsed. */
export interface Answer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** Loose JSON for assertions. */
export type Loose = any;

/**
 * Sends one request to the emulator and returns the parsed JSON answer, after checking it
 * against the OpenAPI schema of its route and status (`validate: false` only where a fault
 * makes the emulator answer off-schema on purpose).
 */
export async function call<T = Loose>(
  emu: EmulatorHandle,
  method: 'GET' | 'POST',
  path: string,
  opts: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string>; validate?: boolean } = {},
): Promise<Answer<T>> {
  const key = opts.key === undefined ? emu.apiKeys[0] : opts.key;
  const headers: Record<string, string> = { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...opts.headers };
  let body: string | undefined = opts.rawBody;
  if (body === undefined && opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.url}${path}`, { method, headers, body });
  const text = await res.text();
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const parsed: unknown = JSON.parse(text);
  const schema = schemaFor(method, path, res.status);
  if (schema && opts.validate !== false) expectSchema(schema[0], parsed, schema[1]);
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Polls a batch until its status is one of `states` (a spec's own deadline ends a hang). */
export async function waitForBatch(emu: EmulatorHandle, batchId: string, states: readonly string[] = ['completed', 'failed', 'completed_with_errors'], key?: string): Promise<Loose> {
  for (;;) {
    const r = await call(emu, 'GET', `/portfolios/batch/${batchId}`, { key });
    if (states.includes(r.body.status)) return r.body;
    await new Promise((done) => setTimeout(done, 2));
  }
}

/** An ETD position with defaults for what a spec does not care about. */
export function etd(account: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { account_code: account, exchange_code: 'NYMEX', contract_code: 'CL', contract_type: 'FUT', contract_expiry: '202612', net_position: '1', ...overrides };
}

/** The sample portfolio shipped in examples/, as payload positions (every CSV column a string, as a CSV reader gives them). */
export function samplePortfolio(): Record<string, string>[] {
  const lines = readFileSync(resolve(__dirname, '../../examples/sample_portfolio.csv'), 'utf8').trim().split(/\r?\n/);
  const cols = lines[0].split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const row: Record<string, string> = {};
    cols.forEach((c, i) => {
      if (cells[i] !== '') row[c] = cells[i];
    });
    return row;
  });
}

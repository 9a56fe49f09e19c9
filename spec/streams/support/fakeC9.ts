/**
 * An in-memory C9Client for stream specs: batches take `durationMs` of virtual time, report
 * `completed_pct` as they go, and write one row per account into a live store when done.
 */
import { defer, map, throwError, timer, type Observable, type SchedulerLike } from 'rxjs';
import type { AccountResult, BatchStatus, PortfolioRequest, ProcessingMode } from '../../../src/codecs';
import type { AccountResultsQuery, C9Client } from '../../../src/http/client';
import { NotFoundError } from '../../../src/http/errors';

export interface FakeBatch {
  readonly id: string;
  readonly accounts: string[];
  readonly mode: ProcessingMode;
  readonly createdAt: number;
  readonly doneAt: number;
  /** Terminal status once done. */
  readonly outcome: 'completed' | 'failed' | 'completed_with_errors';
}

export interface FakeOptions {
  readonly scheduler: SchedulerLike;
  /** Time each request takes. Default 1. */
  readonly latency?: number;
  /** Processing time of a batch. Default 10. */
  readonly durationMs?: (accounts: string[], index: number) => number;
  /** Makes submit number `index` fail (e.g. with a 413) instead of being accepted. */
  readonly refuse?: (accounts: string[], index: number) => Error | undefined;
  /** Terminal status of batch number `index`. Default completed. */
  readonly outcome?: (index: number) => FakeBatch['outcome'];
  /** Replaces status answers (e.g. to script stalls); receives the computed one. */
  readonly status?: (computed: BatchStatus, batch: FakeBatch, call: number) => BatchStatus;
  /** Rows appear in the store this long after a batch is done. Default 0. */
  readonly resultsLagMs?: number;
}

export interface RequestRecord {
  readonly at: number;
  readonly kind: 'submit' | 'status' | 'results';
  readonly detail: string;
}

export function fakeC9(options: FakeOptions) {
  const { scheduler, latency = 1, durationMs = () => 10, refuse = () => undefined, outcome = () => 'completed', resultsLagMs = 0 } = options;
  const batches: FakeBatch[] = [];
  const requests: RequestRecord[] = [];
  const statusCalls = new Map<string, number>();
  const now = () => scheduler.now();
  const answer = <T>(compute: () => T): Observable<T> => timer(latency, scheduler).pipe(map(() => compute()));
  const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  const statusOf = (b: FakeBatch): BatchStatus => {
    const t = now();
    const base = { batch_id: b.id, created_at: new Date(b.createdAt).toISOString() };
    if (t >= b.doneAt) return { ...base, status: b.outcome, completed_pct: 100, runtime_ms: b.doneAt - b.createdAt };
    return { ...base, status: 'processing', completed_pct: Math.floor((100 * (t - b.createdAt)) / (b.doneAt - b.createdAt)) };
  };

  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call to ${name}`);
  };

  const client: C9Client = {
    endpoint: 'http://127.0.0.1:1',
    submitBatch(payload: PortfolioRequest, submitOptions = {}) {
      return defer(() => {
        const accounts = [...new Set(payload.portfolio.map((p) => p.account_code))];
        const index = requests.filter((r) => r.kind === 'submit').length;
        const mode = submitOptions.processingMode ?? 'fifo';
        requests.push({ at: now(), kind: 'submit', detail: `${accounts.join(',')}:${mode}` });
        const refusal = refuse(accounts, index);
        if (refusal) return timer(latency, scheduler).pipe(map(() => { throw refusal; }));
        return answer(() => {
          const n = batches.length + 1;
          const createdAt = now();
          batches.push({ id: idOf(n), accounts, mode, createdAt, doneAt: createdAt + durationMs(accounts, n - 1), outcome: outcome(n - 1) });
          return { batch_id: idOf(n) };
        });
      });
    },
    getBatchStatus(batchId: string) {
      return defer(() => {
        requests.push({ at: now(), kind: 'status', detail: batchId });
        const call = statusCalls.get(batchId) ?? 0;
        statusCalls.set(batchId, call + 1);
        const batch = batches.find((b) => b.id === batchId);
        if (!batch) return throwError(() => new NotFoundError({ status: 404, body: '{"error":"batch not found"}' }));
        return answer(() => ({ status: options.status ? options.status(statusOf(batch), batch, call) : statusOf(batch), retryAfterMs: undefined }));
      });
    },
    getAccountResults(query: AccountResultsQuery = {}) {
      return defer(() => {
        const wanted = query.accountCodes ? [...query.accountCodes].sort() : undefined;
        requests.push({ at: now(), kind: 'results', detail: wanted ? wanted.join(',') : '*' });
        return answer(() => {
          const latest = new Map<string, AccountResult>();
          for (const b of batches) {
            if (b.outcome === 'failed' || now() < b.doneAt + resultsLagMs) continue;
            b.accounts.forEach((account, i) => {
              latest.set(account, {
                account_code: account,
                portfolio_id: `${b.id}-${account}`,
                request_id: b.id,
                submitted_time: new Date(b.createdAt).toISOString(),
                currency_code: 'USD',
                initial_margin: 100 * (i + 1),
                status: 'ok',
              });
            });
          }
          return [...latest.values()].filter((row) => !wanted || wanted.includes(row.account_code));
        });
      });
    },
    calculate: unexpected('calculate'),
    getResults: unexpected('getResults'),
    healthcheck: unexpected('healthcheck'),
  };
  return { client, batches, requests, idOf };
}

/** A payload of one futures position per account. */
export function payloadOf(...accounts: string[]): PortfolioRequest {
  return {
    portfolio: accounts.map((account_code) => ({
      account_code,
      exchange_code: 'CME',
      contract_code: 'ES',
      contract_type: 'FUT',
      contract_expiry: '202512',
      net_position: 1,
    })),
  };
}

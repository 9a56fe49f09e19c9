/**
 * Library use: the three operators composed by hand, then the same flow as one runBatch
 * stream with progress events, and what the errors look like.
 *
 *   npm run example -- examples/library-usage.ts
 *
 * Against the real API set C9_API_ENDPOINT and C9_API_SECRET; without them it starts the
 * embedded emulator and runs against that.
 */
import { firstValueFrom, last, map, of, switchMap, tap } from 'rxjs';
import {
  ApiError,
  AuthenticationError,
  BatchFailedError,
  BatchTimeoutError,
  createClient,
  fetchBatchResults,
  loadPortfolio,
  pollUntilTerminal,
  runBatch,
  startEmulator,
  submitBatch,
  type BatchResults,
  type C9Client,
} from '../src';

async function connect(): Promise<{ client: C9Client; close: () => Promise<void> }> {
  const endpoint = process.env.C9_API_ENDPOINT;
  if (endpoint) {
    return { client: createClient({ endpoint, apiKey: process.env.C9_API_SECRET ?? '' }), close: async () => undefined };
  }
  const emulator = await startEmulator({ msPerAccount: 5 });
  console.error(`no C9_API_ENDPOINT: using the embedded emulator at ${emulator.url}`);
  return { client: createClient({ endpoint: emulator.url, apiKey: emulator.apiKeys[0] }), close: () => emulator.close() };
}

/** submit → poll → fetch, one operator each: the vendor's documented flow as one pipe. */
function composeOperators(client: C9Client, file: string): Promise<BatchResults> {
  return firstValueFrom(
    of(file).pipe(
      switchMap((path) => loadPortfolio(path)),
      submitBatch(client, { processingMode: 'fifo' }),
      switchMap((batch) =>
        of(batch).pipe(
          pollUntilTerminal(client, { initialIntervalMs: 250, timeoutMs: 5 * 60_000 }),
          tap((status) => console.error(`  ${status.batch_id} ${status.status} ${status.completed_pct ?? 0}%`)),
          last(), // the terminal status
          map((status) => ({ batch, status })),
        ),
      ),
      fetchBatchResults(client),
    ),
  );
}

/** The same flow as one stream of typed events, for a progress display. */
function withProgress(client: C9Client, file: string): Promise<BatchResults> {
  return firstValueFrom(
    of(file).pipe(
      switchMap((path) => loadPortfolio(path)),
      switchMap((payload) => runBatch(client, payload, { poll: { initialIntervalMs: 250 } })),
      tap((event) => {
        if (event.type === 'submitted') console.error(`  submitted ${event.batch.batchId} (${event.batch.accountCodes.length} accounts)`);
        if (event.type === 'status') console.error(`  ${event.status.status} ${event.status.completed_pct ?? 0}%`);
      }),
      last(),
      map((event) => {
        if (event.type !== 'results') throw new Error('runBatch always ends with its results');
        return event.results;
      }),
    ),
  );
}

/** One line per failure kind: every error of the library is a C9Error subclass. */
function explain(error: unknown): string {
  if (error instanceof AuthenticationError) return 'the API key was refused (check C9_API_SECRET)';
  if (error instanceof BatchFailedError) return `batch ${error.batchId} failed: ${error.reason ?? 'no reason given'}`;
  if (error instanceof BatchTimeoutError) return `batch ${error.batchId} still ${error.lastStatus ?? 'unanswered'} after ${error.elapsedMs} ms`;
  if (error instanceof ApiError) return `HTTP ${error.status}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  const { client, close } = await connect();
  try {
    console.error('1. operators composed by hand');
    const first = await composeOperators(client, 'examples/sample_portfolio.csv');
    console.log(`   ${first.rows.length} account(s), total initial margin ${first.totalInitialMargin.toFixed(2)} ${first.currencyCode ?? ''}`);

    console.error('2. runBatch with progress events');
    const second = await withProgress(client, 'examples/vendor_flow_200.csv');
    const top = [...second.rows].sort((a, b) => (b.initial_margin ?? 0) - (a.initial_margin ?? 0)).slice(0, 5);
    console.log(`   ${second.rows.length} accounts, total ${second.totalInitialMargin.toFixed(2)} ${second.currencyCode ?? ''}`);
    for (const row of top) console.log(`   ${row.account_code}  ${row.initial_margin}`);

    console.error('3. an error: a key the server does not know');
    const wrongKey = createClient({ endpoint: client.endpoint, apiKey: 'sk-not-a-real-key' });
    await composeOperators(wrongKey, 'examples/sample_portfolio.csv').catch((error: unknown) => console.log(`   ${explain(error)}`));
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(explain(error));
  process.exitCode = 1;
});

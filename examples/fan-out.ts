/**
 * Fan-out: one large portfolio split by account into many batches, run a few at a time,
 * with one report at the end (the same one `c9-batch run` prints).
 *
 *   npm run example -- examples/fan-out.ts [file] [accounts-per-batch] [concurrency]
 *
 * Against the real API set C9_API_ENDPOINT and C9_API_SECRET; without them it starts the
 * embedded emulator and runs against that.
 */
import { catchError, from, lastValueFrom, map, mergeMap, of, reduce } from 'rxjs';
import {
  buildReport,
  chunkByAccount,
  createClient,
  exitCodeFor,
  formatReportText,
  loadPortfolio,
  runBatch,
  startEmulator,
  type BatchEvent,
  type BatchOutcome,
  type C9Client,
  type PortfolioRequest,
} from '../src';

/** Runs every chunk, at most `concurrency` batches in flight, and folds the events into one outcome per batch. */
function runAll(client: C9Client, chunks: readonly PortfolioRequest[], concurrency: number): Promise<BatchOutcome[]> {
  type Outcomes = Map<number, BatchOutcome>;
  return lastValueFrom(
    from(chunks).pipe(
      mergeMap(
        (chunk, index) =>
          runBatch(client, chunk, { poll: { initialIntervalMs: 250 } }).pipe(
            // A failed batch is reported with the others instead of ending the whole run.
            catchError((error: unknown) => of({ type: 'error' as const, error: error instanceof Error ? error : new Error(String(error)) })),
            map((event: BatchEvent | { type: 'error'; error: Error }) => ({ index, event })),
          ),
        concurrency,
      ),
      reduce((outcomes: Outcomes, { index, event }) => {
        const previous = outcomes.get(index);
        if (event.type === 'submitted') {
          console.error(`batch ${index + 1}/${chunks.length}: submitted ${event.batch.batchId}`);
          outcomes.set(index, { batch: event.batch });
        } else if (event.type === 'status' && previous) outcomes.set(index, { ...previous, status: event.status });
        else if (event.type === 'results' && previous) {
          console.error(`batch ${index + 1}/${chunks.length}: ${event.results.rows.length} rows`);
          outcomes.set(index, { ...previous, results: event.results });
        } else if (event.type === 'error' && previous) outcomes.set(index, { ...previous, error: event.error });
        else if (event.type === 'error') throw event.error; // refused before it was accepted: stop
        return outcomes;
      }, new Map<number, BatchOutcome>()),
      // Back in submission order for the report.
      map((outcomes) => [...outcomes.entries()].sort(([a], [b]) => a - b).map(([, outcome]) => outcome)),
    ),
  );
}

async function main(): Promise<void> {
  const [file = 'examples/vendor_flow_200.csv', perBatch = '25', concurrency = '4'] = process.argv.slice(2);
  const endpoint = process.env.C9_API_ENDPOINT;
  const emulator = endpoint ? undefined : await startEmulator({ workers: 4, msPerAccount: 5 });
  const client = createClient(
    emulator ? { endpoint: emulator.url, apiKey: emulator.apiKeys[0] } : { endpoint: endpoint ?? '', apiKey: process.env.C9_API_SECRET ?? '' },
  );
  try {
    const payload = await loadPortfolio(file);
    const chunks = chunkByAccount(payload, { maxAccounts: Number(perBatch) });
    console.error(`${payload.portfolio.length} positions → ${chunks.length} batches of at most ${perBatch} accounts, ${concurrency} at a time`);
    const outcomes = await runAll(client, chunks, Number(concurrency));
    const report = buildReport(outcomes);
    process.stdout.write(formatReportText(report));
    process.exitCode = exitCodeFor(report);
  } finally {
    await emulator?.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});

/**
 * Fan-out: one large portfolio split by account into many batches, a few in flight at once.
 *
 *   npm run example -- examples/fan-out.ts [file] [accounts-per-batch] [concurrency]
 *
 * 1. By hand: chunkByAccount, then mergeMap's concurrency over runBatch.
 * 2. runBatches: the same plus the overlap guard, shared polling and results, 413 splits,
 *    per-batch errors and the final report; the accepted batches are recorded in a state
 *    file, and resumeBatches picks them up again from it (as after a crash).
 *
 * Against the real API set C9_API_ENDPOINT and C9_API_SECRET; without them it starts the
 * embedded emulator and runs against that.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, from, lastValueFrom, map, mergeMap, tap, toArray } from 'rxjs';
import {
  chunkByAccount,
  createClient,
  exitCodeFor,
  formatReportText,
  loadHandles,
  loadPortfolio,
  recordHandles,
  resumeBatches,
  runBatch,
  runBatches,
  startEmulator,
  type BatchEvent,
  type BatchRunEvent,
  type RunBatchesEvent,
  type RunReport,
} from '../src';

/** One line per event worth a person's attention. */
function describe(event: BatchRunEvent): string | undefined {
  switch (event.type) {
    case 'submitted':
      return `submitted ${event.batch.batchId} (${event.batch.accountCodes.length} accounts)`;
    case 'waiting':
      return `chunk ${event.chunk} waits for ${event.blockedBy.join(', ')}: they share accounts`;
    case 'split':
      return `chunk ${event.chunk} was too large: split into ${event.into.join(' and ')}`;
    case 'stalled':
      return `${event.batch.batchId}: no change in ${event.polls} polls`;
    case 'error':
      return `chunk ${event.chunk}: ${event.error.message}`;
    default:
      return undefined;
  }
}

/** The report at the end of a runBatches/resumeBatches stream. */
function reportOf(events: Promise<RunBatchesEvent>): Promise<RunReport> {
  return events.then((event) => {
    if (event.type !== 'report') throw new Error('the stream ends with its report');
    return event.report;
  });
}

async function main(): Promise<void> {
  const [file = 'examples/vendor_flow_200.csv', perBatch = '25', concurrency = '4'] = process.argv.slice(2);
  const endpoint = process.env.C9_API_ENDPOINT;
  const emulator = endpoint ? undefined : await startEmulator({ workers: 4, msPerAccount: 5 });
  const client = createClient(
    emulator ? { endpoint: emulator.url, apiKey: emulator.apiKeys[0] } : { endpoint: endpoint ?? '', apiKey: process.env.C9_API_SECRET ?? '' },
  );
  const scratch = mkdtempSync(join(tmpdir(), 'c9-fan-out-'));
  try {
    const payload = await loadPortfolio(file);

    // 1. By hand.
    const chunks = chunkByAccount(payload, { maxAccounts: Number(perBatch) });
    const results = await lastValueFrom(
      from(chunks).pipe(
        mergeMap((chunk) => runBatch(client, chunk, { poll: { initialIntervalMs: 250 } }), Number(concurrency)),
        filter((event): event is Extract<BatchEvent, { type: 'results' }> => event.type === 'results'),
        map(({ results: picked }) => picked),
        toArray(),
      ),
    );
    const total = results.reduce((sum, r) => sum + r.totalInitialMargin, 0);
    console.log(`1. by hand: ${chunks.length} batches, ${results.reduce((n, r) => n + r.rows.length, 0)} accounts, total ${total.toFixed(2)}`);

    // 2. runBatches, recording every accepted batch in a state file.
    const state = join(scratch, 'run.state.json');
    const report = await reportOf(
      lastValueFrom(
        runBatches(client, { payload, maxAccounts: Number(perBatch) }, { concurrency: Number(concurrency) }).pipe(
          recordHandles(state),
          tap((event) => {
            const line = event.type === 'report' ? undefined : describe(event);
            if (line !== undefined) console.error(`   ${line}`);
          }),
        ),
      ),
    );
    console.log('2. runBatches:');
    process.stdout.write(formatReportText(report));

    // 3. resumeBatches from the state file: nothing is submitted again.
    const handles = await loadHandles(state);
    const resumed = await reportOf(lastValueFrom(resumeBatches(client, handles)));
    console.log(`3. resumed ${handles.length} saved batches: ${resumed.accounts_fetched} accounts, total ${resumed.total_initial_margin.toFixed(2)}`);
    process.exitCode = exitCodeFor(report);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await emulator?.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});

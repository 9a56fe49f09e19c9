/**
 * Cancelling: unsubscribing stops everything at once (the request in flight is aborted,
 * no timer is left), whether the trigger is a deadline, an AbortSignal or Ctrl-C.
 *
 *   npm run example -- examples/cancel.ts
 *
 * Runs against the embedded emulator, which it tells to keep every batch queued so there
 * is something to cancel. Cancelling stops this client; the batch stays on the server.
 */
import { firstValueFrom, fromEvent, lastValueFrom, merge, of, takeUntil, tap, timer } from 'rxjs';
import { createClient, pollUntilTerminal, runBatch, startEmulator, submitBatch, type PortfolioRequest } from '../src';

async function main(): Promise<void> {
  const emulator = await startEmulator();
  const client = createClient({ endpoint: emulator.url, apiKey: emulator.apiKeys[0] });
  emulator.faults.holdBatch('*', 'queued'); // a batch that never ends
  const payload: PortfolioRequest = {
    portfolio: [{ account_code: 'A1', exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202606', net_position: '10' }],
  };

  try {
    // 1. A deadline of our own: takeUntil unsubscribes runBatch after 1.5 s, mid-poll.
    const seen: string[] = [];
    await lastValueFrom(
      runBatch(client, payload, { poll: { initialIntervalMs: 200 } }).pipe(
        tap((event) => seen.push(event.type === 'status' ? event.status.status : event.type)),
        takeUntil(timer(1500)),
      ),
      { defaultValue: undefined },
    );
    const pollsAtCancel = emulator.stats.requests.status;
    await firstValueFrom(timer(1000));
    console.log(`1. cancelled after ${seen.join(' → ')}; status requests in the second after: ${emulator.stats.requests.status - pollsAtCancel}`);

    // 2. An AbortSignal, from whoever owns the work (a UI, a request scope): the same takeUntil.
    const batch = await firstValueFrom(of(payload).pipe(submitBatch(client)));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const lastSeen = await lastValueFrom(
      of(batch).pipe(pollUntilTerminal(client, { initialIntervalMs: 100 }), takeUntil(fromEvent(controller.signal, 'abort'))),
      { defaultValue: undefined },
    );
    console.log(`2. aborted by the signal; last status ${lastSeen?.status ?? 'none'}; batch ${batch.batchId} is still queued on the server`);

    // 3. Ctrl-C: the process's SIGINT as the trigger (while subscribed, Ctrl-C no longer kills the process).
    console.log('3. press Ctrl-C within 3 s to cancel the run (or wait)');
    const interrupted = fromEvent(process, 'SIGINT').pipe(tap(() => console.log('   Ctrl-C: cancelled')));
    await lastValueFrom(runBatch(client, payload).pipe(takeUntil(merge(interrupted, timer(3000)))), { defaultValue: undefined });
  } finally {
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});

'use strict';
/**
 * P3's client, one per measurement so each peak RSS is its own: reads the CSV and submits it
 * (`mode` one | chunked | loaded), then reports time and peak memory over IPC.
 *
 * - one: `openPortfolio` + one `client.submitBatch(book)`: the file is checked once, then read
 *   again while the body is written (what an unchunked `c9-batch run` does);
 * - chunked: `openPortfolio` + `book.chunks({ maxAccounts })`, 4 submits in flight (the default
 *   --concurrency): what `c9-batch run --chunk-accounts` does; each chunk reads only its own
 *   rows of the file (a file grouped by account, as this one is) while its body is written;
 * - loaded: `loadPortfolio` + one submit, and loaded-chunked: `loadPortfolio` + `chunkByAccount`
 *   (the paths before openPortfolio, for comparison; P3_MODES=one,chunked,loaded,loaded-chunked).
 */
const fs = require('node:fs');
const { firstValueFrom, from, lastValueFrom, mergeMap } = require('rxjs');
const { createClient, loadPortfolio, openPortfolio, chunkByAccount } = require('../dist');
const { peakRssBytes } = require('./lib/peakRss');
const { childOptions } = require('./lib/proc');

/** `c9-batch run --concurrency` by default. */
const CONCURRENCY = 4;

async function main() {
  const { mode, file, url, apiKey, maxAccounts } = childOptions();
  const client = createClient({ endpoint: url, apiKey });
  const baselineRss = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  let batches = 0;
  let positions = 0;
  let submitNs = 0n;
  const submit = async (payload) => {
    const s0 = process.hrtime.bigint();
    await firstValueFrom(client.submitBatch(payload));
    submitNs += process.hrtime.bigint() - s0;
    batches++;
    positions += payload.portfolio.length;
  };
  let afterLoad;
  let afterOpen;
  const load = async () => {
    const payload = await loadPortfolio(file);
    const m = process.memoryUsage();
    afterLoad = { rss: m.rss, heapUsed: m.heapUsed };
    return payload;
  };
  if (mode === 'one') {
    // The public streamed path: the file is checked once, then read again while the body is written.
    const book = await openPortfolio(file);
    afterOpen = { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, accounts: book.accountCodes.length };
    const s0 = process.hrtime.bigint();
    await firstValueFrom(client.submitBatch(book));
    submitNs += process.hrtime.bigint() - s0;
    batches++;
    positions += book.positionCount;
  } else if (mode === 'loaded') {
    await submit(await load());
  } else if (mode === 'chunked') {
    const book = await openPortfolio(file);
    afterOpen = { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, accounts: book.accountCodes.length };
    const chunks = book.chunks({ maxAccounts });
    const s0 = process.hrtime.bigint();
    await lastValueFrom(from(chunks).pipe(mergeMap((chunk) => client.submitBatch(chunk), CONCURRENCY)), { defaultValue: undefined });
    submitNs += process.hrtime.bigint() - s0;
    batches += chunks.length;
    positions += book.positionCount;
  } else if (mode === 'loaded-chunked') {
    const payload = await load();
    for (const chunk of chunkByAccount(payload, { maxAccounts })) await submit(chunk);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const peak = peakRssBytes();
  // Read after the peak: what V8 had grown its spaces to (the young generation doubles once
  // enough bytes survive young collections, up to 32 MB, and stays so: most of a peak's swings).
  const spaces = Object.fromEntries(require('node:v8').getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  const heapAtEnd = { young: spaces.new_space + spaces.new_large_object_space, old: spaces.old_space + spaces.large_object_space + spaces.code_space, arrayBuffers: process.memoryUsage().arrayBuffers };
  process.send({ ms, submitMs: Number(submitNs) / 1e6, batches, positions, baselineRss, afterLoad, afterOpen, peakRssBytes: peak, heapAtEnd }, () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`p3-client: ${error.stack ?? error}\n`);
  process.exit(1);
});

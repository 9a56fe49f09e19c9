'use strict';
/**
 * P3's client, one per measurement so each peak RSS is its own: reads the CSV and submits it
 * (`mode` one | chunked | streamed), then reports time and peak memory over IPC.
 *
 * - one: `loadPortfolio` + one `client.submitBatch` (the body is streamed by serializePayload);
 * - chunked: `loadPortfolio` + `chunkByAccount({ maxAccounts })` + one submit after the other;
 * - streamed: `readPositions` and a submit each time `maxAccounts` whole accounts have been
 *   read, so the whole portfolio is never in memory (needs a file grouped by account, as the
 *   generated one is; a bench-side sketch, not a library API).
 */
const fs = require('node:fs');
const { firstValueFrom } = require('rxjs');
const { createClient, loadPortfolio, readPositions, chunkByAccount } = require('../dist');
const { childOptions } = require('./lib/proc');

function vmHwmBytes() {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

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
  const load = async () => {
    const payload = await loadPortfolio(file);
    const m = process.memoryUsage();
    afterLoad = { rss: m.rss, heapUsed: m.heapUsed };
    return payload;
  };
  if (mode === 'one') {
    await submit(await load());
  } else if (mode === 'chunked') {
    const payload = await load();
    for (const chunk of chunkByAccount(payload, { maxAccounts })) await submit(chunk);
  } else if (mode === 'streamed') {
    let chunk = [];
    let accounts = 0;
    let current;
    for await (const p of readPositions(file, 'csv')) {
      if (p.account_code !== current) {
        current = p.account_code;
        if (accounts === maxAccounts) {
          await submit({ portfolio: chunk });
          chunk = [];
          accounts = 0;
        }
        accounts++;
      }
      chunk.push(p);
    }
    if (chunk.length) await submit({ portfolio: chunk });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.send({ ms, submitMs: Number(submitNs) / 1e6, batches, positions, baselineRss, afterLoad, maxRssBytes: process.resourceUsage().maxRSS * 1024, vmHwmBytes: vmHwmBytes() }, () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`p3-client: ${error.stack ?? error}\n`);
  process.exit(1);
});

'use strict';
/**
 * The emulator in its own process, for the benchmark: `startEmulator` from dist with the
 * options the parent passes (argv[2], JSON), plus bench-only requests over IPC:
 * - `stats`: the request counters of `handle.stats.requests` (per route and total);
 * - `resetStats`: zeroes them (so a measured phase counts only its own requests);
 * - `hold` / `release`: `faults.holdBatch('*', state)` / `faults.releaseBatch('*')`;
 * - `memory`: this process's peak RSS, so the server side of a figure can be reported too;
 * - `takeAccepted`: the batches accepted since the last call and their positions, as parsed by
 *   the server (needs `recordBatchPayloads: true`), so a figure can check what arrived rather
 *   than what the client says it sent.
 */
const { startEmulator } = require('../dist/emulator');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { serveParent, childOptions } = require('./lib/proc');

async function main() {
  const { hold, users = 1, ...options } = childOptions();
  // Several users when the parent wants to warm up on a store other than the measured one.
  const apiKeys = Array.from({ length: users }, (_, i) => `sk-bench-${String(i).padStart(16, '0')}`);
  const handle = await startEmulator({ apiKeys, capturePayloads: false, ...options });
  if (hold) handle.faults.holdBatch('*', hold);
  const requests = handle.stats.requests;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  serveParent(
    { url: handle.url, apiKey: apiKeys[0], info: { apiKeys } },
    {
      stats: () => ({ ...requests, total: Object.values(requests).reduce((a, b) => a + b, 0) }),
      resetStats: () => {
        for (const k of Object.keys(requests)) requests[k] = 0;
        return true;
      },
      hold: (state) => handle.faults.holdBatch('*', state),
      release: () => handle.faults.releaseBatch('*'),
      loopDelay: () => ({ maxMs: loop.max / 1e6, meanMs: loop.mean / 1e6 }),
      memory: () => ({ maxRssBytes: process.resourceUsage().maxRSS * 1024 }),
      takeAccepted: () => {
        const payloads = handle.stats.batchPayloads;
        let positions = 0;
        for (const p of payloads.values()) positions += Array.isArray(p?.portfolio) ? p.portfolio.length : 0;
        const batches = payloads.size;
        payloads.clear();
        return { batches, positions };
      },
    },
    () => handle.close(),
  );
}

main().catch((error) => {
  process.stderr.write(`emulator-server: ${error.stack ?? error}\n`);
  process.exit(1);
});

'use strict';
/**
 * P2 results: fetch + decode + filter of one batch's rows out of a large live store, against
 * a `JSON.parse` of the same body in the same process.
 *
 * The store is served by bench/results-server.js (own process, prebuilt body). Measured with
 * the library's own path: `fetchBatchResults` (= `client.getAccountResults({ accountCodes })`,
 * which parses, keeps the batch's rows and decodes only those, then `selectBatchResults`).
 */
const http = require('node:http');
const { firstValueFrom, of } = require('rxjs');
const { createClient, fetchBatchResults } = require('../dist');
const { startChild } = require('./lib/proc');
const { median, nowMs, gc } = require('./lib/util');

/** The body as text, read with a bare request (the baseline parses exactly what the client received). */
function fetchText(url) {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * @param {{ rows: number, reps: number, log: (s: string) => void }} o
 */
async function runP2({ rows, reps, log }) {
  log(`P2: building a live store of ${rows} rows (emulator row builder) in its own process`);
  const server = await startChild('results-server.js', { rows });
  try {
    const { bytes, stampedAt, groupIds, group } = server.info;
    log(`  store: ${rows} rows, ${(bytes / 1e6).toFixed(1)} MB of JSON (${Math.round(bytes / rows)} B/row)`);
    const client = createClient({ endpoint: server.url, apiKey: server.apiKey });
    const createdAt = new Date(stampedAt - 1000).toISOString();
    const status = { batch_id: groupIds[0], status: 'completed', created_at: createdAt, completed_at: new Date(stampedAt).toISOString(), runtime_ms: 1000, completed_pct: 100 };
    const codes = (from, to) => Array.from({ length: to - from }, (_, i) => `ACC${String(from + i).padStart(6, '0')}`);
    // A batch of 1,000 accounts from the middle of the store, and one holding every account.
    const mid = Math.floor(rows / 2 / group) * group;
    const small = { batchId: groupIds[mid / group], accountCodes: codes(mid, Math.min(rows, mid + 1000)), submittedAt: createdAt, processingMode: 'fifo' };
    const whole = { batchId: groupIds[0], accountCodes: codes(0, rows), submittedAt: createdAt, processingMode: 'fifo' };

    const fetchOnce = async (batch) => {
      gc();
      const t0 = nowMs();
      const picked = await firstValueFrom(of({ batch, status: { ...status, batch_id: batch.batchId } }).pipe(fetchBatchResults(client)));
      const ms = nowMs() - t0;
      if (picked.rows.length !== batch.accountCodes.length || picked.missing.length || picked.stale.length) {
        throw new Error(`P2: expected ${batch.accountCodes.length} fresh rows, got ${picked.rows.length} (missing ${picked.missing.length}, stale ${picked.stale.length})`);
      }
      return ms;
    };
    const text = await fetchText(`${server.url}/results/accounts`);
    const parseOnce = () => {
      gc();
      const t0 = nowMs();
      const parsed = JSON.parse(text);
      const ms = nowMs() - t0;
      if (parsed.length !== rows) throw new Error('P2: baseline parsed a wrong number of rows');
      return ms;
    };

    // One untimed round first: JIT and socket warm-up would otherwise land on whichever goes first.
    await fetchOnce(small);
    parseOnce();
    const t = { parse: [], small: [], whole: [] };
    for (let r = 0; r < reps; r++) {
      t.parse.push(parseOnce());
      t.small.push(await fetchOnce(small));
      t.whole.push(await fetchOnce(whole));
    }
    const parse = median(t.parse);
    const smallMs = median(t.small);
    const wholeMs = median(t.whole);
    log(`  JSON.parse ${parse.toFixed(0)} ms; batch of 1,000: ${smallMs.toFixed(0)} ms; batch of ${rows}: ${wholeMs.toFixed(0)} ms (medians of ${reps})`);
    const mbps = (bytes / 1e6) / (parse / 1000);
    return {
      figures: [
        {
          id: 'P2a',
          name: 'results, batch of 1,000 ÷ JSON.parse',
          value: smallMs / parse,
          target: { op: '<=', value: 1.3 },
          detail: `fetch+decode+filter ${smallMs.toFixed(0)} ms ÷ JSON.parse ${parse.toFixed(0)} ms of the same ${(bytes / 1e6).toFixed(0)} MB body (${rows} rows; median of ${reps})`,
        },
        {
          id: 'P2b',
          name: `results, batch of all ${rows} ÷ JSON.parse`,
          value: wholeMs / parse,
          target: { op: '<=', value: 2.0 },
          detail: `fetch+decode+filter ${wholeMs.toFixed(0)} ms ÷ JSON.parse ${parse.toFixed(0)} ms (JSON.parse alone: ${mbps.toFixed(0)} MB/s)`,
        },
      ],
      raw: { rows, bytes, parseMs: t.parse, smallMs: t.small, wholeMs: t.whole },
    };
  } finally {
    await server.close();
  }
}

module.exports = { runP2 };

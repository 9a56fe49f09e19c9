'use strict';
/**
 * P3 large submit: a CSV of N positions submitted as one batch, in a fresh client process
 * each time (bench/p3-client.js), peak RSS ÷ file size and MB/s; the same file chunked by
 * account beside it. The emulator (own process) holds every batch queued, so it spends its
 * CPU on receiving and validating bodies only, as the server side of a submit does.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork, execFileSync } = require('node:child_process');
const { startChild } = require('./lib/proc');

const POSITIONS_PER_ACCOUNT = 5;

/** The CSV of `positions` positions made by examples/generate-portfolio.js (deterministic, so kept between runs). */
function portfolioFile(positions, log) {
  const dir = path.join(os.tmpdir(), 'c9-batch-bench');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `positions-${positions}.csv`);
  if (!fs.existsSync(file)) {
    log(`  generating ${file} with examples/generate-portfolio.js`);
    const generator = path.join(__dirname, '..', 'examples', 'generate-portfolio.js');
    const tmp = `${file}.${process.pid}.tmp`;
    execFileSync(process.execPath, [generator, '--accounts', String(positions / POSITIONS_PER_ACCOUNT), '--positions', String(POSITIONS_PER_ACCOUNT), '--out', tmp, '--seed', '5'], { stdio: 'ignore' });
    fs.renameSync(tmp, file);
  }
  return file;
}

const mb = (bytes) => (bytes / 1e6).toFixed(0);

function runClient(options) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'p3-client.js'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result;
    child.on('message', (m) => (result = m));
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`p3-client (${options.mode}) exited with ${code}`))));
  });
}

/**
 * @param {{ positions: number, maxAccounts?: number, log: (s: string) => void }} o
 */
async function runP3({ positions, maxAccounts = 1000, log }) {
  const file = portfolioFile(positions, log);
  const size = fs.statSync(file).size;
  log(`P3: ${positions} positions (${positions / POSITIONS_PER_ACCOUNT} accounts), CSV ${(size / 1e6).toFixed(1)} MB`);
  const emu = await startChild('emulator-server.js', { workers: 1, hold: 'queued', recordBatchPayloads: true });
  const results = {};
  try {
    for (const mode of (process.env.P3_MODES ?? 'one,chunked').split(',')) {
      const r = await runClient({ mode, file, url: emu.url, apiKey: emu.apiKey, maxAccounts });
      if (r.positions !== positions) throw new Error(`P3 ${mode}: submitted ${r.positions} positions, expected ${positions}`);
      // Counted at the server too: a body that lost positions would also need less memory.
      const accepted = await emu.call('takeAccepted');
      if (accepted.positions !== positions || accepted.batches !== r.batches) {
        throw new Error(`P3 ${mode}: the server accepted ${accepted.positions} positions in ${accepted.batches} batches; the client sent ${positions} in ${r.batches}`);
      }
      const peak = r.peakRssBytes;
      results[mode] = { ...r, peak, mbPerS: size / 1e6 / (r.ms / 1000) };
      log(
        `  ${mode.padEnd(8)}: ${r.batches} batch(es), ${(r.ms / 1000).toFixed(2)} s (${(r.submitMs / 1000).toFixed(2)} s of it waiting for 202s), ` +
          `${(size / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s, peak RSS ${(peak / 1e6).toFixed(0)} MB (${(peak / size).toFixed(2)}× file; ` +
          `${(r.baselineRss / 1e6).toFixed(0)} MB before reading` +
          (r.afterLoad ? `, ${(r.afterLoad.rss / 1e6).toFixed(0)} MB with the file loaded, JS heap ${(r.afterLoad.heapUsed / 1e6).toFixed(0)} MB)` : '') +
          (r.afterOpen ? `, ${(r.afterOpen.rss / 1e6).toFixed(0)} MB once opened, JS heap ${(r.afterOpen.heapUsed / 1e6).toFixed(0)} MB)` : '') +
          (r.afterLoad || r.afterOpen ? '' : ')') +
          (r.heapAtEnd ? `; V8 at the end: young ${mb(r.heapAtEnd.young)} MB, old ${mb(r.heapAtEnd.old)} MB, ArrayBuffers ${mb(r.heapAtEnd.arrayBuffers)} MB` : ''),
      );
    }
  } finally {
    await emu.close();
  }
  const { one, chunked } = results;
  const over = (r) => ((r.peak - r.baselineRss) / size).toFixed(2);
  return {
    figures: [
      {
        id: 'P3',
        name: 'large submit: peak RSS ÷ CSV size',
        value: one.peak / size,
        target: { op: '<=', value: 2.5 },
        detail:
          `one batch (openPortfolio + client.submitBatch, the path of an unchunked c9-batch run): ${(one.peak / 1e6).toFixed(0)} MB peak for ${(size / 1e6).toFixed(1)} MB CSV, ` +
          `of which ${(one.baselineRss / 1e6).toFixed(0)} MB is the started client before reading (Node + rxjs + cross-fetch), ${over(one)}× above it; ` +
          `${(one.afterOpen.rss / 1e6).toFixed(0)} MB RSS / ${(one.afterOpen.heapUsed / 1e6).toFixed(1)} MB JS heap once opened (${one.afterOpen.accounts} account codes kept); ` +
          `V8's young generation ${mb(one.heapAtEnd.young)} MB at the end (V8 doubles it, up to 34 MB, as bytes survive young collections); ${one.mbPerS.toFixed(1)} MB/s to the 202` +
          (chunked
            ? ` | chunked by account (${maxAccounts}/batch, ${chunked.batches} submits, 4 in flight; openPortfolio + chunks(), the path of c9-batch run --chunk-accounts, each chunk reading only its own byte range of the file): ` +
              `${(chunked.peak / 1e6).toFixed(0)} MB peak, ${(chunked.peak / size).toFixed(2)}× (${over(chunked)}× above the started client), young generation ${mb(chunked.heapAtEnd.young)} MB at the end, ${chunked.mbPerS.toFixed(1)} MB/s`
            : ''),
      },
      {
        id: 'P3s',
        name: 'large submit: throughput (MB/s, info)',
        value: one.mbPerS,
        target: undefined,
        detail: `CSV MB ÷ seconds from opening the file to the 202, one batch via openPortfolio (the file is parsed twice: checked whole when opened, before anything is sent, then read again while the body is written; server receive + validate included)`,
      },
    ],
    raw: { file, size, ...results },
  };
}

module.exports = { runP3 };

'use strict';
/**
 * `npm run bench [-- --quick] [-- --only P1,P3]`: the benchmark of issue 5.
 *
 * Every figure is a ratio of two things measured in the same run on the same machine, so it
 * does not depend on how fast the machine is (only on what else it is doing: run it on a
 * quiet machine). Servers run in their own processes. Prints a table and writes
 * bench/results.json (git-ignored). See bench/README.md for what each figure measures.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fmt } = require('./lib/util');

const SIZES = {
  full: {
    P1: { batches: 1000, accounts: 20, workMs: 2000, vendorBatches: 20 },
    P2: { rows: 100_000, reps: 3 },
    P3: { positions: 1_000_000 },
    P4: { batches: 10_000, requests: 5000, concurrency: 50, rounds: 3 },
  },
  quick: {
    P1: { batches: 100, accounts: 20, workMs: 500, vendorBatches: 5 },
    P2: { rows: 10_000, reps: 3 },
    P3: { positions: 100_000 },
    P4: { batches: 1000, requests: 2000, concurrency: 50, rounds: 3 },
  },
};

const USAGE = `usage: npm run bench [-- --quick] [-- --only P1,P2,P3,P4]
  --quick   every figure at smaller sizes (under two minutes)
  --only    run only these figures
`;

function parseArgs(argv) {
  const o = { quick: false, only: ['P1', 'P2', 'P3', 'P4'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only = String(argv[++i] ?? '').toUpperCase().split(',').filter(Boolean);
    else if (a.startsWith('--only=')) o.only = a.slice(7).toUpperCase().split(',').filter(Boolean);
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  const bad = o.only.filter((f) => !['P1', 'P2', 'P3', 'P4'].includes(f));
  if (bad.length) throw new Error(`--only takes P1, P2, P3, P4; got ${bad.join(', ')}`);
  return o;
}

/** ok / miss / info for one figure. */
function verdict(figure) {
  const { value, target } = figure;
  if (!target) return 'info';
  if (!Number.isFinite(value)) return 'miss';
  const ok = target.op === '<=' ? value <= target.value : target.op === '<' ? value < target.value : value >= target.value;
  return ok ? 'ok' : 'miss';
}

function table(figures) {
  const rows = figures.map((f) => [
    `${f.id} ${f.name}`,
    fmt(f.value),
    f.target ? `${f.target.op.replace('<=', '≤').replace('>=', '≥')} ${f.target.value}` : '',
    verdict(f),
  ]);
  const head = ['figure', 'measured', 'target', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push('');
  for (const f of figures) out.push(`${f.id}: ${f.detail}`);
  return out.join('\n');
}

function scalingNotes(quick, only) {
  const notes = [];
  if (quick) {
    notes.push('--quick: smaller sizes than the issue\'s targets are set for; read the ratios as indications:');
    if (only.includes('P1')) notes.push('  P1 100 batches × 20 accounts with 0.5 s of work: a 0.10 lag ratio is 50 ms here (200 ms at full size); vendor measured on 5 batches, scaled ×20.');
    if (only.includes('P2')) notes.push('  P2 10,000 rows (full: 100,000): the "batch of all" figure is then a batch of 10,000.');
    if (only.includes('P3')) notes.push('  P3 100,000 positions (full: 1,000,000): the ~60 MB a started Node client holds before reading dominates a 4 MB file, so the RSS ratio is far above its full-size value.');
    if (only.includes('P4')) notes.push('  P4 1,000 batches in memory (full: 10,000), 2,000 requests over HTTP (full: 5,000).');
  } else {
    if (only.includes('P1')) notes.push('P1c: the vendor strategy is measured on 20 batches and scaled linearly to 1,000 (it is sequential: each batch costs the same).');
  }
  notes.push('All ratios are measured in this run; a busy machine (other processes on the same cores) moves them, most of all P1a and P4.');
  return notes.join('\n');
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${error.message}\n${USAGE}`);
    process.exitCode = 64;
    return;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const sizes = SIZES[args.quick ? 'quick' : 'full'];
  const log = (s) => process.stdout.write(`${s}\n`);
  const started = Date.now();
  log(`c9-batch-rx benchmark (${args.quick ? 'quick' : 'full'} sizes), node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg()[0].toFixed(2)}`);
  log('');
  const figures = [];
  const raw = {};
  const runners = {
    P1: () => require('./p1-fanout').runP1({ ...sizes.P1, log }),
    P2: () => require('./p2-results').runP2({ ...sizes.P2, log }),
    P3: () => require('./p3-submit').runP3({ ...sizes.P3, log }),
    P4: () => require('./p4-poll').runP4({ ...sizes.P4, log }),
  };
  for (const id of ['P1', 'P2', 'P3', 'P4']) {
    if (!args.only.includes(id)) continue;
    const t0 = Date.now();
    try {
      const result = await runners[id]();
      figures.push(...result.figures);
      raw[id] = result.raw;
    } catch (error) {
      // One figure failing must not hide the others: it is reported as a miss with the reason.
      log(`  ${id} FAILED: ${error.stack ?? error}`);
      figures.push({ id, name: 'failed', value: NaN, target: { op: '<=', value: 0 }, detail: `failed: ${error.message ?? error}` });
      raw[id] = { error: String(error.message ?? error) };
    }
    log(`  (${id} took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    log('');
  }
  const text = table(figures);
  log(text);
  log('');
  log(scalingNotes(args.quick, args.only));
  log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const results = {
    date: new Date().toISOString(),
    mode: args.quick ? 'quick' : 'full',
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadAverageAtStart: os.loadavg(),
    sizes: Object.fromEntries(Object.entries(sizes).filter(([k]) => args.only.includes(k))),
    figures: figures.map((f) => ({ ...f, result: verdict(f) })),
    raw,
  };
  fs.writeFileSync(path.join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  log('written to bench/results.json');
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exitCode = 1;
});

#!/usr/bin/env node
'use strict';
/**
 * Writes a large, deterministic test portfolio for `c9-batch run` (plain JavaScript,
 * CommonJS, no dependencies, so it runs anywhere Node 20 does):
 *
 *   node examples/generate-portfolio.js --accounts 1000 --positions 5 --out big.csv
 *   node examples/generate-portfolio.js --accounts 200000 --positions 5 --out 1m.ndjson --seed 7
 *
 * Every contract is one the embedded emulator lists (futures and options on NYMEX, ICE.EU,
 * EUREX, ASX, LME), expiries included, so every position is margined. The same arguments
 * and seed always give the same bytes. Rows are written as a stream with backpressure, so a
 * million rows take a few MB of memory, not the size of the file.
 */
const fs = require('node:fs');
const path = require('node:path');

const USAGE = `usage: node examples/generate-portfolio.js [--accounts N] [--positions M] [--out FILE | -] [--format csv|ndjson] [--seed S]

  --accounts N    number of accounts (default 1000)
  --positions M   positions per account (default 5)
  --out FILE      where to write; "-" (the default) is stdout
  --format F      csv or ndjson (default: from the file extension, else csv)
  --seed S        integer seed of the generator (default 1)
`;

/** Contracts of the emulator's table, with listed expiries and a price to put strikes around. */
const CONTRACTS = [
  { exchange: 'ICE.EU', code: 'B', kind: 'FUT', expiries: monthly(202601, 202812) },
  { exchange: 'NYMEX', code: 'CL', kind: 'FUT', expiries: monthly(202601, 202812) },
  { exchange: 'NYMEX', code: 'LO', kind: 'OPT', expiries: monthly(202601, 202812), price: 70, step: 5 },
  { exchange: 'EUREX', code: 'FDAX', kind: 'FUT', expiries: quarterly(202603, 202812) },
  { exchange: 'ASX', code: 'XT', kind: 'FUT', expiries: quarterly(202603, 202812) },
  { exchange: 'LME', code: 'AHD', kind: 'FUT', expiries: monthly(202601, 202812) },
  { exchange: 'ICE.EU', code: 'TFO', kind: 'OPT', expiries: monthly(202601, 202812), price: 250, step: 25 },
];

const COLUMNS = ['account_code', 'account_type', 'exchange_code', 'contract_code', 'contract_type', 'contract_expiry', 'contract_strike', 'net_position'];

function monthly(from, to) {
  const out = [];
  for (let m = from; m <= to; m = m % 100 === 12 ? m + 89 : m + 1) out.push(String(m));
  return out;
}

function quarterly(from, to) {
  return monthly(from, to).filter((m) => Number(m.slice(4)) % 3 === 0);
}

/** mulberry32: a small, fast PRNG whose sequence depends only on the seed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseArgs(argv) {
  const options = { accounts: 1000, positions: 5, out: '-', format: undefined, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    const int = (name, min) => {
      const text = value();
      if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(text)}`);
      return Number(text);
    };
    if (arg === '--accounts') options.accounts = int('--accounts', 1);
    else if (arg === '--positions') options.positions = int('--positions', 1);
    else if (arg === '--seed') options.seed = int('--seed', 0);
    else if (arg === '--out') options.out = value();
    else if (arg === '--format') options.format = value();
    else if (arg === '--help' || arg === '-h') options.help = true;
    else throw new Error(`unknown argument ${JSON.stringify(arg)}`);
  }
  options.format ??= /\.(ndjson|jsonl)$/i.test(options.out) ? 'ndjson' : 'csv';
  if (!['csv', 'ndjson'].includes(options.format)) throw new Error(`--format must be csv or ndjson, got ${JSON.stringify(options.format)}`);
  return options;
}

/** One position per call, accounts in order, `positions` rows each. */
function* positions({ accounts, positions: perAccount, seed }) {
  const next = random(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const width = String(accounts).length < 6 ? 6 : String(accounts).length;
  for (let a = 1; a <= accounts; a++) {
    const account = `ACC${String(a).padStart(width, '0')}`;
    // One speculator account in eight: they are margined above hedgers.
    const accountType = next() < 0.125 ? 'S' : 'H';
    for (let p = 0; p < perAccount; p++) {
      const contract = pick(CONTRACTS);
      const lots = 1 + Math.floor(next() * 200);
      const position = {
        account_code: account,
        account_type: accountType,
        exchange_code: contract.exchange,
        contract_code: contract.code,
        contract_type: contract.kind === 'FUT' ? 'FUT' : next() < 0.5 ? 'CALL' : 'PUT',
        contract_expiry: pick(contract.expiries),
        net_position: String(next() < 0.35 ? -lots : lots),
      };
      if (contract.kind === 'OPT') {
        // Strikes on the contract's grid, within five steps of its price.
        position.contract_strike = String(contract.price + contract.step * (Math.floor(next() * 11) - 5));
      }
      yield position;
    }
  }
}

function csvCell(value) {
  if (value === undefined) return '';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function formatRow(position, format) {
  if (format === 'ndjson') return `${JSON.stringify(position)}\n`;
  return `${COLUMNS.map((c) => csvCell(position[c])).join(',')}\n`;
}

/** Writes every row, waiting for 'drain' whenever the stream's buffer is full. */
async function write(options, output) {
  const CHUNK = 64 * 1024;
  let buffer = options.format === 'csv' ? `${COLUMNS.join(',')}\n` : '';
  let rows = 0;
  for (const position of positions(options)) {
    buffer += formatRow(position, options.format);
    rows++;
    if (buffer.length >= CHUNK) {
      const ok = output.write(buffer);
      buffer = '';
      if (!ok) await new Promise((resolve) => output.once('drain', resolve));
    }
  }
  if (buffer !== '') output.write(buffer);
  return rows;
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`generate-portfolio: ${error.message}\n${USAGE}`);
    return 64;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const toStdout = options.out === '-';
  const output = toStdout ? process.stdout : fs.createWriteStream(path.resolve(options.out));
  const rows = await write(options, output);
  if (!toStdout) {
    await new Promise((resolve, reject) => {
      output.once('error', reject);
      output.end(resolve);
    });
    process.stderr.write(`wrote ${rows} positions (${options.accounts} accounts × ${options.positions}) to ${options.out} as ${options.format}\n`);
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`generate-portfolio: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}

// The benchmark draws its positions from the same seeded generator.
module.exports = { random };

'use strict';
/**
 * Deterministic random positions on contracts the emulator lists (the same table as
 * examples/generate-portfolio.js), so every position is margined.
 */

const CONTRACTS = [
  { exchange: 'ICE.EU', code: 'B', kind: 'FUT', expiries: ['202606', '202612', '202706', '202712'] },
  { exchange: 'NYMEX', code: 'CL', kind: 'FUT', expiries: ['202603', '202609', '202703', '202709'] },
  { exchange: 'NYMEX', code: 'LO', kind: 'OPT', expiries: ['202606', '202612', '202706'], price: 70, step: 5 },
  { exchange: 'EUREX', code: 'FDAX', kind: 'FUT', expiries: ['202603', '202606', '202609', '202612'] },
  { exchange: 'ASX', code: 'XT', kind: 'FUT', expiries: ['202603', '202606', '202609', '202612'] },
  { exchange: 'LME', code: 'AHD', kind: 'FUT', expiries: ['202604', '202608', '202612', '202704'] },
  { exchange: 'ICE.EU', code: 'TFO', kind: 'OPT', expiries: ['202606', '202611', '202705'], price: 250, step: 25 },
];

const { random } = require('../../examples/generate-portfolio.js');

/**
 * Positions of `accounts` accounts (`ACC000000`, …), each with `minPositions`..`maxPositions`
 * positions, futures and options mixed.
 *
 * @param {{ accounts: number, minPositions: number, maxPositions: number, seed: number }} o
 */
function randomPositions({ accounts, minPositions, maxPositions, seed }) {
  const next = random(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const out = [];
  for (let a = 0; a < accounts; a++) {
    const account_code = `ACC${String(a).padStart(6, '0')}`;
    const account_type = next() < 0.125 ? 'S' : 'H';
    const n = minPositions + Math.floor(next() * (maxPositions - minPositions + 1));
    for (let p = 0; p < n; p++) {
      const c = pick(CONTRACTS);
      const lots = 1 + Math.floor(next() * 200);
      const position = {
        account_code,
        account_type,
        exchange_code: c.exchange,
        contract_code: c.code,
        contract_type: c.kind === 'FUT' ? 'FUT' : next() < 0.5 ? 'CALL' : 'PUT',
        contract_expiry: pick(c.expiries),
        net_position: String(next() < 0.35 ? -lots : lots),
      };
      if (c.kind === 'OPT') position.contract_strike = String(c.price + c.step * (Math.floor(next() * 11) - 5));
      out.push(position);
    }
  }
  return out;
}

module.exports = { randomPositions };

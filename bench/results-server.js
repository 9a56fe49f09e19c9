'use strict';
/**
 * P2's server, in its own process: a live store of `rows` account rows served on
 * `GET /results/accounts` by a plain node:http server, as one prebuilt JSON body (so the
 * server costs nothing per request and the figure is the client's alone).
 *
 * The rows are made by the emulator's own row builder (`accountRows` after `validatePayload`,
 * as a batch would make them: drill-down arrays `margin_by_ccp`, `margin_by_contract` and the
 * enriched `portfolio` included) for `templates` accounts of 1 to 4 positions each; the other
 * rows are copies of those with their own account code, portfolio id and request id. Margining
 * every one of 100,000 accounts would take minutes and give rows of the same shape and size.
 *
 * Every row of account group g (1,000 accounts each, in order) carries `request_id` = the id of
 * batch g and `submitted_time` = `stampedAt`, so a client can check freshness as it would for a
 * real batch.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { validatePayload } = require('../dist/emulator/validate');
const { accountRows } = require('../dist/emulator/rows');
const { serveParent, childOptions } = require('./lib/proc');
const { randomPositions } = require('./lib/portfolio');

const GROUP = 1000;

function buildBody({ rows, templates = 2000, seed = 11 }) {
  const positions = randomPositions({ accounts: Math.min(templates, rows), minPositions: 1, maxPositions: 4, seed });
  const validated = validatePayload({ portfolio: positions }, 20260102);
  if (!validated.ok) throw new Error(`template payload refused: ${validated.error}`);
  const stampedAt = Date.parse('2026-01-02T10:00:00.000Z');
  const submittedTime = new Date(stampedAt).toISOString();
  const groupIds = Array.from({ length: Math.ceil(rows / GROUP) }, () => randomUUID());
  const made = validated.value.accounts.map((group) => accountRows(group, validated.value, { requestId: groupIds[0], username: 'user1@emulator.local', submittedTime }).master);
  const out = [];
  for (let i = 0; i < rows; i++) {
    const t = made[i % made.length];
    const accountCode = `ACC${String(i).padStart(6, '0')}`;
    out.push({
      ...t,
      request_id: groupIds[Math.floor(i / GROUP)],
      portfolio_id: randomUUID().replace(/-/g, ''),
      account_code: accountCode,
      portfolio: t.portfolio.map((p) => ({ ...p, account_code: accountCode })),
    });
  }
  const body = Buffer.from(JSON.stringify(out), 'utf8');
  return { body, stampedAt, groupIds, group: GROUP };
}

async function main() {
  const options = childOptions();
  const { body, stampedAt, groupIds, group } = buildBody(options);
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/results/accounts') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Not Found"}');
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  serveParent(
    { url: `http://127.0.0.1:${port}`, apiKey: 'sk-bench-results', info: { bytes: body.length, rows: options.rows, stampedAt, groupIds, group } },
    {},
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
}

main().catch((error) => {
  process.stderr.write(`results-server: ${error.stack ?? error}\n`);
  process.exit(1);
});

// search.mjs - the admin console's account search at scale: inserts N accounts (default
// 100,000) straight into the table, signs in to the console and times its search endpoint
// for several kinds of query (each run 20 times; median and worst), with the plan
// PostgreSQL chose. Prints figures; never a pass/fail judgement.
//   bench/console/run.sh [accounts]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, startPds, startPlc } from '../../tests/e2e/lib/index.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { default: pg } = await import(path.join(here, '../../tests/e2e/node_modules/pg/lib/index.js'));
const N = Number(process.argv[2] || 100000);
const RUNS = 20;

const plc = await startPlc();
const pds = await startPds({ plcUrl: plc.url, env: { LOG_LEVEL: 'warn' } });
const db = new pg.Client({ connectionString: pds.dbUrl });
await db.connect();
try {
  let t = performance.now();
  await db.query(
    `INSERT INTO account (did, handle, email, created_at)
     SELECT 'did:plc:bench' || lpad(i::text, 16, '0'), 'user' || i || '.test', 'user' || i || '@example.org',
            now() - (i % 30) * interval '1 day'
       FROM generate_series(1, $1) AS i`,
    [N],
  );
  await db.query('ANALYZE account');
  console.log(`inserted ${N} accounts in ${(performance.now() - t).toFixed(0)} ms`);

  const page = await fetch(`${pds.url}/admin/sign-in`);
  const device = page.headers.get('set-cookie').match(/pds-device=([^;]+)/)[1];
  const csrf = (await page.text()).match(/name="csrf_token" value="([^"]+)"/)[1];
  const signin = await fetch(`${pds.url}/admin/sign-in`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: `pds-device=${device}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf_token: csrf, password: ADMIN_PASSWORD, name: 'bench' }).toString(),
  });
  const cookie = `pds-device=${device}; pds-admin=${signin.headers.get('set-cookie').match(/pds-admin=([^;]+)/)[1]}`;

  const cases = [
    ['first page, no query', ''],
    ['part of one handle', 'ser77777'],
    ['part of an email', '4242@exa'],
    ['a whole DID', 'did:plc:bench0000000000099999'],
    ['part of a DID', 'bench00000000000999'],
    ['common text (every account)', 'example.org'],
    ['short text (many)', 'r1'],
    ['no match', 'zzzqqq'],
  ];
  console.log(`\n${'query'.padEnd(32)} ${'rows'.padStart(5)} ${'median ms'.padStart(10)} ${'worst ms'.padStart(9)}  plan`);
  for (const [name, q] of cases) {
    const times = [];
    let rows = 0;
    for (let i = 0; i < RUNS; i++) {
      t = performance.now();
      const r = await fetch(`${pds.url}/admin/api/accounts?limit=25${q ? `&q=${encodeURIComponent(q)}` : ''}`, { headers: { cookie } });
      const body = await r.json();
      times.push(performance.now() - t);
      rows = body.accounts.length;
    }
    times.sort((a, b) => a - b);
    const exact = /^did:[a-z]+:[a-zA-Z0-9._:%-]+$/.test(q) ? q : null; // as the console decides
    const like = q && !exact ? `%${q.toLowerCase()}%` : null;
    await db.query('BEGIN');
    await db.query('SET LOCAL enable_seqscan = off'); // as the console runs it
    const plan = (await db.query(
      `EXPLAIN SELECT a.did FROM account a WHERE ($1::text IS NULL OR a.handle LIKE $1 OR lower(a.email) LIKE $1
       OR a.did LIKE $1) AND ($2::text IS NULL OR a.did = $2) ORDER BY a.did LIMIT 26`, [like, exact])).rows.map((x) => x['QUERY PLAN']);
    await db.query('COMMIT');
    const nodes = plan.filter((l) => /Scan|Sort |BitmapOr/.test(l)).map((l) => l.replace(/^[\s>-]*/, '').replace(/\s+\(cost=.*$/, '')).join(' / ');
    console.log(`${name.padEnd(32)} ${String(rows).padStart(5)} ${times[RUNS >> 1].toFixed(1).padStart(10)} ${times[RUNS - 1].toFixed(1).padStart(9)}  ${nodes}`);
  }
} finally {
  await db.end();
  await pds.stop();
  await plc.stop();
}

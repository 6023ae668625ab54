// The admin console in headless Chromium: sign in with the admin password, the dashboard's
// figures against the database, finding one account among 10,000 (inserted directly in SQL,
// fast) by part of its handle, taking it down and lifting it, creating and disabling an
// invite code, the reports, relays (a small fake relay answering getHostStatus and
// requestCrawl), configuration (secrets redacted) and audit pages; then the refusals: every
// page and endpoint without a session, every state change without the CSRF token or from
// another origin, an idle session, and too many failed sign-ins.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { ADMIN_PASSWORD, PHONE, createAccount, startBrowser, startPds, startPlc } from './lib/index.mjs';

const ACCOUNTS = 10000;
const PAGES = ['/admin', '/admin/accounts', '/admin/account?did=did:plc:x', '/admin/invites', '/admin/reports',
  '/admin/relays', '/admin/config', '/admin/audit'];
const API_GETS = ['/admin/api/dashboard', '/admin/api/accounts', '/admin/api/account?did=did:plc:x',
  '/admin/api/invites', '/admin/api/reports', '/admin/api/relays', '/admin/api/config', '/admin/api/audit',
  '/admin/chart/signups.svg', '/admin/chart/writes.svg'];
const API_POSTS = [
  ['/admin/api/account/action', { did: 'did:plc:x', action: 'takedown' }],
  ['/admin/api/invites/create', { useCount: 1 }],
  ['/admin/api/invites/disable', { codes: ['x'] }],
  ['/admin/api/relays/crawl', { url: 'http://127.0.0.1:1' }],
  ['/admin/api/sign-out', {}],
];

/** A relay that knows this host: getHostStatus and requestCrawl, counting crawl requests. */
async function startFakeRelay() {
  const crawls = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://relay');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/xrpc/com.atproto.sync.getHostStatus') {
      res.end(JSON.stringify({ hostname: url.searchParams.get('hostname'), seq: 3, accountCount: 2, status: 'active' }));
    } else if (url.pathname === '/xrpc/com.atproto.sync.requestCrawl' && req.method === 'POST') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        crawls.push(JSON.parse(body));
        res.end('{}');
      });
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: 'MethodNotImplemented' }));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, crawls, stop: () => new Promise((r) => server.close(r)) };
}

let plc;
let pds;
let relay;
let db;
let browser;
let page;
let alice;
const problems = [];

/** The page's text, to match what a person sees. */
const text = async (sel = 'main') => (await page.locator(sel).innerText()).replace(/\s+/g, ' ');

describe('admin console', () => {
  before(async () => {
    relay = await startFakeRelay();
    plc = await startPlc();
    pds = await startPds({ plcUrl: plc.url, env: { PDS_CRAWLERS: relay.url } });
    db = new pg.Client({ connectionString: pds.dbUrl });
    await db.connect();
    alice = await createAccount(pds, { handle: 'alice.test', email: 'alice@example.com' });
    for (let i = 0; i < 3; i++) await alice.agent.post({ text: `post ${i}` });
    await alice.agent.like(`at://${alice.did}/app.bsky.feed.post/x`, 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm').catch(() => {});
    // 10,000 accounts straight into the table, sign-ups spread over the last 30 days
    await db.query(
      `INSERT INTO account (did, handle, email, created_at)
       SELECT 'did:plc:bulk' || lpad(i::text, 16, '0'), 'user' || i || '.test', 'user' || i || '@example.org',
              now() - (i % 30) * interval '1 day'
         FROM generate_series(1, $1) AS i`,
      [ACCOUNTS],
    );
    await db.query("UPDATE account SET deactivated_at = now() WHERE did IN ('did:plc:bulk0000000000000007', 'did:plc:bulk0000000000000008')");
    await db.query("UPDATE account SET takedown_ref = 'test' WHERE did = 'did:plc:bulk0000000000000009'");
    await db.query('ANALYZE account');
    browser = await startBrowser('console');
    page = await browser.newPage();
    // CSP violations and script errors; failed loads are judged by their responses below
    page.on('console', (m) => m.type() === 'error' && !/^Failed to load resource/.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => {
      const u = new URL(r.url());
      // expected: the wrong password (401) and the favicon nobody serves
      if (r.status() >= 400 && !(u.pathname === '/admin/sign-in' && r.status() === 401) && u.pathname !== '/favicon.ico') {
        problems.push(`${r.status()} ${u.pathname}`);
      }
    });
  });
  after(async () => {
    await browser?.close();
    await db?.end();
    await pds?.stop();
    await plc?.stop();
    await relay?.stop();
  });

  test('a page without a session redirects to sign-in, and signing in opens the dashboard', async () => {
    await page.goto(`${pds.url}/admin`);
    assert.equal(new URL(page.url()).pathname, '/admin/sign-in');
    await browser.shot(page, 'sign-in');
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    assert.match(await text(), /not the admin password/);
    await page.fill('#name', 'Ops Olivia');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${pds.url}/admin`);
    const cookies = await page.context().cookies();
    const c = cookies.find((x) => x.name === 'pds-admin');
    assert.ok(c, 'session cookie set');
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, 'Strict');
    assert.equal(c.path, '/admin');
  });

  test("the dashboard's figures match the database", async () => {
    await page.waitForFunction(() => document.getElementById('acc-total').textContent !== '…');
    await page.waitForFunction(() => !document.querySelector('#relays tbody').textContent.includes('Asking'));
    const counts = (await db.query(`SELECT count(*)::int AS total,
        count(*) FILTER (WHERE takedown_ref IS NULL AND deactivated_at IS NULL)::int AS active,
        count(*) FILTER (WHERE deactivated_at IS NOT NULL AND takedown_ref IS NULL)::int AS deactivated,
        count(*) FILTER (WHERE takedown_ref IS NOT NULL)::int AS takendown FROM account`)).rows[0];
    const shown = async (id) => Number((await page.locator(`#${id}`).innerText()).replace(/,/g, ''));
    assert.equal(await shown('acc-total'), counts.total);
    assert.equal(await shown('acc-active'), counts.active);
    assert.equal(await shown('acc-deactivated'), counts.deactivated);
    assert.equal(await shown('acc-takendown'), counts.takendown);
    const head = Number((await db.query('SELECT coalesce(max(seq), 0) AS h FROM repo_seq')).rows[0].h);
    assert.ok(head > 0);
    // the head may move on while the page loads (alice's events): never past the database's
    assert.ok(await shown('fh-head') <= Number((await db.query('SELECT coalesce(max(seq), 0) AS h FROM repo_seq')).rows[0].h));
    assert.ok(await shown('fh-head') >= head - 5);
    const commits = (await db.query("SELECT count(*)::int AS n FROM repo_seq WHERE event_type = 'commit' AND created_at > now() - interval '59 minutes'")).rows[0].n;
    assert.equal(await shown('writes-hour'), commits);
    // the host's event budget: the figures /metrics exports (hour window), as a share
    const gauge = (text, name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const scraped = await (await fetch(`${pds.url}/metrics`, { headers: { authorization: pds.adminAuth() } })).text();
    const limit = gauge(scraped, 'pds_host_write_budget_limit');
    assert.ok(limit > 0, `budget limit ${limit}`); // under the relays' 2,500 + N an hour, with headroom
    const sub = /^([\d,]+) of ([\d,]+)$/.exec(await page.locator('#budget-sub').innerText());
    assert.ok(sub, 'the budget names used and allowed events');
    const [used, allowed] = [Number(sub[1].replace(/,/g, '')), Number(sub[2].replace(/,/g, ''))];
    assert.equal(allowed, limit);
    assert.ok(used <= gauge(scraped, 'pds_host_write_budget_used'));
    assert.equal(await page.locator('#budget').innerText(), `${Math.round((100 * used) / allowed)}%`);
    const relays = await text('#relays');
    assert.match(relays, new RegExp(relay.url.replace(/[.]/g, '\\.')));
    assert.match(relays, /active/);
    // the charts are server-drawn SVG images that loaded
    for (const src of ['/admin/chart/signups.svg', '/admin/chart/writes.svg']) {
      const ok = await page.evaluate((s) => {
        const img = document.querySelector(`img[src="${s}"]`);
        return img && img.complete && img.naturalWidth > 0;
      }, src);
      assert.ok(ok, `${src} rendered`);
    }
    await browser.shot(page, 'dashboard');
  });

  test('finds an account among 10,000 by part of its handle, takes it down and lifts it', async () => {
    await page.goto(`${pds.url}/admin/accounts`);
    await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length > 0);
    await browser.shot(page, 'accounts');
    const started = Date.now();
    await page.fill('#q', 'ser4242');
    await page.click('#search button');
    await page.waitForFunction(() => document.querySelector('#results tbody').textContent.includes('user4242.test'));
    console.log(`# search among ${ACCOUNTS + 1} accounts answered in the browser after ${Date.now() - started} ms`);
    const rows = await page.locator('#results tbody tr').count();
    assert.equal(rows, 1, 'only user4242 contains "ser4242"');
    await page.click('text=user4242.test');
    await page.waitForFunction(() => document.getElementById('a-handle').textContent === 'user4242.test');
    const did = 'did:plc:bulk0000000000004242';
    assert.equal(await page.locator('#a-did').innerText(), did);
    await browser.shot(page, 'account');
    await page.click('#act-takedown');
    await page.waitForFunction(() => document.getElementById('a-status').textContent.includes('takendown'));
    assert.notEqual((await db.query('SELECT takedown_ref FROM account WHERE did = $1', [did])).rows[0].takedown_ref, null);
    await browser.shot(page, 'account-taken-down');
    await page.click('#act-untakedown');
    await page.waitForFunction(() => document.getElementById('a-status').textContent.includes('active'));
    assert.equal((await db.query('SELECT takedown_ref FROM account WHERE did = $1', [did])).rows[0].takedown_ref, null);
    // and the stream told the network, both times
    const events = (await db.query("SELECT count(*)::int AS n FROM repo_seq WHERE did = $1 AND event_type = 'account'", [did])).rows[0].n;
    assert.equal(events, 2);
  });

  test("an account with data shows its records, sessions and actions' results", async () => {
    await page.goto(`${pds.url}/admin/account?did=${alice.did}`);
    await page.waitForFunction(() => document.getElementById('a-handle').textContent === 'alice.test');
    const body = await text();
    assert.match(body, /app\.bsky\.feed\.post 3/);
    assert.match(body, /alice@example\.com \(not confirmed\)/);
    assert.match(await text('#sessions'), /password/);
    await page.click('#act-disable-invites');
    await page.waitForFunction(() => document.getElementById('a-invites').textContent === 'disabled');
    assert.equal((await db.query('SELECT invites_disabled FROM account WHERE did = $1', [alice.did])).rows[0].invites_disabled, true);
    await page.click('#act-reset-password');
    await page.waitForFunction(() => document.getElementById('notice').textContent.includes('New password'));
    const pw = (await page.locator('#notice').innerText()).match(/: (\S+)$/)[1];
    const fresh = pds.agent();
    await fresh.login({ identifier: 'alice.test', password: pw }); // the shown password works
    await page.fill('#new-handle', 'alice2.test');
    await page.click('#handle-form button');
    await page.waitForFunction(() => document.getElementById('a-handle').textContent === 'alice2.test');
    // deletion needs the handle typed exactly
    await page.fill('#delete-confirm', 'alice.test');
    await page.click('#delete-form button');
    assert.match(await page.locator('#notice').innerText(), /Type the handle alice2\.test/);
    assert.equal((await db.query('SELECT count(*)::int AS n FROM account WHERE did = $1', [alice.did])).rows[0].n, 1);
    await browser.shot(page, 'account-with-data');
  });

  test('creates an invite code and disables it', async () => {
    await page.goto(`${pds.url}/admin/invites`);
    await page.fill('#uses', '3');
    await page.click('#create button');
    await page.waitForFunction(() => document.getElementById('created').textContent.startsWith('Created'));
    const code = await page.locator('#created').getAttribute('data-code');
    const row = (await db.query('SELECT available_uses, disabled FROM invite_code WHERE code = $1', [code])).rows[0];
    assert.deepEqual(row, { available_uses: 3, disabled: false });
    await page.waitForFunction((c) => document.querySelector('#codes tbody').textContent.includes(c), code);
    await browser.shot(page, 'invites');
    await page.click(`button[data-code="${code}"]`);
    await page.waitForFunction(() => document.getElementById('notice').textContent.startsWith('Disabled'));
    assert.equal((await db.query('SELECT disabled FROM invite_code WHERE code = $1', [code])).rows[0].disabled, true);
  });

  test('relays: the view of each, and a crawl request', async () => {
    await page.goto(`${pds.url}/admin/relays`);
    await page.waitForSelector('button[data-url]');
    const before = relay.crawls.length;
    await page.click('button[data-url]');
    await page.waitForFunction(() => document.getElementById('notice').textContent.includes('asked to crawl'));
    assert.equal(relay.crawls.length, before + 1);
    assert.deepEqual(relay.crawls.at(-1), { hostname: 'localhost' });
    await browser.shot(page, 'relays');
  });

  test('reports and configuration pages; secrets never shown', async () => {
    await db.query(`INSERT INTO moderation_report_forwarded (reporter, reason_type, subject, reason, service_did, status)
                    VALUES ($1, 'com.atproto.moderation.defs#reasonSpam', 'at://did:plc:x/app.bsky.feed.post/1', 'spam', 'did:web:mod.test', 200)`, [alice.did]);
    await page.goto(`${pds.url}/admin/reports`);
    await page.waitForFunction(() => document.querySelector('#reports tbody').textContent.includes('reasonSpam'));
    await browser.shot(page, 'reports');
    await page.goto(`${pds.url}/admin/config`);
    await page.waitForFunction(() => document.querySelectorAll('#settings tbody tr').length > 50);
    const all = await text();
    assert.match(all, /PDS_ADMIN_PASSWORD \(set, hidden\)/);
    assert.match(all, /PDS_JWT_SECRET \(set, hidden\)/);
    assert.match(all, /PDS_CRAWLERS http:\/\/127\.0\.0\.1/);
    assert.ok(!all.includes(ADMIN_PASSWORD), 'admin password not on the page');
    const secrets = (await fetch(`${pds.url}/admin/api/config`, { headers: { cookie: await cookieHeader() } })).text();
    assert.ok(!(await secrets).includes(ADMIN_PASSWORD));
    await browser.shot(page, 'config');
    // the first screen of it too: the whole table is a long picture
    await page.screenshot({ path: `${browser.screenshotDir}/config-top.png` });
  });

  test('the audit log names who did what', async () => {
    await page.goto(`${pds.url}/admin/audit`);
    await page.waitForFunction(() => document.querySelectorAll('#entries tbody tr').length > 5);
    const log = await text('#entries');
    for (const action of ['signin', 'signin_failed', 'takedown', 'untakedown', 'disable-invites', 'reset-password',
      'change-handle', 'invite_create', 'invite_disable', 'request_crawl']) {
      assert.match(log, new RegExp(`\\b${action}\\b`), action);
    }
    assert.match(log, /Ops Olivia/);
    const rows = (await db.query("SELECT actor, action, subject, outcome FROM admin_audit WHERE action = 'takedown'")).rows;
    assert.deepEqual(rows, [{ actor: 'Ops Olivia', action: 'takedown', subject: 'did:plc:bulk0000000000004242', outcome: 'ok' }]);
    await browser.shot(page, 'audit');
    assert.deepEqual(problems, [], 'no console errors (a CSP violation would show here)');
  });

  test('the dashboard and an account page fit a phone', async () => {
    const phone = await browser.newPage({ ...PHONE, storageState: await page.context().storageState() });
    for (const [p, name] of [['/admin', 'phone-dashboard'], [`/admin/account?did=${alice.did}`, 'phone-account']]) {
      await phone.goto(`${pds.url}${p}`);
      await phone.waitForLoadState('networkidle');
      const wide = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      assert.equal(wide, false, `${p} scrolls sideways on a phone`);
      await browser.shot(phone, name);
    }
    await phone.context().close();
  });

  test('every page and endpoint refuses a request without a session', async () => {
    for (const p of PAGES) {
      const r = await fetch(`${pds.url}${p}`, { redirect: 'manual' });
      assert.equal(r.status, 303, p);
      assert.equal(r.headers.get('location'), '/admin/sign-in', p);
      assert.doesNotMatch(await r.text(), /<main/, p);
    }
    for (const p of API_GETS) {
      const r = await fetch(`${pds.url}${p}`);
      assert.equal(r.status, 401, p);
    }
    for (const [p, body] of API_POSTS) {
      const r = await fetch(`${pds.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 401, p);
    }
    // a forged cookie is no session either
    const r = await fetch(`${pds.url}/admin/api/dashboard`, { headers: { cookie: 'pds-admin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    assert.equal(r.status, 401);
  });

  test('every state change refuses a request without the CSRF token, or from another site', async () => {
    const cookie = await cookieHeader();
    const token = await page.locator('meta[name=csrf-token]').getAttribute('content');
    for (const [p, body] of API_POSTS) {
      const bare = await fetch(`${pds.url}${p}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(bare.status, 403, `${p} without a token`);
      assert.equal((await bare.json()).error, 'InvalidCsrfToken');
      const wrong = await fetch(`${pds.url}${p}`, { method: 'POST', headers: { cookie, 'x-csrf-token': 'A'.repeat(43), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(wrong.status, 403, `${p} with a wrong token`);
      const foreign = await fetch(`${pds.url}${p}`, { method: 'POST', headers: { cookie, 'x-csrf-token': token, origin: 'https://evil.example', 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(foreign.status, 403, `${p} from another origin`);
    }
    // the sign-in form too
    const form = await fetch(`${pds.url}/admin/sign-in`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${ADMIN_PASSWORD}` });
    assert.equal(form.status, 403);
    assert.equal(form.headers.get('set-cookie')?.includes('pds-admin=') ?? false, false);
    // and the token alone works: the takedown of nobody is refused for the right reason
    const ok = await fetch(`${pds.url}/admin/api/account/action`, { method: 'POST', headers: { cookie, 'x-csrf-token': token, 'content-type': 'application/json' }, body: JSON.stringify({ did: 'did:plc:nobody', action: 'takedown' }) });
    assert.equal(ok.status, 404);
  });

  test('an idle session ends, and signing out ends a session', async () => {
    const cookie = await cookieHeader();
    assert.equal((await fetch(`${pds.url}/admin/api/dashboard`, { headers: { cookie } })).status, 200);
    await db.query("UPDATE admin_session SET last_seen_at = now() - interval '31 minutes' WHERE ended_at IS NULL");
    assert.equal((await fetch(`${pds.url}/admin/api/dashboard`, { headers: { cookie } })).status, 401);
    // sign in again, then out
    await page.goto(`${pds.url}/admin/sign-in`);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${pds.url}/admin`);
    const second = await cookieHeader();
    await page.click('#signout');
    await page.waitForURL(`${pds.url}/admin/sign-in`);
    assert.equal((await fetch(`${pds.url}/admin/api/dashboard`, { headers: { cookie: second } })).status, 401);
  });

  test('too many failed sign-ins from one address are refused', async () => {
    const base = `http://127.0.0.1:${pds.port}`; // one address for every attempt
    const signin = await fetch(`${base}/admin/sign-in`);
    const device = signin.headers.get('set-cookie').match(/pds-device=([^;]+)/)[1];
    const token = (await signin.text()).match(/name="csrf_token" value="([^"]+)"/)[1];
    const attempt = (password) => fetch(`${base}/admin/sign-in`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: `pds-device=${device}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf_token: token, password }).toString(),
    });
    const failures = async () => Number((await db.query(
      "SELECT count(*) AS n FROM admin_audit WHERE action = 'signin_failed' AND client_ip = '127.0.0.1'")).rows[0].n);
    while ((await failures()) < 10) assert.equal((await attempt('wrong')).status, 401);
    const refused = await attempt(ADMIN_PASSWORD);
    assert.equal(refused.status, 429, 'even the right password, once the limit is reached');
    assert.match(await refused.text(), /Too many failed sign-ins/);
    assert.equal(await failures(), 10);
  });
});

async function cookieHeader() {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

// What an operator watches: /metrics parsed by a Prometheus text-format parser from npm, its
// counters moving as requests are made, who may read it; the readiness check; and the log
// in JSON (LOG_FORMAT=json): one object per line with the request's id, method, NSID, DID,
// status and duration, and not one secret, token or password in it after a session that
// handles all of them (sign-up, sign-in, refresh, app passwords, emailed codes, password
// reset, admin calls, the console's sign-in, a JWT sent in a path).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { AtpAgent } from '@atproto/api';
import { ADMIN_PASSWORD, createAccount, startPds, startPlc } from './lib/index.mjs';
import { startSmtp, tokenOf } from './lib/mail.mjs';

let plc;
let pds;
let smtp;
let jwtSecret;
const secrets = []; // every secret the session below handles

describe('metrics, readiness and logs', () => {
  before(async () => {
    plc = await startPlc();
    smtp = await startSmtp();
    jwtSecret = `jwt-${Math.random().toString(36).slice(2)}-secret`;
    pds = await startPds({
      plcUrl: plc.url,
      env: {
        LOG_FORMAT: 'json',
        PDS_JWT_SECRET: jwtSecret,
        PDS_METRICS_ALLOW_IPS: '127.0.0.1',
        PDS_EMAIL_SMTP_URL: smtp.url,
        PDS_EMAIL_FROM_ADDRESS: 'pds@example.com',
      },
    });
    secrets.push(ADMIN_PASSWORD, jwtSecret);
  });
  after(async () => {
    await pds?.stop();
    await smtp?.stop();
    await plc?.stop();
  });

  async function scrape(base = `http://127.0.0.1:${pds.port}`, headers = {}) {
    const r = await fetch(`${base}/metrics`, { headers });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const families = parsePrometheusTextFormat(text); // throws on a malformed line
    return Object.fromEntries([...families.map((f) => [f.name, f]), ['_text', text]]);
  }
  const sample = (fam, labels = {}) =>
    fam?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  const value = (fams, name, labels) => Number(sample(fams[name], labels)?.value ?? 0);

  test('/metrics parses, and its counters move as requests are made', async () => {
    const before = await scrape();
    for (const name of ['pds_http_requests_total', 'pds_http_request_duration_seconds', 'pds_db_query_duration_seconds',
      'pds_db_connections_open', 'pds_accounts', 'pds_blob_store_bytes', 'pds_firehose_head_seq',
      'pds_firehose_subscribers', 'pds_process_start_time_seconds']) {
      assert.ok(before[name], `${name} is exposed`);
    }
    assert.equal(before.pds_http_request_duration_seconds.type, 'HISTOGRAM');
    const alice = await createAccount(pds);
    secrets.push(alice.password, alice.session.accessJwt, alice.session.refreshJwt);
    for (let i = 0; i < 5; i++) await alice.agent.post({ text: `counted ${i}` });
    await alice.agent.com.atproto.repo.getRecord({ repo: alice.did, collection: 'app.bsky.actor.profile', rkey: 'self' }).catch(() => {});
    const after = await scrape();
    const created = { nsid: 'com.atproto.repo.createRecord', status: '200' };
    assert.equal(value(after, 'pds_http_requests_total', created) - value(before, 'pds_http_requests_total', created), 5);
    assert.equal(value(after, 'pds_http_requests_total', { nsid: 'com.atproto.server.createAccount', status: '200' }), 1);
    assert.ok(value(after, 'pds_http_requests_total', { nsid: 'com.atproto.repo.getRecord', status: '400' }) >= 1);
    assert.equal(value(after, 'pds_repo_commits_total') - value(before, 'pds_repo_commits_total'), 6, 'the first commit and five posts');
    assert.ok(value(after, 'pds_repo_write_bytes_total') > value(before, 'pds_repo_write_bytes_total'));
    assert.equal(value(after, 'pds_accounts', { status: 'active' }), 1);
    assert.ok(value(after, 'pds_firehose_head_seq') > value(before, 'pds_firehose_head_seq'));
    assert.ok(value(after, 'pds_outbound_requests_total', { target: 'plc', result: 'ok' }) >= 1, 'the PLC registration is counted');
    // this parser folds the series of a labelled histogram together, so read one series' own
    // lines from the text, and check an unlabelled histogram (query latency) through it
    const line = (f, suffix) => Number(new RegExp(`^pds_http_request_duration_seconds_${suffix}\\{nsid="com\\.atproto\\.repo\\.createRecord"(?:,le="\\+Inf")?\\} (\\S+)$`, 'm').exec(f._text)?.[1] ?? 0);
    assert.equal(line(after, 'count') - line(before, 'count'), 5);
    assert.equal(line(after, 'bucket'), line(after, 'count'), '+Inf bucket holds every observation');
    assert.ok(line(after, 'sum') > 0);
    const q = after.pds_db_query_duration_seconds.metrics[0];
    assert.equal(Number(q.buckets['+Inf']), Number(q.count));
    const queries = (f) => Number(f.pds_db_query_duration_seconds.metrics[0].count);
    assert.ok(queries(after) > queries(before));
    assert.ok(value(after, 'pds_block_cache_hits_total') + value(after, 'pds_block_cache_misses_total') > 0);
  });

  test('every metric the Grafana dashboard and the alert rules use is exposed', async () => {
    const fams = await scrape();
    const used = new Set();
    for (const file of ['deploy/grafana-dashboard.json', 'deploy/prometheus-alerts.yml']) {
      const text = fs.readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      for (const m of text.matchAll(/\bpds_[a-z_]+/g)) used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    }
    assert.ok(used.size > 15, `names used: ${[...used]}`);
    for (const name of used) assert.ok(fams[name], `${name} is used by deploy/ but not exposed`);
  });

  test('/metrics needs admin auth from an address outside PDS_METRICS_ALLOW_IPS', async () => {
    const v6 = `http://[::1]:${pds.port}`;
    const probe = await fetch(`${v6}/xrpc/_health`).catch(() => null);
    if (!probe) {
      // no IPv6 loopback here: check the refusal through a forwarded address instead
      const r = await fetch(`http://127.0.0.1:${pds.port}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      assert.equal(r.status, 401);
    } else {
      assert.equal((await fetch(`${v6}/metrics`)).status, 401);
      await scrape(v6, { authorization: pds.adminAuth() });
    }
    const forwarded = await fetch(`http://127.0.0.1:${pds.port}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(forwarded.status, 401, 'a client behind the local proxy is not the proxy');
    const wrong = await fetch(`http://127.0.0.1:${pds.port}/metrics`, {
      headers: { 'x-forwarded-for': '203.0.113.9', authorization: 'Basic ' + Buffer.from('admin:nope').toString('base64') },
    });
    assert.equal(wrong.status, 401);
  });

  test('readiness answers 200 while the database and blob store work, 503 when the store is gone', async () => {
    const ok = await fetch(`${pds.url}/xrpc/_ready`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ready: true, checks: { database: 'ok', blobStore: 'ok' } });
    const blobs = `${pds.dataDir}/blobs`;
    fs.renameSync(blobs, `${blobs}.away`);
    try {
      const down = await fetch(`${pds.url}/xrpc/_ready`);
      assert.equal(down.status, 503);
      const body = await down.json();
      assert.equal(body.ready, false);
      assert.equal(body.checks.database, 'ok');
      assert.match(body.checks.blobStore, /missing or not writable/);
    } finally {
      fs.renameSync(`${blobs}.away`, blobs);
    }
    // the reference's health check is unchanged
    assert.equal((await fetch(`${pds.url}/xrpc/_health`)).status, 200);
  });

  test('the JSON log has one object per request line and no secret in any line', async () => {
    const bob = await createAccount(pds, { email: 'bob@example.com' });
    secrets.push(bob.password, bob.session.accessJwt, bob.session.refreshJwt);
    const refreshed = await bob.agent.com.atproto.server.refreshSession(undefined, { headers: { authorization: `Bearer ${bob.session.refreshJwt}` } });
    secrets.push(refreshed.data.accessJwt, refreshed.data.refreshJwt);
    const app = await bob.agent.com.atproto.server.createAppPassword({ name: 'phone' });
    secrets.push(app.data.password);
    const anon = new AtpAgent({ service: pds.url });
    await anon.login({ identifier: bob.handle, password: app.data.password });
    // a password reset: the emailed token, then the new password
    await anon.com.atproto.server.requestPasswordReset({ email: 'bob@example.com' });
    const token = tokenOf(await smtp.waitForMail('bob@example.com'));
    secrets.push(token);
    const newPassword = `new-${Math.random().toString(36).slice(2)}-pw`;
    await anon.com.atproto.server.resetPassword({ token, password: newPassword });
    secrets.push(newPassword);
    // a wrong sign-in, admin calls and the console sign-in carry the admin password
    await anon.login({ identifier: bob.handle, password: 'wrong-password-123' }).catch(() => {});
    secrets.push('wrong-password-123');
    const admin = await fetch(`${pds.url}/xrpc/com.atproto.admin.getAccountInfo?did=${bob.did}`, { headers: { authorization: pds.adminAuth() } });
    assert.equal(admin.status, 200);
    const page = await fetch(`${pds.url}/admin/sign-in`);
    const device = page.headers.get('set-cookie').match(/pds-device=([^;]+)/)[1];
    const csrf = (await page.text()).match(/name="csrf_token" value="([^"]+)"/)[1];
    const signin = await fetch(`${pds.url}/admin/sign-in`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: `pds-device=${device}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf_token: csrf, password: ADMIN_PASSWORD }).toString(),
    });
    assert.equal(signin.status, 303);
    const session = signin.headers.get('set-cookie').match(/pds-admin=([^;]+)/)[1];
    secrets.push(session, device, csrf);
    // a token in a path and in a query string
    await fetch(`${pds.url}/xrpc/${bob.session.accessJwt}`);
    await fetch(`${pds.url}/xrpc/com.atproto.repo.describeRepo?repo=${bob.did}&token=${bob.session.refreshJwt}`);
    await new Promise((r) => setTimeout(r, 300)); // the last lines reach the file

    const lines = fs.readFileSync(pds.logFile, 'utf8').split('\n').filter(Boolean);
    let requests = 0;
    let withDid = 0;
    for (const line of lines) {
      let o;
      assert.doesNotThrow(() => (o = JSON.parse(line)), `not JSON: ${line}`);
      assert.equal(typeof o.time, 'string');
      assert.ok(['error', 'warn', 'info', 'debug'].includes(o.level), line);
      assert.equal(typeof o.msg, 'string');
      if (o.msg === 'request') {
        requests++;
        for (const k of ['req', 'method', 'path', 'status', 'duration_ms', 'ip']) assert.ok(k in o, `${k} in ${line}`);
        assert.equal(typeof o.status, 'number');
        if (o.path.startsWith('/xrpc/com.')) assert.equal(o.nsid, o.path.slice(6), line);
        if (o.did) withDid++;
      }
      for (const s of secrets) assert.ok(!line.includes(s), `a secret (${s.slice(0, 6)}…) in: ${line}`);
    }
    assert.ok(requests > 20, `request lines: ${requests}`);
    assert.ok(withDid > 3, 'authenticated requests name their DID');
    const post = lines.map((l) => JSON.parse(l)).find((o) => o.msg === 'request' && o.nsid === 'com.atproto.server.createAppPassword');
    assert.equal(post.did, bob.did);
    assert.equal(post.method, 'POST');
    assert.equal(post.status, 200);
  });
});

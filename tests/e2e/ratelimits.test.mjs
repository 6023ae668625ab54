// Rate limits end to end: the reference PDS's limits route by route (values, keys and the
// RateLimit-* headers, 429 RateLimitExceeded with Retry-After), write points, the bypass key
// and CIDR bypass ranges, X-Forwarded-For believed only from a trusted proxy, two
// processes on one database sharing one set of limits, counters surviving a restart,
// refusals that cost the database nothing, and limits switched off.
// Each test speaks from its own client address (X-Forwarded-For from loopback, a trusted
// proxy by default), so the per-address limits of one test never touch another's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createAccount, randomHex, startPds, useTestEnv } from './lib/index.mjs';

const BYPASS_KEY = `bypass-${randomHex(8)}`;
const env = useTestEnv({
  pds: {
    env: {
      PDS_RATE_LIMIT_BYPASS_KEY: BYPASS_KEY,
      PDS_RATE_LIMIT_BYPASS_IPS: '198.51.100.0/24, 2001:db8:feed::/48',
    },
  },
});
const extra = [];
after(async () => {
  for (const p of extra) await p.stop();
});

let ipSeq = 0;
/** A client address no other test uses. */
const freshIp = () => `203.0.${113 + Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;

/** One XRPC call as a client at `ip`; returns { status, body, headers }. */
async function call(pds, nsid, { ip, token, body, method, params, headers = {}, raw } = {}) {
  const url = new URL(`${pds.url}/xrpc/${nsid}`);
  for (const [k, v] of Object.entries(params ?? {})) url.searchParams.set(k, v);
  const h = { ...headers };
  if (ip) h['x-forwarded-for'] = ip;
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined && !raw) h['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: h,
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const limitOf = (r) => ({
  limit: Number(r.headers.get('ratelimit-limit')),
  remaining: Number(r.headers.get('ratelimit-remaining')),
  policy: r.headers.get('ratelimit-policy'),
  reset: Number(r.headers.get('ratelimit-reset')),
});

/** Asserts a 429 as the reference sends it. */
function assertRefused(r, limit, windowS, what) {
  assert.equal(r.status, 429, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.error, 'RateLimitExceeded', what);
  assert.equal(r.body.message, 'Rate Limit Exceeded', what);
  const l = limitOf(r);
  assert.equal(l.limit, limit, what);
  assert.equal(l.remaining, 0, what);
  assert.equal(l.policy, `${limit};w=${windowS}`, what);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= windowS, `${what}: Retry-After ${retry}`);
  const now = Date.now() / 1000;
  assert.ok(l.reset > now && l.reset <= now + windowS + 1, `${what}: reset ${l.reset}`);
}

/** Sends `n` calls (at most `conc` at once); returns their statuses in order of sending. */
async function burst(n, conc, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

/** A new account, created from its own address (createAccount is limited per address). */
async function account(pds) {
  const id = randomHex(4);
  const r = await call(pds, 'com.atproto.server.createAccount', {
    ip: freshIp(),
    body: { handle: `r${id}.test`, email: `r${id}@example.test`, password: `pw-${id}` },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { did: r.body.did, handle: r.body.handle, password: `pw-${id}`, token: r.body.accessJwt };
}

// The reference's limits (reference-pds-facts.md §1.1), as the admin API lists them.
const REFERENCE = {
  'global-ip': [3000, 300],
  'repo-write-hour': [5000, 3600],
  'repo-write-day': [35000, 86400],
  createAccount: [100, 300],
  'createSession-5m': [30, 300],
  'createSession-day': [300, 86400],
  deleteAccount: [50, 300],
  'requestAccountDelete-day': [15, 86400],
  'requestAccountDelete-hour': [5, 3600],
  'requestEmailConfirmation-day': [15, 86400],
  'requestEmailConfirmation-hour': [5, 3600],
  'requestEmailUpdate-day': [15, 86400],
  'requestEmailUpdate-hour': [5, 3600],
  'requestPasswordReset-day': [50, 86400],
  'requestPasswordReset-hour': [15, 3600],
  resetPassword: [50, 300],
  'updateHandle-5m': [10, 300],
  'updateHandle-day': [50, 86400],
  uploadBlob: [1000, 86400],
  getRepo: [6000, 300],
};

describe('the reference limits', () => {
  test('are on by default and listed with the reference values (and ours for OAuth)', async () => {
    const r = await call(env.pds, 'com.atproto.server.describeServer', { ip: freshIp() });
    assert.equal(r.status, 200);
    assert.deepEqual(limitOf(r).policy, '3000;w=300');
    const l = await fetch(`${env.pds.url}/xrpc/_rateLimits`, { headers: { authorization: env.pds.adminAuth() } });
    const body = await l.json();
    assert.equal(body.enabled, true);
    const byName = Object.fromEntries(body.limits.map((x) => [x.name, x]));
    for (const [name, [points, windowS]] of Object.entries(REFERENCE)) {
      assert.equal(byName[name]?.points, points, name);
      assert.equal(byName[name].windowSeconds, windowS, name);
      assert.equal(byName[name].enabled, true, name);
    }
    for (const name of ['oauth-par', 'oauth-token', 'oauth-signin-5m', 'oauth-signin-day']) {
      assert.ok(byName[name]?.points > 0, name);
    }
  });

  test('global-ip: 3,000 calls per address per 5 minutes, counted down in the headers', async () => {
    const ip = freshIp();
    const first = await call(env.pds, 'com.atproto.server.describeServer', { ip });
    const l = limitOf(first);
    assert.deepEqual([l.limit, l.remaining, l.policy], [3000, 2999, '3000;w=300']);
    const statuses = await burst(2999, 16, async () => (await call(env.pds, 'com.atproto.server.describeServer', { ip })).status);
    assert.equal(statuses.filter((s) => s === 200).length, 2999);
    const over = await call(env.pds, 'com.atproto.server.describeServer', { ip });
    assertRefused(over, 3000, 300, 'global-ip');
    // another address is not touched, and methods we proxy or do not know count too
    assert.equal((await call(env.pds, 'com.atproto.server.describeServer', { ip: freshIp() })).status, 200);
    const unknown = await call(env.pds, 'com.example.nothing', { ip });
    assertRefused(unknown, 3000, 300, 'global-ip on an unknown method');
  });

  test('oauth-par: 300 pushed authorization requests per address per minute, refused as OAuth says', async () => {
    const ip = freshIp();
    const par = () =>
      fetch(`${env.pds.url}/oauth/par`, {
        method: 'POST',
        headers: { 'x-forwarded-for': ip, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_id=http%3A%2F%2Flocalhost',
      });
    // each is refused on its merits (401: no DPoP proof) but counted before any work
    const statuses = await burst(300, 16, async () => (await par()).status);
    assert.ok(statuses.every((st) => st === 401), JSON.stringify([...new Set(statuses)]));
    const over = await par();
    assert.equal(over.status, 429);
    const body = await over.json();
    assert.equal(body.error, 'rate_limit_exceeded');
    assert.match(body.error_description, /try again later/);
    const l = limitOf(over);
    assert.deepEqual([l.limit, l.remaining, l.policy], [300, 0, '300;w=60']);
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    // another address still reaches the endpoint
    const other = await fetch(`${env.pds.url}/oauth/par`, {
      method: 'POST',
      headers: { 'x-forwarded-for': freshIp(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=http%3A%2F%2Flocalhost',
    });
    assert.equal(other.status, 401);
  });

  test('sync.getRepo has its own bucket of 6,000 and leaves global-ip alone', async () => {
    const acct = await account(env.pds);
    const ip = freshIp();
    const before = limitOf(await call(env.pds, 'com.atproto.server.describeServer', { ip }));
    const r = await call(env.pds, 'com.atproto.sync.getRepo', { ip, params: { did: acct.did } });
    assert.equal(r.status, 200);
    assert.deepEqual([limitOf(r).limit, limitOf(r).remaining, limitOf(r).policy], [6000, 5999, '6000;w=300']);
    const after = limitOf(await call(env.pds, 'com.atproto.server.describeServer', { ip }));
    assert.equal(after.remaining, before.remaining - 1);
  });

  test('createSession: 30 per identifier and address per 5 minutes, then even the right password is refused', async () => {
    const acct = await account(env.pds);
    const ip = freshIp();
    const statuses = [];
    for (let i = 0; i < 30; i++) {
      const r = await call(env.pds, 'com.atproto.server.createSession', { ip, body: { identifier: acct.handle, password: 'wrong' } });
      statuses.push(r.status);
      if (i === 0) assert.deepEqual([limitOf(r).limit, limitOf(r).remaining, limitOf(r).policy], [30, 29, '30;w=300']);
    }
    assert.deepEqual([...new Set(statuses)], [401]);
    const right = await call(env.pds, 'com.atproto.server.createSession', { ip, body: { identifier: acct.handle, password: acct.password } });
    assertRefused(right, 30, 300, 'createSession');
    // the key is identifier and address: another address, or another identifier, goes on
    const other = await call(env.pds, 'com.atproto.server.createSession', { ip: freshIp(), body: { identifier: acct.handle, password: acct.password } });
    assert.equal(other.status, 200);
    const otherId = await call(env.pds, 'com.atproto.server.createSession', { ip, body: { identifier: acct.did, password: acct.password } });
    assert.equal(otherId.status, 200);
  });

  // [nsid, limit, window s, how to call it] for the per-address routes
  const perAddress = [
    ['com.atproto.server.createAccount', 100, 300, { body: { handle: 'x', email: 'x', password: 'x' } }],
    ['com.atproto.server.deleteAccount', 50, 300, { body: { did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', password: 'x', token: 'x' } }],
    ['com.atproto.server.requestPasswordReset', 15, 3600, { body: { email: 'nobody@example.test' } }],
    ['com.atproto.server.resetPassword', 50, 300, { body: { token: 'nope', password: 'whatever-1' } }],
  ];
  for (const [nsid, limit, windowS, opts] of perAddress) {
    test(`${nsid.split('.').pop()}: ${limit} per address per ${windowS} s`, async () => {
      const ip = freshIp();
      const first = await call(env.pds, nsid, { ip, ...opts });
      assert.notEqual(first.status, 429);
      assert.deepEqual([limitOf(first).limit, limitOf(first).remaining, limitOf(first).policy], [limit, limit - 1, `${limit};w=${windowS}`]);
      // deleteAccount is bulk work, which overload protection admits only a few at a time
      const conc = nsid.endsWith('deleteAccount') ? 1 : 8;
      const statuses = await burst(limit - 1, conc, async () => (await call(env.pds, nsid, { ip, ...opts })).status);
      assert.ok(!statuses.includes(429), `${nsid} refused early: ${statuses}`);
      assertRefused(await call(env.pds, nsid, { ip, ...opts }), limit, windowS, nsid);
      assert.notEqual((await call(env.pds, nsid, { ip: freshIp(), ...opts })).status, 429);
    });
  }

  test('uploadBlob: 1,000 per address per day (the reason migration sources get the bypass)', async () => {
    const acct = await account(env.pds);
    const ip = freshIp();
    const upload = (i) => call(env.pds, 'com.atproto.repo.uploadBlob', { ip, token: acct.token, raw: true, body: Buffer.from(`blob ${i}`), headers: { 'content-type': 'text/plain' } });
    const first = await upload(0);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual([limitOf(first).limit, limitOf(first).remaining, limitOf(first).policy], [1000, 999, '1000;w=86400']);
    const statuses = await burst(999, 8, async (i) => (await upload(i + 1)).status);
    assert.equal(statuses.filter((s) => s === 200).length, 999);
    assertRefused(await upload(1000), 1000, 86400, 'uploadBlob');
    const bypassed = await call(env.pds, 'com.atproto.repo.uploadBlob', { ip, token: acct.token, raw: true, body: Buffer.from('more'), headers: { 'content-type': 'text/plain', 'x-ratelimit-bypass': BYPASS_KEY } });
    assert.equal(bypassed.status, 200);
  });

  // [nsid, tightest limit, its window s, the other window's limit] for the per-account routes
  const perAccount = [
    ['com.atproto.server.requestAccountDelete', 5, 3600],
    ['com.atproto.server.requestEmailConfirmation', 5, 3600],
    ['com.atproto.server.requestEmailUpdate', 5, 3600],
    ['com.atproto.identity.updateHandle', 10, 300, { body: { handle: 'not a handle' } }],
  ];
  for (const [nsid, limit, windowS, opts = {}] of perAccount) {
    test(`${nsid.split('.').pop()}: ${limit} per account per ${windowS} s, from any address`, async () => {
      const acct = await account(env.pds);
      for (let i = 0; i < limit; i++) {
        const r = await call(env.pds, nsid, { ip: freshIp(), token: acct.token, method: 'POST', ...opts });
        assert.notEqual(r.status, 429, `${nsid} #${i}: ${JSON.stringify(r.body)}`);
        if (i === 0) assert.deepEqual([limitOf(r).limit, limitOf(r).remaining, limitOf(r).policy], [limit, limit - 1, `${limit};w=${windowS}`]);
      }
      assertRefused(await call(env.pds, nsid, { ip: freshIp(), token: acct.token, method: 'POST', ...opts }), limit, windowS, nsid);
      // another account is not touched
      const other = await account(env.pds);
      assert.notEqual((await call(env.pds, nsid, { ip: freshIp(), token: other.token, method: 'POST', ...opts })).status, 429);
    });
  }

  test('repo writes: create 3, update 2, delete 1 points, applyWrites sums them, 5,000 an hour', async () => {
    const acct = await account(env.pds);
    const ip = freshIp();
    // posts' keys are TIDs (records are validated): the i-th of a run of valid TIDs
    const B32 = '234567abcdefghijklmnopqrstuvwxyz';
    const tid = (i) => '3ab' + Array.from({ length: 10 }, (_, k) => B32[Math.floor(i / 32 ** (9 - k)) % 32]).join('');
    const create = (i) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', rkey: tid(i), value: { $type: 'app.bsky.feed.post', text: `post ${i}`, createdAt: new Date().toISOString() } });
    for (let b = 0; b < 8; b++) {
      const writes = Array.from({ length: 200 }, (_, i) => create(b * 200 + i));
      const r = await call(env.pds, 'com.atproto.repo.applyWrites', { ip, token: acct.token, body: { repo: acct.did, writes } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    // 8 x 200 creates = 4,800 points: the hour's limit is now the tightest
    const put = await call(env.pds, 'com.atproto.repo.putRecord', { ip, token: acct.token, body: { repo: acct.did, collection: 'app.bsky.feed.post', rkey: tid(0), record: { $type: 'app.bsky.feed.post', text: 'edited', createdAt: new Date().toISOString() } } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual([limitOf(put).limit, limitOf(put).remaining, limitOf(put).policy], [5000, 198, '5000;w=3600']);
    const del = await call(env.pds, 'com.atproto.repo.deleteRecord', { ip, token: acct.token, body: { repo: acct.did, collection: 'app.bsky.feed.post', rkey: tid(1) } });
    assert.equal(limitOf(del).remaining, 197);
    const rec = await call(env.pds, 'com.atproto.repo.createRecord', { ip, token: acct.token, body: { repo: acct.did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'one more', createdAt: new Date().toISOString() } } });
    assert.equal(limitOf(rec).remaining, 194);
    // 66 creates (198 points) do not fit in 194: refused whole, nothing written
    const writes = Array.from({ length: 66 }, (_, i) => create(5000 + i));
    const over = await call(env.pds, 'com.atproto.repo.applyWrites', { ip, token: acct.token, body: { repo: acct.did, writes } });
    assertRefused(over, 5000, 3600, 'applyWrites past the hour');
    const listed = await call(env.pds, 'com.atproto.repo.getRecord', { ip: freshIp(), params: { repo: acct.did, collection: 'app.bsky.feed.post', rkey: tid(5000) } });
    assert.equal(listed.status, 400);
    // points are per account, from every address: a write elsewhere sees the same count
    const elsewhere = await call(env.pds, 'com.atproto.repo.deleteRecord', { ip: freshIp(), token: acct.token, body: { repo: acct.did, collection: 'app.bsky.feed.post', rkey: tid(2) } });
    assert.equal(elsewhere.status, 200);
    assert.equal(limitOf(elsewhere).remaining, 193);
  });

  test('the bypass key skips limits (a wrong key does not), in constant time', async () => {
    const acct = await account(env.pds);
    const ip = freshIp();
    await burst(30, 4, () => call(env.pds, 'com.atproto.server.createSession', { ip, body: { identifier: acct.handle, password: 'wrong' } }));
    const wrong = await call(env.pds, 'com.atproto.server.createSession', { ip, headers: { 'x-ratelimit-bypass': `${BYPASS_KEY}x` }, body: { identifier: acct.handle, password: acct.password } });
    assertRefused(wrong, 30, 300, 'wrong bypass key');
    const right = await call(env.pds, 'com.atproto.server.createSession', { ip, headers: { 'x-ratelimit-bypass': BYPASS_KEY }, body: { identifier: acct.handle, password: acct.password } });
    assert.equal(right.status, 200);
    assert.equal(right.headers.get('ratelimit-limit'), null, 'a bypassed request carries no limit headers');
  });

  test('bypass addresses are real CIDR ranges (the reference drops the prefix)', async () => {
    const nsid = 'com.atproto.server.resetPassword';
    const body = { token: 'nope', password: 'whatever-1' };
    for (const ip of ['198.51.100.77', '198.51.100.254', '2001:db8:feed:1::9']) {
      const statuses = await burst(60, 8, async () => (await call(env.pds, nsid, { ip, body })).status);
      assert.ok(!statuses.includes(429), `${ip} inside the range was limited`);
    }
    const outside = '198.51.101.1';
    const statuses = await burst(51, 8, async () => (await call(env.pds, nsid, { ip: outside, body })).status);
    assert.equal(statuses.filter((s) => s === 429).length, 1, `${outside} is outside the range`);
  });

  test('an IPv6 client is one client across its /64', async () => {
    const nsid = 'com.atproto.server.resetPassword';
    const body = { token: 'nope', password: 'whatever-1' };
    const statuses = await burst(50, 8, async (i) => (await call(env.pds, nsid, { ip: `2001:db8:77:1::${(i + 1).toString(16)}`, body })).status);
    assert.ok(!statuses.includes(429));
    assertRefused(await call(env.pds, nsid, { ip: '2001:db8:77:1:ffff::1', body }), 50, 300, 'same /64');
    assert.notEqual((await call(env.pds, nsid, { ip: '2001:db8:77:2::1', body })).status, 429);
  });

  test('a client that ignores 429s costs the database nothing', async () => {
    const ip = freshIp();
    const nsid = 'com.atproto.server.resetPassword';
    const body = { token: 'nope', password: 'whatever-1' };
    await burst(50, 8, () => call(env.pds, nsid, { ip, body }));
    assert.equal((await call(env.pds, nsid, { ip, body })).status, 429);
    // every statement the server runs, on any connection, as its overload protection counts them
    const statements = async () => {
      const r = await fetch(`${env.pds.url}/xrpc/_rateLimits`, { headers: { authorization: env.pds.adminAuth() } });
      return (await r.json()).overload.dbStatements;
    };
    const before = await statements();
    const t0 = Date.now();
    const statuses = await burst(500, 8, async () => (await call(env.pds, nsid, { ip, body })).status);
    const secs = (Date.now() - t0) / 1000;
    const after = await statements();
    assert.deepEqual([...new Set(statuses)], [429]);
    // the admin call's own reads, the background threads' few statements a second, and a
    // global-ip lease per 64 requests; nothing per refusal
    assert.ok(after - before < 20 + 8 * secs + 500 / 64, `${after - before} statements for 500 refusals in ${secs.toFixed(1)} s`);
  });
});

describe('client address', () => {
  test('X-Forwarded-For from a peer that is not a trusted proxy changes nothing', async () => {
    const strict = await startPds({ plcUrl: env.plc.url, env: { PDS_TRUSTED_PROXIES: 'none' } });
    extra.push(strict);
    const nsid = 'com.atproto.server.resetPassword';
    const body = { token: 'nope', password: 'whatever-1' };
    const statuses = await burst(50, 8, async () => (await call(strict, nsid, { ip: freshIp(), body })).status);
    assert.ok(!statuses.includes(429));
    // every spoofed address was the peer's own: the 51st is refused whatever it claims
    assertRefused(await call(strict, nsid, { ip: freshIp(), body }), 50, 300, 'spoofed XFF');
  });
});

describe('two processes on one database', () => {
  let twin;
  before(async () => {
    twin = await startPds({ plcUrl: env.plc.url, env: { PDS_DATABASE_URL: env.pds.dbUrl, PDS_JWT_SECRET: randomHex(32) } });
    extra.push(twin);
  });

  test('admit together no more than one limit', async () => {
    const ip = freshIp();
    const servers = [env.pds, twin];
    const statuses = await burst(3200, 16, async (i) => (await call(servers[i % 2], 'com.atproto.server.describeServer', { ip })).status);
    const admitted = statuses.filter((s) => s === 200).length;
    assert.ok(admitted <= 3000, `${admitted} admitted by both, over the limit of 3000`);
    // points leased to one process and not spent by the end are lost, never more than a few
    assert.ok(admitted >= 2950, `${admitted} admitted: leases were lost`);
    assert.equal(statuses.filter((s) => s === 429).length, 3200 - admitted);
    const acct = await account(env.pds);
    const sip = freshIp();
    const tries = [];
    for (let i = 0; i < 40; i++) {
      const r = await call(servers[i % 2], 'com.atproto.server.createSession', { ip: sip, body: { identifier: acct.handle, password: 'wrong' } });
      tries.push(r.status);
    }
    const answered = tries.filter((s) => s !== 429).length;
    assert.ok(answered <= 30 && answered >= 28, `${answered} sign-in attempts answered across two processes`);
  });

  test('the counters survive a restart', async () => {
    const acct = await account(env.pds);
    const ip = freshIp();
    await burst(31, 4, () => call(twin, 'com.atproto.server.createSession', { ip, body: { identifier: acct.handle, password: 'wrong' } }));
    assert.equal((await call(twin, 'com.atproto.server.createSession', { ip, body: { identifier: acct.handle, password: acct.password } })).status, 429);
    await twin.stop();
    const again = await startPds({ plcUrl: env.plc.url, env: { PDS_DATABASE_URL: env.pds.dbUrl, PDS_JWT_SECRET: randomHex(32) } });
    extra.push(again);
    const r = await call(again, 'com.atproto.server.createSession', { ip, body: { identifier: acct.handle, password: acct.password } });
    assertRefused(r, 30, 300, 'after a restart');
  });
});

describe('overload protection', () => {
  test('work that would wait is refused at once with 503 and Retry-After; health still answers', async () => {
    // one handler thread, and sign-ins that each hash a password: a standing queue at once
    const small = await startPds({ plcUrl: env.plc.url, env: { PDS_HANDLER_THREADS: '1' } });
    extra.push(small);
    const acct = await account(small);
    const results = await burst(60, 60, async () => {
      const t0 = Date.now();
      const r = await call(small, 'com.atproto.server.createSession', { ip: freshIp(), body: { identifier: acct.handle, password: 'wrong-password' } });
      return { status: r.status, ms: Date.now() - t0, body: r.body, retry: r.headers.get('retry-after') };
    });
    const health = await fetch(`${small.url}/xrpc/_health`);
    assert.equal(health.status, 200);
    const refused = results.filter((r) => r.status === 503);
    const answered = results.filter((r) => r.status === 401);
    assert.equal(refused.length + answered.length, 60, JSON.stringify(results.map((r) => r.status)));
    assert.ok(refused.length > 0, 'nothing was refused');
    assert.ok(answered.length > 0, 'nothing was admitted');
    for (const r of refused) {
      assert.equal(r.body.error, 'NotEnoughResources');
      assert.equal(r.retry, '1');
    }
    const st = await fetch(`${small.url}/xrpc/_rateLimits`, { headers: { authorization: small.adminAuth() } });
    const o = (await st.json()).overload;
    assert.equal(o.handlerThreads, 1);
    assert.ok(o.refusedByThisProcess.auth >= refused.length);
  });
});

describe('limits switched off', () => {
  test('PDS_RATE_LIMITS_ENABLED=false: no headers, no refusals', async () => {
    const off = await startPds({ plcUrl: env.plc.url, env: { PDS_RATE_LIMITS_ENABLED: 'false' } });
    extra.push(off);
    const ip = freshIp();
    const statuses = await burst(60, 8, async () => {
      const r = await call(off, 'com.atproto.server.resetPassword', { ip, body: { token: 'nope', password: 'whatever-1' } });
      assert.equal(r.headers.get('ratelimit-limit'), null);
      return r.status;
    });
    assert.ok(!statuses.includes(429));
  });

  test('PDS_RATE_LIMITS changes one limit and refuses a bad one', async () => {
    const tuned = await startPds({ plcUrl: env.plc.url, env: { PDS_RATE_LIMITS: 'resetPassword=3/1m, global-ip=off' } });
    extra.push(tuned);
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const r = await call(tuned, 'com.atproto.server.resetPassword', { ip, body: { token: 'nope', password: 'whatever-1' } });
      assert.equal(limitOf(r).policy, '3;w=60');
    }
    assertRefused(await call(tuned, 'com.atproto.server.resetPassword', { ip, body: { token: 'nope', password: 'whatever-1' } }), 3, 60, 'tuned');
    const d = await call(tuned, 'com.atproto.server.describeServer', { ip });
    assert.equal(d.headers.get('ratelimit-limit'), null, 'global-ip is off');
    await assert.rejects(
      startPds({ plcUrl: env.plc.url, env: { PDS_RATE_LIMITS: 'no-such-limit=1/1m' }, startTimeoutMs: 5000 }),
      /no limit is named "no-such-limit"/,
    );
  });
});

// Account migration (issue 13), driven from the pages in headless Chromium, all on loopback
// with one PLC directory, one SMTP sink and one DNS server:
//   the reference PDS (npm @atproto/pds) -> this server, with 200+ records, 20+ blobs of a few
//   hundred KB, preferences and a custom-domain handle; the tab closed after the import and
//   reopened; a recovery key made in the browser;
//   this server -> the reference PDS (outbound);
//   this server -> another instance of it, with the server killed in the middle of the blob
//   transfer and restarted, a taken handle and a wrong PLC code on the way;
//   the faults: a wrong password, an old host that is down, slow or answers garbage, a CAR
//   that does not verify, blob bytes that do not match their CID, a repository over quota, a
//   second migration of the same DID, a cancel before the identity moves;
//   the operator's `pdsadmin account migrate-in` and the jobs in `pdsadmin status`.
// After each move: the checks a relay and an AppView make.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { AtpAgent } from '@atproto/api';
import { verifyRepoCar } from '@atproto/repo';
import * as plcLib from '@did-plc/lib';
import { startPlc, startPds, createAccount, waitFor, sleep, startBrowser } from './lib/index.mjs';
import { startSmtp, tokenOf } from './lib/mail.mjs';
import { startDns } from './lib/dns.mjs';
import { readFirehose, runPdsadmin } from './lib/ops.mjs';
import { startReferencePds, setDnsServer } from './lib/refpds.mjs';

const CUSTOM = 'alice.moving-house.com'; // alice's own domain, proved by a DNS TXT record
const PASSWORD = 'correct horse battery';

let plc, smtp, dns, ref, here, other, proxy, browser;
const servers = () => [here, other].filter(Boolean);
let logShown = false;

/** The sha2-256 digest inside a base32 CIDv1 string (its last 32 bytes). */
function cidDigest(cid) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of cid.slice(1)) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out.slice(-32));
}

/** Bytes that sniff as an image (PNG or JPEG magic) and are otherwise random. */
function imageBytes(size, kind = 'png') {
  const head = kind === 'png' ? Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) : Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

/** An account on pds with posts, image posts and preferences. */
async function makeAccount(pds, { handle, email, posts = 0, images = 0, imageSize = 100_000 }) {
  const u = await createAccount(pds, { handle, email, password: PASSWORD });
  const repo = u.did;
  for (let i = 0; i < posts; i += 50) {
    const writes = [];
    for (let k = i; k < Math.min(posts, i + 50); k++) {
      writes.push({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: { $type: 'app.bsky.feed.post', text: `post ${k}`, createdAt: new Date().toISOString() } });
    }
    await u.agent.com.atproto.repo.applyWrites({ repo, writes });
  }
  u.blobs = [];
  const writes = [];
  for (let i = 0; i < images; i++) {
    const kind = i % 2 ? 'jpeg' : 'png';
    const up = await u.agent.uploadBlob(imageBytes(imageSize + i * 1000, kind), { encoding: `image/${kind}` });
    u.blobs.push(up.data.blob.ref.toString());
    writes.push({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: {
      $type: 'app.bsky.feed.post', text: `image ${i}`, createdAt: new Date().toISOString(),
      embed: { $type: 'app.bsky.embed.images', images: [{ image: up.data.blob, alt: `image ${i}` }] } } });
  }
  if (writes.length) await u.agent.com.atproto.repo.applyWrites({ repo, writes });
  await u.agent.app.bsky.actor.putPreferences({
    preferences: [
      { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true },
      { $type: 'app.bsky.actor.defs#savedFeedsPrefV2', items: [{ id: '3l6ovcmm2vd2j', type: 'timeline', value: 'following', pinned: true }] },
    ],
  });
  u.records = posts + images + 0;
  return u;
}

/** A JSON client of a server's migration endpoints with the device cookie and CSRF token
 * of its page, as a browser has them. */
async function pageApi(pds, path = '/migrate') {
  const r = await fetch(pds.url + path);
  const html = await r.text();
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const csrf = html.match(/name="csrf-token" content="([^"]+)"/)[1];
  return async (p, body, headers = {}) => {
    const res = await fetch(pds.url + p, {
      method: body ? 'POST' : 'GET',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json', ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let j;
    try {
      j = JSON.parse(text);
    } catch {
      j = text;
    }
    return { status: res.status, body: j };
  };
}

/** Waits for a job (through the page API) to reach one of states. */
async function jobUntil(call, ref, states, timeoutMs = 60000) {
  return waitFor(async () => {
    const r = await call(`/migrate/api/job?id=${ref.id}`, undefined, { 'x-migration-token': ref.token });
    return states.includes(r.body.state) && r.body;
  }, { timeoutMs, intervalMs: 200, what: `migration ${ref.id} to reach ${states.join('/')}` });
}

/** What a page logged besides the answers it was meant to get (a CSP violation, a script
 * error, a failed request would show here). */
const unexpected = (page) => page.problems.filter((p) => !/status of (400|401|409|502)/.test(p));

async function pageState(page, states, timeout = 60000) {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout });
}

/** The checks a relay and an AppView make after a move from `from` to `to`. */
async function checkMoved({ did, to, from, records, blobs, handle, keptCommit = false }) {
  const agent = new AtpAgent({ service: to.url });
  await agent.login({ identifier: did, password: PASSWORD });
  const doc = await (await fetch(`${plc.url}/${did}`)).json();
  const svc = doc.service.find((s) => s.id.endsWith('#atproto_pds'));
  assert.equal(svc.serviceEndpoint, to.url, 'the DID document names the new PDS');
  const creds = await agent.com.atproto.identity.getRecommendedDidCredentials();
  // the directory's state as did:keys (its document renders k256 keys in a legacy form)
  const data = await (await fetch(`${plc.url}/${did}/data`)).json();
  assert.equal(data.services.atproto_pds.endpoint, to.url);
  assert.equal(data.verificationMethods.atproto, creds.data.verificationMethods.atproto, 'and its key');
  if (handle) assert.deepEqual(doc.alsoKnownAs, [`at://${handle}`]);
  let car = await agent.com.atproto.sync.getRepo({ did });
  if (keptCommit) {
    // the reference keeps an imported commit as the old host signed it (its importRepo and
    // activateAccount write no commit of their own), so its repository verifies against the
    // new key only from the account's next write; until then, against the old one
    const oldKey = (await (await fetch(`${plc.url}/${did}/log/audit`)).json()).at(-2).operation.verificationMethods.atproto;
    const before = await verifyRepoCar(new Uint8Array(car.data), did, oldKey);
    assert.ok(before.creates.length >= records);
    await agent.post({ text: 'first post from the new host' });
    car = await agent.com.atproto.sync.getRepo({ did });
    records += 1;
  }
  const verified = await verifyRepoCar(new Uint8Array(car.data), did, creds.data.verificationMethods.atproto);
  assert.ok(verified.creates.length >= records, `getRepo verifies with ${verified.creates.length} records`);
  const missing = await agent.com.atproto.repo.listMissingBlobs({ limit: 1000 });
  assert.equal(missing.data.blobs.length, 0, 'listMissingBlobs is empty');
  const st = await agent.com.atproto.server.checkAccountStatus();
  assert.equal(st.data.activated, true);
  assert.equal(st.data.importedBlobs, blobs);
  assert.equal(st.data.expectedBlobs, blobs);
  const events = await readFirehose(to, {
    cursor: 0,
    timeoutMs: 15000,
    until: (evs) => {
      const mine = evs.filter((e) => e.body?.did === did).map((e) => e.header.t);
      return mine.includes('#identity') && mine.includes('#sync') &&
        evs.some((e) => e.body?.did === did && e.header.t === '#account' && e.body.active === true);
    },
  });
  assert.ok(events.length > 0);
  const old = await (await fetch(`${from.url}/xrpc/com.atproto.sync.getRepoStatus?did=${did}`)).json();
  assert.equal(old.active, false, 'the old PDS reports the account inactive');
  assert.equal(old.status, 'deactivated');
  return { agent, doc };
}

before(async () => {
  plc = await startPlc();
  smtp = await startSmtp();
  dns = await startDns({});
  setDnsServer(dns.server);
  ref = await startReferencePds({ plcUrl: plc.url, smtpUrl: smtp.url });
  const common = {
    PDS_EMAIL_SMTP_URL: smtp.url,
    PDS_EMAIL_FROM_ADDRESS: 'pds@example.test',
    PDS_HANDLE_DNS_SERVER: dns.server,
  };
  here = await startPds({
    plcUrl: plc.url,
    env: { ...common, PDS_SERVICE_HANDLE_DOMAINS: '.here.test', PDS_SERVICE_DID: 'did:web:here.localhost', PDS_MIGRATION_TIMEOUT: '2000' },
  });
  other = await startPds({
    plcUrl: plc.url,
    env: {
      ...common, PDS_SERVICE_HANDLE_DOMAINS: '.other.test', PDS_SERVICE_DID: 'did:web:other.localhost',
      PDS_ACCOUNT_STORAGE_QUOTA: '2500000', PDS_MIGRATION_REQUESTS_PER_SECOND: '4',
    },
  });
  browser = await startBrowser('migrate');
});

afterEach((t) => {
  if (t.passed || logShown) return;
  logShown = true;
  for (const s of servers()) process.stderr.write(`\n--- log of ${s.url} ---\n${s.logTail(80)}\n`);
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  for (const s of servers()) await s.stop({ keepFiles: logShown || !!process.env.PDS_E2E_KEEP });
  await ref?.stop();
  await dns?.stop();
  await smtp?.stop();
  await plc?.stop();
});

// Accounts, made once: alice on the reference (the big one, with her own domain), bob here
// (moves out to the reference), carol here (moves to the other instance), taken on the
// other instance (holds a handle), erin on the reference (too big for the other's quota).
let alice, bob, carol, erin;
test('the accounts to move exist, with their handles in DNS', async () => {
  [alice, bob, carol, erin] = await Promise.all([
    makeAccount(ref, { handle: 'alice.ref.test', email: 'alice@example.test', posts: 210, images: 22, imageSize: 200_000 }),
    makeAccount(here, { handle: 'bob.here.test', email: 'bob@example.test', posts: 30, images: 3 }),
    makeAccount(here, { handle: 'carol.here.test', email: 'carol@example.test', posts: 40, images: 12, imageSize: 120_000 }),
    makeAccount(ref, { handle: 'erin.ref.test', email: 'erin@example.test', posts: 5, images: 12, imageSize: 250_000 }),
  ]);
  await createAccount(other, { handle: 'taken.other.test', email: 'taken@example.test' });
  await dns.setRecords({
    [`_atproto.${CUSTOM}`]: `did=${alice.did}`,
    '_atproto.alice.ref.test': `did=${alice.did}`,
    '_atproto.bob.here.test': `did=${bob.did}`,
    '_atproto.carol.here.test': `did=${carol.did}`,
    '_atproto.erin.ref.test': `did=${erin.did}`,
  });
  await alice.agent.com.atproto.identity.updateHandle({ handle: CUSTOM });
  const doc = await (await fetch(`${plc.url}/${alice.did}`)).json();
  assert.deepEqual(doc.alsoKnownAs, [`at://${CUSTOM}`]);
});

test('reference PDS -> this server, from the page: wrong password, plan, closed tab, recovery key', async () => {
  const sent = []; // every request body the pages send, to prove the private key stays put
  const watch = (page) => page.on('request', (r) => sent.push(`${r.url()} ${r.postData() ?? ''}`));
  let page = await browser.newPage();
  watch(page);
  const ctx = page.context();
  await page.goto(`${here.url}/migrate`);
  await browser.shot(page, 'in-find');
  await page.fill('#handle', CUSTOM);
  await page.click('#find-form button[type=submit]');
  await page.waitForSelector('#signin:not([hidden])');
  assert.equal(await page.textContent('#signin-host'), ref.url);
  await page.fill('#password', 'not the password');
  await page.click('#signin-form button[type=submit]');
  await page.waitForFunction(() => /did not accept this password/.test(document.getElementById('notice').textContent));
  await browser.shot(page, 'in-wrong-password');
  await page.fill('#password', PASSWORD);
  await page.click('#signin-form button[type=submit]');
  await pageState(page, ['confirm']);
  assert.equal(await page.isChecked('#handle-keep'), true, 'her own domain is offered to keep');
  const checks = await page.$$eval('#checks li', (lis) => lis.map((l) => l.textContent));
  assert.ok(checks.some((c) => /232 records/.test(c) || /records, 22 files/.test(c)), checks.join('\n'));
  await browser.shot(page, 'in-plan');
  await page.click('#start');
  // the tab is closed once the repository is imported, and the move goes on without it
  await page.waitForSelector('li[data-step=import_repo].done', { timeout: 30000 });
  await browser.shot(page, 'in-progress');
  await page.close();
  page = await browser.newPage({ context: ctx });
  watch(page);
  await page.goto(`${here.url}/migrate`);
  await page.fill('#handle', CUSTOM);
  await page.click('#find-form button[type=submit]');
  await page.waitForSelector('#signin:not([hidden])');
  await page.fill('#password', PASSWORD);
  await page.click('#signin-form button[type=submit]');
  await pageState(page, ['awaiting_token'], 60000);
  await browser.shot(page, 'in-resumed-verified');
  // a recovery key that only the user holds, made in the browser
  await page.check('#rk-add');
  await page.waitForFunction(() => document.getElementById('rk-private').value.length === 64);
  const privateHex = await page.inputValue('#rk-private');
  const didKey = (await page.textContent('#rk-did')).replace('Public key: ', '');
  assert.match(didKey, /^did:key:zDn/); // P-256
  await page.check('#rk-saved');
  const before = smtp.mailsTo('alice@example.test').length;
  await page.click('#request-token');
  const mail = await smtp.waitForMail('alice@example.test', { after: before, timeoutMs: 15000 });
  await page.waitForFunction(() => /on its way/.test(document.getElementById('token-sent').textContent));
  await browser.shot(page, 'in-recovery-key');
  await page.fill('#plc-token', tokenOf(mail));
  await page.click('#plc-submit');
  await pageState(page, ['done'], 60000);
  await browser.shot(page, 'in-done');
  assert.match(await page.textContent('#done-message'), /now lives at this server/);
  assert.ok(!sent.some((s) => s.includes(privateHex)), 'the private key was never sent');
  assert.deepEqual(unexpected(page), []);
  const data = await (await fetch(`${plc.url}/${alice.did}/data`)).json();
  assert.equal(data.rotationKeys[0], didKey, 'the user-held key comes first');
  await checkMoved({ did: alice.did, to: here, from: ref, records: 232, blobs: 22, handle: CUSTOM });
  const a = new AtpAgent({ service: here.url });
  await a.login({ identifier: CUSTOM, password: PASSWORD });
  const p = await a.app.bsky.actor.getPreferences();
  assert.ok(p.data.preferences.some((x) => x.$type === 'app.bsky.actor.defs#adultContentPref' && x.enabled));
  await page.close();
});

test('this server -> reference PDS (outbound), from the page', async () => {
  const page = await browser.newPage();
  await page.goto(`${here.url}/migrate/out`);
  await page.fill('#handle', 'bob.here.test');
  await page.fill('#password', PASSWORD);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#dest:not([hidden])');
  assert.equal(await page.inputValue('#dest-email'), 'bob@example.test');
  await page.fill('#dest-url', ref.url);
  await page.fill('#dest-password', PASSWORD);
  await browser.shot(page, 'out-destination');
  await page.click('#dest-form button[type=submit]');
  await pageState(page, ['confirm']);
  assert.equal(await page.inputValue('#handle-name'), 'bob');
  assert.equal(await page.inputValue('#handle-domain'), '.ref.test');
  await browser.shot(page, 'out-plan');
  await page.click('#start');
  await pageState(page, ['awaiting_token']);
  const before = smtp.mailsTo('bob@example.test').length;
  await page.click('#request-token');
  const mail = await smtp.waitForMail('bob@example.test', { after: before, timeoutMs: 15000 });
  await page.fill('#plc-token', tokenOf(mail));
  await page.click('#plc-submit');
  await pageState(page, ['done']);
  await browser.shot(page, 'out-done');
  assert.deepEqual(unexpected(page), []);
  await checkMoved({ did: bob.did, to: ref, from: here, records: 33, blobs: 3, handle: 'bob.ref.test', keptCommit: true });
  await page.close();
});

test('this server -> another instance: taken handle, server killed mid-blobs and restarted, wrong code', async () => {
  const page = await browser.newPage();
  await page.goto(`${other.url}/migrate`);
  await page.fill('#handle', 'carol.here.test');
  await page.click('#find-form button[type=submit]');
  await page.waitForSelector('#signin:not([hidden])');
  await page.fill('#password', PASSWORD);
  await page.click('#signin-form button[type=submit]');
  await pageState(page, ['confirm']);
  await page.fill('#handle-name', 'taken');
  await page.click('#start');
  await page.waitForFunction(() => /already taken here/.test(document.getElementById('notice').textContent));
  await browser.shot(page, 'two-handle-taken');
  await page.fill('#handle-name', 'carol');
  await page.click('#start');
  // paced at 4 requests a second, the 12 blobs take a few seconds: kill the server inside
  const ref1 = await page.evaluate(() => JSON.parse(sessionStorage.getItem('pds-migration-in')));
  const call = await pageApi(other);
  await waitFor(async () => {
    const r = await call(`/migrate/api/job?id=${ref1.id}`, undefined, { 'x-migration-token': ref1.token });
    return r.body.blobs?.done >= 2;
  }, { timeoutMs: 30000, intervalMs: 100, what: 'two blobs copied' });
  await other.kill();
  const mid = (await (async () => {
    const c = await import('pg');
    const db = new c.default.Client({ connectionString: other.dbUrl });
    await db.connect();
    const r = await db.query('SELECT count(*) FILTER (WHERE done) AS done, count(*) AS total FROM migration_blob');
    await db.end();
    return r.rows[0];
  })());
  assert.ok(Number(mid.done) >= 2 && Number(mid.done) < Number(mid.total), `killed with ${mid.done} of ${mid.total} blobs done`);
  await page.waitForFunction(() => /Lost contact/.test(document.getElementById('notice').textContent), null, { timeout: 10000 });
  await browser.shot(page, 'two-server-down');
  await other.restart();
  await pageState(page, ['awaiting_token'], 60000);
  assert.match(other.logTail(400), /migration 1: blobs done/);
  await browser.shot(page, 'two-resumed');
  const before = smtp.mailsTo('carol@example.test').length;
  await page.click('#request-token');
  const mail = await smtp.waitForMail('carol@example.test', { after: before, timeoutMs: 15000 });
  await page.fill('#plc-token', 'AAAAA-BBBBB');
  await page.click('#plc-submit');
  await page.waitForFunction(() => /did not accept the code/.test(document.getElementById('notice').textContent), null, { timeout: 30000 });
  await browser.shot(page, 'two-wrong-code');
  await page.fill('#plc-token', tokenOf(mail));
  await page.click('#plc-submit');
  await pageState(page, ['done']);
  await browser.shot(page, 'two-done');
  const { agent } = await checkMoved({ did: carol.did, to: other, from: here, records: 52, blobs: 12, handle: 'carol.other.test' });
  for (const cid of carol.blobs) {
    const b = await agent.com.atproto.sync.getBlob({ did: carol.did, cid });
    const digest = createHash('sha256').update(b.data).digest();
    assert.deepEqual(cidDigest(cid), digest, `blob ${cid} matches its CID`);
  }
  await page.close();
});

// A host in front of the other instance that can be made to fail: down, slow, garbage, a
// corrupted CAR, altered blob bytes. dave's DID document names it as his PDS.
function startFaultyHost(target) {
  const state = { mode: 'normal', slow: 0, seen: [] };
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const nsid = req.url.split('?')[0].replace('/xrpc/', '');
    state.seen.push(nsid);
    if (state.mode === 'slow' && nsid === 'com.atproto.server.getSession' && state.slow > 0) {
      state.slow -= 1;
      await sleep(3000);
    }
    const headers = { ...req.headers };
    for (const h of ['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'expect']) delete headers[h];
    const up = await fetch(target.url + req.url, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    let body = Buffer.from(await up.arrayBuffer());
    if (state.mode === 'garbage' && nsid === 'com.atproto.server.getSession') body = Buffer.from('<html>502 gateway</html>');
    if (state.mode === 'badcar' && nsid === 'com.atproto.sync.getRepo') body[body.length - 10] ^= 0xff;
    if (state.mode === 'badblob' && nsid === 'com.atproto.sync.getBlob') body[body.length - 1] ^= 0xff;
    const out = {};
    up.headers.forEach((v, k) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    res.writeHead(up.status, out);
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = server.address().port;
      resolve({
        url: `http://localhost:${port}`,
        state,
        down: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
        up: () => new Promise((r) => server.listen(port, '127.0.0.1', r)),
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

test('faults: down, garbage, slow, a CAR that does not verify, bad blob bytes, retry, second migration, cancel', async () => {
  const dave = await makeAccount(other, { handle: 'dave.other.test', email: 'dave@example.test', posts: 8, images: 3, imageSize: 30_000 });
  proxy = await startFaultyHost(other);
  const client = new plcLib.Client(plc.url);
  const last = await client.getLastOp(dave.did);
  await client.sendOperation(dave.did, await plcLib.updatePdsOp(last, other.rotationKey, proxy.url));
  const call = await pageApi(here);
  const oldActive = async () => (await (await fetch(`${other.url}/xrpc/com.atproto.sync.getRepoStatus?did=${dave.did}`)).json()).active;
  const hereHas = async () => (await (await fetch(`${here.url}/xrpc/com.atproto.sync.getRepoStatus?did=${dave.did}`)).json()).error !== 'RepoNotFound';

  // down
  await proxy.down();
  let r = await call('/migrate/api/in/start', { did: dave.did, password: PASSWORD });
  assert.equal(r.status, 502);
  assert.equal(r.body.error, 'OldHostUnreachable');
  assert.match(r.body.message, /did not answer/);
  await proxy.up();

  // garbage where the account's session should be
  proxy.state.mode = 'garbage';
  r = await call('/migrate/api/in/start', { did: dave.did, password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const job = { id: r.body.id, token: r.body.token };
  let j = await jobUntil(call, job, ['failed']);
  assert.equal(j.errorCode, 'BadAnswer');
  assert.match(j.error, /cannot read/);

  // a CAR that does not verify
  proxy.state.mode = 'badcar';
  r = await call('/migrate/api/job/retry', { id: job.id }, { 'x-migration-token': job.token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  j = await jobUntil(call, job, ['failed']);
  assert.equal(j.errorCode, 'BadRepository');
  assert.match(j.error, /does not verify/);
  assert.equal(await hereHas(), false, 'nothing was created here');

  // slow: a whole call times out, the job says so and tries again by itself
  proxy.state.mode = 'slow';
  proxy.state.slow = 4;
  r = await call('/migrate/api/job/retry', { id: job.id }, { 'x-migration-token': job.token });
  j = await waitFor(async () => {
    const x = (await call(`/migrate/api/job?id=${job.id}`, undefined, { 'x-migration-token': job.token })).body;
    return x.errorCode === 'Retrying' && x;
  }, { timeoutMs: 30000, intervalMs: 200, what: 'the job to wait and retry' });
  assert.match(j.error, /did not answer/);
  j = await jobUntil(call, job, ['confirm'], 30000);

  // blob bytes that do not match their CID
  proxy.state.mode = 'badblob';
  r = await call('/migrate/api/job/confirm', { id: job.id, handle: 'dave.here.test' }, { 'x-migration-token': job.token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  j = await jobUntil(call, job, ['failed']);
  assert.equal(j.errorCode, 'BlobsFailed');
  assert.equal(j.blobErrors.length, 3);
  assert.match(j.blobErrors[0].error, /do not match the blob's CID/);
  assert.equal(await oldActive(), true, 'the old account is still active');
  const page = await browser.newPage();
  await page.addInitScript((ref) => sessionStorage.setItem('pds-migration-in', JSON.stringify(ref)), job);
  await page.goto(`${here.url}/migrate`);
  await page.waitForSelector('#retry-blobs');
  await browser.shot(page, 'fault-bad-blobs');

  // a second migration of the same DID while this one is open
  const second = await runPdsadmin(['account', 'migrate-in', '--handle', dave.did], {
    env: { PDS_ADMIN_URL: here.url, PDS_ADMIN_PASSWORD: here.adminPassword }, input: `${PASSWORD}\n`,
  });
  assert.equal(second.code, 1);
  assert.match(second.stderr, /Another migration of this account is already running/);

  // the fault is gone: retry the blobs from the page; the gate passes
  proxy.state.mode = 'normal';
  await page.click('#retry-blobs');
  await pageState(page, ['awaiting_token']);
  assert.equal(await oldActive(), true, 'nothing is switched off before the identity moves');
  // cancel: the unfinished copy here goes, the old account stays as it was
  page.on('dialog', (d) => d.accept());
  await page.click('#cancel-token');
  await pageState(page, ['cancelled']);
  await browser.shot(page, 'fault-cancelled');
  assert.equal(await hereHas(), false, 'the unfinished copy is deleted');
  assert.equal(await oldActive(), true);
  const doc = await (await fetch(`${plc.url}/${dave.did}`)).json();
  assert.equal(doc.service[0].serviceEndpoint, proxy.url, 'the identity never moved');
  const db = new (await import('pg')).default.Client({ connectionString: here.dbUrl });
  await db.connect();
  const s = await db.query('SELECT secrets FROM migration_job WHERE id = $1', [job.id]);
  await db.end();
  assert.equal(s.rows[0].secrets, null, 'the credentials are erased');
  await page.close();
});

test('a repository over the quota stops before anything changes', async () => {
  const call = await pageApi(other);
  const r = await call('/migrate/api/in/start', { did: erin.did, password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const job = { id: r.body.id, token: r.body.token };
  const j = await jobUntil(call, job, ['confirm']);
  assert.equal(j.plan.ok, false);
  assert.match(j.plan.checks.find((c) => c.id === 'quota').text, /each account here may use 2500000/);
  const c = await call('/migrate/api/job/confirm', { id: job.id, handle: 'erin.other.test' }, { 'x-migration-token': job.token });
  assert.equal(c.status, 400);
  assert.equal(c.body.error, 'PreflightFailed');
  const page = await browser.newPage();
  await page.addInitScript((ref) => sessionStorage.setItem('pds-migration-in', JSON.stringify(ref)), job);
  await page.goto(`${other.url}/migrate`);
  await pageState(page, ['confirm']);
  assert.equal(await page.isDisabled('#start'), true);
  await browser.shot(page, 'fault-over-quota');
  await page.close();
});

test('pdsadmin account migrate-in moves an account for an operator; jobs show in status', async () => {
  const frank = await makeAccount(ref, { handle: 'frank.ref.test', email: 'frank@example.test', posts: 12, images: 2, imageSize: 20_000 });
  const env = { PDS_ADMIN_URL: here.url, PDS_ADMIN_PASSWORD: here.adminPassword };
  const before = smtp.mailsTo('frank@example.test').length;
  const r = await runPdsadmin(['account', 'migrate-in', '--from', ref.url, '--handle', frank.did, '--new-handle', 'frank.here.test'], { env, input: `${PASSWORD}\n`, timeoutMs: 90000 });
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.match(/migration (\d+):/)[1];
  assert.match(r.stdout, /pdsadmin account migrate-token/);
  const mail = await smtp.waitForMail('frank@example.test', { after: before, timeoutMs: 15000 });
  const t = await runPdsadmin(['account', 'migrate-token', id, tokenOf(mail)], { env, timeoutMs: 90000 });
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /done: frank\.here\.test/);
  await checkMoved({ did: frank.did, to: here, from: ref, records: 14, blobs: 2, handle: 'frank.here.test' });
  const st = await runPdsadmin(['status'], { env });
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /Migrations: +\d+ running, \d+ waiting for a code, \d+ failed, [1-9]\d* done/);
  const list = await runPdsadmin(['account', 'migrations', '--json'], { env });
  const jobs = JSON.parse(list.stdout).jobs;
  assert.ok(jobs.some((j) => j.did === frank.did && j.state === 'done' && j.createdBy === 'operator'));
  assert.ok(jobs.some((j) => j.did === alice.did && j.state === 'done' && j.holdsCredentials === false));
});

test('the migration pages carry CSRF protection and never show the credentials', async () => {
  const r = await fetch(`${here.url}/migrate/api/lookup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"handle":"x.test"}' });
  assert.equal(r.status, 403);
  const page = await fetch(`${here.url}/migrate`);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
  const jobs = await (await fetch(`${here.url}/xrpc/_migrate.list`, { headers: { authorization: here.adminAuth() } })).json();
  assert.ok(!JSON.stringify(jobs).includes(PASSWORD));
  assert.ok(!JSON.stringify(jobs).includes('secrets'));
  assert.equal((await fetch(`${here.url}/xrpc/_migrate.list`)).status, 401);
});

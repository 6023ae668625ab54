// The admin API (com.atproto.admin.*, HTTP Basic admin) end to end: account views through
// the official client (its lexicon checks the answers), search, invites, subject status
// and takedowns of accounts, records and blobs with their enforcement on every read path
// and on the firehose, email/password/handle changes, deletion, sendEmail over a loopback
// SMTP server, and our own routes /xrpc/_status and /tls-check.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, describe, test } from 'node:test';
import { AtpAgent } from '@atproto/api';
import * as plc from '@did-plc/lib';
import { createAccount, login, randomHex, useTestEnv } from './lib/index.mjs';
import { readFirehose, readMail, startSmtpSink, xrpcRaw } from './lib/ops.mjs';

const smtp = await startSmtpSink();
const MOD_FROM = 'moderation@pds.test';
const env = useTestEnv({
  pds: {
    env: {
      PDS_EMAIL_SMTP_URL: smtp.url,
      PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.test',
      PDS_MODERATION_EMAIL_SMTP_URL: smtp.url,
      PDS_MODERATION_EMAIL_ADDRESS: MOD_FROM,
    },
  },
});
after(() => smtp.stop());

const ADMIN_METHODS = [
  ['com.atproto.admin.getAccountInfo', 'GET'],
  ['com.atproto.admin.getAccountInfos', 'GET'],
  ['com.atproto.admin.searchAccounts', 'GET'],
  ['com.atproto.admin.getInviteCodes', 'GET'],
  ['com.atproto.admin.getSubjectStatus', 'GET'],
  ['com.atproto.admin.updateSubjectStatus', 'POST'],
  ['com.atproto.admin.enableAccountInvites', 'POST'],
  ['com.atproto.admin.disableAccountInvites', 'POST'],
  ['com.atproto.admin.disableInviteCodes', 'POST'],
  ['com.atproto.admin.updateAccountHandle', 'POST'],
  ['com.atproto.admin.updateAccountEmail', 'POST'],
  ['com.atproto.admin.updateAccountPassword', 'POST'],
  ['com.atproto.admin.deleteAccount', 'POST'],
  ['com.atproto.admin.sendEmail', 'POST'],
];

const admin = (nsid, opts = {}) => xrpcRaw(env.pds, nsid, { auth: env.pds.adminAuth(), ...opts });
const headers = () => ({ headers: { authorization: env.pds.adminAuth() } });
const ident = () => {
  const id = randomHex(4);
  return { handle: `a${id}.test`, email: `a${id}@example.com`, password: `pw-${randomHex(8)}` };
};
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** The firehose's head now (from our status route), to read what happens next. */
async function headSeq() {
  const r = await admin(null, { path: '/xrpc/_status' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.firehose.headSeq;
}

async function post(acct, text) {
  const agent = await login(env.pds, acct.did, acct.password);
  const res = await agent.post({ text, createdAt: new Date().toISOString() });
  const rkey = res.uri.split('/').pop();
  return { uri: res.uri, cid: res.cid, rkey };
}

describe('admin API', () => {
  test('every admin method refuses no credentials, a wrong password and a user token', async () => {
    const acct = await createAccount(env.pds, ident());
    const wrong = 'Basic ' + Buffer.from('admin:not-the-password').toString('base64');
    const notAdmin = 'Basic ' + Buffer.from(`someone:${env.pds.adminPassword}`).toString('base64');
    for (const [nsid, method] of ADMIN_METHODS) {
      const body = method === 'POST' ? {} : undefined;
      for (const auth of [undefined, wrong, notAdmin, `Bearer ${acct.session.accessJwt}`]) {
        const r = await xrpcRaw(env.pds, nsid, { method, auth, body });
        assert.equal(r.status, 401, `${nsid} with ${auth?.split(' ')[0] ?? 'nothing'}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, 'AuthenticationRequired', nsid);
      }
    }
    for (const p of ['/xrpc/_status']) {
      assert.equal((await xrpcRaw(env.pds, null, { path: p })).status, 401);
      assert.equal((await xrpcRaw(env.pds, null, { path: p, auth: wrong })).status, 401);
    }
  });

  test('getAccountInfo(s) answer the lexicon view plus repoBytes and blobBytes', async () => {
    const a = await createAccount(env.pds, ident());
    const b = await createAccount(env.pds, ident());
    const client = new AtpAgent({ service: env.pds.url });
    const one = await client.com.atproto.admin.getAccountInfo({ did: a.did }, headers());
    assert.equal(one.data.did, a.did);
    assert.equal(one.data.handle, a.handle);
    assert.equal(one.data.email, a.email);
    assert.match(one.data.indexedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(one.data.emailConfirmedAt, undefined);
    assert.equal(one.data.deactivatedAt, undefined);
    assert.equal(one.data.invitesDisabled, false);
    assert.deepEqual(one.data.invites, []);
    assert.ok(one.data.repoBytes > 0, `repoBytes ${one.data.repoBytes}`);
    assert.equal(one.data.blobBytes, 0);

    const unknown = 'did:plc:' + 'a'.repeat(24);
    const many = await client.com.atproto.admin.getAccountInfos({ dids: [b.did, unknown, a.did] }, headers());
    assert.deepEqual(many.data.infos.map((i) => i.did), [b.did, a.did]);

    const nf = await admin('com.atproto.admin.getAccountInfo', { params: { did: unknown } });
    assert.equal(nf.status, 400);
    assert.equal(nf.body.error, 'NotFound');
    const bad = await admin('com.atproto.admin.getAccountInfo', { params: { did: 'nope' } });
    assert.equal(bad.status, 400);
    const none = await admin('com.atproto.admin.getAccountInfos');
    assert.equal(none.status, 400);
  });

  test('searchAccounts matches part of an email in any case, pages by cursor', async () => {
    const tag = randomHex(3);
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await createAccount(env.pds, { ...ident(), email: `s${i}-${tag}@Example.com` }));
    }
    const client = new AtpAgent({ service: env.pds.url });
    const all = await client.com.atproto.admin.searchAccounts({ email: tag.toUpperCase() }, headers());
    assert.deepEqual(all.data.accounts.map((x) => x.did).sort(), made.map((x) => x.did).sort());
    const seen = [];
    let cursor;
    do {
      const page = await client.com.atproto.admin.searchAccounts({ email: tag, limit: 1, cursor }, headers());
      assert.ok(page.data.accounts.length <= 1);
      seen.push(...page.data.accounts.map((x) => x.did));
      cursor = page.data.cursor;
    } while (cursor);
    assert.deepEqual(seen, [...seen].sort(), 'ordered by DID');
    assert.deepEqual([...seen].sort(), made.map((x) => x.did).sort());
    // LIKE wildcards in the query are literal characters
    const wild = await client.com.atproto.admin.searchAccounts({ email: `%${tag}` }, headers());
    assert.equal(wild.data.accounts.length, 0);
    const under = await client.com.atproto.admin.searchAccounts({ email: `s_-${tag}` }, headers());
    assert.equal(under.data.accounts.length, 0);
    // no email: every account, still paged
    const first = await client.com.atproto.admin.searchAccounts({ limit: 2 }, headers());
    assert.equal(first.data.accounts.length, 2);
    assert.ok(first.data.cursor);
  });

  test('invites: enable/disableAccountInvites, disableInviteCodes, getInviteCodes, invitedBy', async () => {
    const client = new AtpAgent({ service: env.pds.url });
    const owner = await createAccount(env.pds, ident());
    // codes for the owner and for the admin; one of the owner's is used by a new account
    const made = await client.com.atproto.server.createInviteCodes(
      { codeCount: 2, useCount: 3, forAccounts: [owner.did] },
      { ...headers(), encoding: 'application/json' },
    );
    const [c1, c2] = made.data.codes[0].codes;
    const adminCode = (await admin('com.atproto.server.createInviteCode', { body: { useCount: 1 } })).body.code;
    const invited = await createAccount(env.pds, { ...ident(), inviteCode: c1 });

    let info = (await client.com.atproto.admin.getAccountInfo({ did: owner.did }, headers())).data;
    assert.deepEqual(info.invites.map((c) => c.code).sort(), [c1, c2].sort());
    const used = info.invites.find((c) => c.code === c1);
    assert.equal(used.available, 3);
    assert.equal(used.uses.length, 1);
    assert.equal(used.uses[0].usedBy, invited.did);
    const inv = (await client.com.atproto.admin.getAccountInfo({ did: invited.did }, headers())).data;
    assert.equal(inv.invitedBy?.code, c1);
    assert.equal(inv.invitedBy?.forAccount, owner.did);

    // invitesDisabled round trip
    let r = await admin('com.atproto.admin.disableAccountInvites', { body: { account: owner.did, note: 'spam' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    info = (await client.com.atproto.admin.getAccountInfo({ did: owner.did }, headers())).data;
    assert.equal(info.invitesDisabled, true);
    r = await admin('com.atproto.admin.enableAccountInvites', { body: { account: owner.did } });
    assert.equal(r.status, 200);
    info = (await client.com.atproto.admin.getAccountInfo({ did: owner.did }, headers())).data;
    assert.equal(info.invitesDisabled, false);
    r = await admin('com.atproto.admin.enableAccountInvites', { body: { account: 'did:plc:' + 'b'.repeat(24) } });
    assert.equal(r.status, 400);

    // getInviteCodes: newest first, then by use count; pages cover everything once
    const recent = await client.com.atproto.admin.getInviteCodes({ limit: 500 }, headers());
    const codes = recent.data.codes;
    for (let i = 1; i < codes.length; i++) {
      assert.ok(codes[i - 1].createdAt >= codes[i].createdAt, 'newest first');
    }
    assert.ok(codes.some((c) => c.code === adminCode && c.forAccount === 'admin' && c.createdBy === 'admin'));
    const usage = await client.com.atproto.admin.getInviteCodes({ sort: 'usage', limit: 500 }, headers());
    for (let i = 1; i < usage.data.codes.length; i++) {
      assert.ok(usage.data.codes[i - 1].uses.length >= usage.data.codes[i].uses.length, 'most used first');
    }
    for (const sort of ['recent', 'usage']) {
      const seen = [];
      let cursor;
      do {
        const page = await client.com.atproto.admin.getInviteCodes({ sort, limit: 2, cursor }, headers());
        seen.push(...page.data.codes.map((c) => c.code));
        cursor = page.data.cursor;
      } while (cursor);
      assert.equal(new Set(seen).size, seen.length, `${sort}: no duplicates`);
      assert.deepEqual([...seen].sort(), codes.map((c) => c.code).sort(), `${sort}: every code`);
    }
    r = await admin('com.atproto.admin.getInviteCodes', { params: { sort: 'oldest' } });
    assert.equal(r.status, 400);
    r = await admin('com.atproto.admin.getInviteCodes', { params: { cursor: 'garbage' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.message, 'Malformed cursor');

    // disableInviteCodes by code and by account; the admin's codes are protected
    r = await admin('com.atproto.admin.disableInviteCodes', { body: { accounts: ['admin'] } });
    assert.equal(r.status, 400);
    r = await admin('com.atproto.admin.disableInviteCodes', { body: { codes: [adminCode] } });
    assert.equal(r.status, 200);
    r = await admin('com.atproto.admin.disableInviteCodes', { body: { accounts: [owner.did] } });
    assert.equal(r.status, 200);
    const after = (await client.com.atproto.admin.getInviteCodes({ limit: 500 }, headers())).data.codes;
    for (const code of [adminCode, c1, c2]) {
      assert.equal(after.find((c) => c.code === code).disabled, true, code);
    }
    const refused = await xrpcRaw(env.pds, 'com.atproto.server.createAccount', {
      body: { ...ident(), inviteCode: c2 },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'InvalidInviteCode');
  });

  test('updateAccountEmail sets an unconfirmed, lower-cased address; login follows it', async () => {
    const a = await createAccount(env.pds, ident());
    const b = await createAccount(env.pds, ident());
    const fresh = `New-${randomHex(3)}@Example.com`;
    let r = await admin('com.atproto.admin.updateAccountEmail', { body: { account: a.handle, email: fresh } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const info = (await admin('com.atproto.admin.getAccountInfo', { params: { did: a.did } })).body;
    assert.equal(info.email, fresh.toLowerCase());
    assert.equal(info.emailConfirmedAt, undefined);
    const agent = await login(env.pds, fresh, a.password);
    assert.equal(agent.session.did, a.did);
    r = await admin('com.atproto.admin.updateAccountEmail', { body: { account: a.did, email: b.email } });
    assert.equal(r.status, 400);
    r = await admin('com.atproto.admin.updateAccountEmail', { body: { account: 'nobody.test', email: 'x@y.test' } });
    assert.equal(r.status, 400);
  });

  test('updateAccountPassword replaces the password and signs every session out', async () => {
    const a = await createAccount(env.pds, ident());
    const pw = `new-${randomHex(8)}`;
    let r = await admin('com.atproto.admin.updateAccountPassword', { body: { did: a.did, password: pw } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await xrpcRaw(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: a.session.refreshJwt });
    assert.equal(r.status, 400, 'the old refresh token is revoked');
    await assert.rejects(login(env.pds, a.did, a.password));
    await login(env.pds, a.did, pw);
    r = await admin('com.atproto.admin.updateAccountPassword', { body: { did: a.did, password: 'x'.repeat(257) } });
    assert.equal(r.status, 400);
    r = await admin('com.atproto.admin.updateAccountPassword', {
      body: { did: 'did:plc:' + 'c'.repeat(24), password: pw },
    });
    assert.equal(r.status, 400);
  });

  test('updateAccountHandle changes the handle, the PLC document and announces #identity', async () => {
    const a = await createAccount(env.pds, ident());
    const b = await createAccount(env.pds, ident());
    const since = await headSeq();
    const next = `h${randomHex(4)}.test`;
    let r = await admin('com.atproto.admin.updateAccountHandle', { body: { did: a.did, handle: next } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const info = (await admin('com.atproto.admin.getAccountInfo', { params: { did: a.did } })).body;
    assert.equal(info.handle, next);
    const data = await new plc.Client(env.plc.url).getDocumentData(a.did);
    assert.deepEqual(data.alsoKnownAs, [`at://${next}`]);
    const events = await readFirehose(env.pds, {
      cursor: since,
      until: (ev) => ev.some((e) => e.header.t === '#identity' && e.body.did === a.did),
    });
    assert.equal(events.find((e) => e.header.t === '#identity').body.handle, next);
    r = await admin('com.atproto.admin.updateAccountHandle', { body: { did: a.did, handle: b.handle } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'HandleNotAvailable');
  });

  test('account takedown: refused on every read path and login, announced, then restored', async () => {
    const a = await createAccount(env.pds, ident());
    const { rkey } = await post(a, 'before the takedown');
    const up = await a.agent.uploadBlob(Buffer.concat([PNG, crypto.randomBytes(64)]), { encoding: 'image/png' });
    await a.agent.post({
      text: 'img',
      embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: up.data.blob }] },
    });
    const blobCid = up.data.blob.ref.toString();
    const since = await headSeq();

    const client = new AtpAgent({ service: env.pds.url });
    const res = await client.com.atproto.admin.updateSubjectStatus(
      {
        subject: { $type: 'com.atproto.admin.defs#repoRef', did: a.did },
        takedown: { applied: true, ref: 'case-42' },
      },
      { ...headers(), encoding: 'application/json' },
    );
    assert.equal(res.data.takedown.applied, true);
    const st = await client.com.atproto.admin.getSubjectStatus({ did: a.did }, headers());
    assert.deepEqual(st.data.takedown, { applied: true, ref: 'case-42' });
    assert.deepEqual(st.data.deactivated, { applied: false });

    const pub = (nsid, params) => xrpcRaw(env.pds, nsid, { params });
    const rec = { repo: a.did, collection: 'app.bsky.feed.post', rkey };
    let r = await pub('com.atproto.repo.getRecord', rec);
    assert.equal(r.status, 400);
    // the reference's getDidForActor skips the account; without an AppView: InvalidRequest
    assert.deepEqual(r.body, { error: 'InvalidRequest', message: 'Could not locate record' });
    for (const [nsid, params] of [
      ['com.atproto.sync.getRepo', { did: a.did }],
      ['com.atproto.sync.getLatestCommit', { did: a.did }],
      ['com.atproto.sync.getRecord', { did: a.did, collection: rec.collection, rkey }],
      ['com.atproto.sync.getBlob', { did: a.did, cid: blobCid }],
      ['com.atproto.repo.describeRepo', { repo: a.did }],
    ]) {
      r = await pub(nsid, params);
      assert.equal(r.status, 400, nsid);
      assert.equal(r.body.error, 'RepoTakendown', nsid);
    }
    r = await pub('com.atproto.sync.getRepoStatus', { did: a.did });
    assert.deepEqual([r.body.active, r.body.status], [false, 'takendown']);
    // the admin still reads it
    r = await admin('com.atproto.sync.getLatestCommit', { params: { did: a.did } });
    assert.equal(r.status, 200);
    // sessions are revoked and new logins refused
    r = await xrpcRaw(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: a.session.refreshJwt });
    assert.ok(r.status === 400 || r.status === 401, `refresh after takedown: ${r.status}`);
    assert.ok(['ExpiredToken', 'AccountTakedown'].includes(r.body.error), r.body.error);
    r = await xrpcRaw(env.pds, 'com.atproto.server.createSession', {
      body: { identifier: a.did, password: a.password },
    });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'AccountTakedown');
    // no certificate for a taken-down handle
    r = await xrpcRaw(env.pds, null, { path: `/tls-check?domain=${a.handle}` });
    assert.equal(r.status, 404);

    await client.com.atproto.admin.updateSubjectStatus(
      { subject: { $type: 'com.atproto.admin.defs#repoRef', did: a.did }, takedown: { applied: false } },
      { ...headers(), encoding: 'application/json' },
    );
    const events = await readFirehose(env.pds, {
      cursor: since,
      until: (ev) => ev.filter((e) => e.header.t === '#account' && e.body.did === a.did).length >= 2,
    });
    const acc = events.filter((e) => e.header.t === '#account' && e.body.did === a.did).map((e) => e.body);
    assert.deepEqual([acc[0].active, acc[0].status], [false, 'takendown']);
    assert.deepEqual([acc[1].active, acc[1].status], [true, undefined]);

    r = await pub('com.atproto.repo.getRecord', rec);
    assert.equal(r.status, 200);
    r = await pub('com.atproto.sync.getBlob', { did: a.did, cid: blobCid });
    assert.equal(r.status, 200);
    r = await pub('com.atproto.sync.getRepo', { did: a.did });
    assert.equal(r.status, 200);
    const st2 = await client.com.atproto.admin.getSubjectStatus({ did: a.did }, headers());
    assert.deepEqual(st2.data.takedown, { applied: false });
    await login(env.pds, a.did, a.password);
  });

  test('record takedown hides the record from getRecord and listRecords only', async () => {
    const a = await createAccount(env.pds, ident());
    const keep = await post(a, 'stays');
    const gone = await post(a, 'goes');
    const client = new AtpAgent({ service: env.pds.url });
    await client.com.atproto.admin.updateSubjectStatus(
      { subject: { $type: 'com.atproto.repo.strongRef', uri: gone.uri, cid: gone.cid }, takedown: { applied: true } },
      { ...headers(), encoding: 'application/json' },
    );
    const st = await client.com.atproto.admin.getSubjectStatus({ uri: gone.uri }, headers());
    assert.equal(st.data.takedown.applied, true);
    assert.match(st.data.takedown.ref, /^\d{4}-/, 'a takedown without a ref records the time');
    assert.equal(st.data.subject.cid, gone.cid);

    const get = (rkey) =>
      xrpcRaw(env.pds, 'com.atproto.repo.getRecord', {
        params: { repo: a.did, collection: 'app.bsky.feed.post', rkey },
      });
    assert.equal((await get(gone.rkey)).status, 400);
    assert.equal((await get(keep.rkey)).status, 200);
    const list = await xrpcRaw(env.pds, 'com.atproto.repo.listRecords', {
      params: { repo: a.did, collection: 'app.bsky.feed.post' },
    });
    assert.deepEqual(list.body.records.map((x) => x.uri), [keep.uri]);

    await client.com.atproto.admin.updateSubjectStatus(
      { subject: { $type: 'com.atproto.repo.strongRef', uri: gone.uri, cid: gone.cid }, takedown: { applied: false } },
      { ...headers(), encoding: 'application/json' },
    );
    assert.equal((await get(gone.rkey)).status, 200);
    const missing = await admin('com.atproto.admin.getSubjectStatus', {
      params: { uri: `at://${a.did}/app.bsky.feed.post/3zzzzzzzzzzzz` },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'NotFound');
  });

  test(
    'a taken-down record is not served by sync.getRecord either',
    async () => {
      const a = await createAccount(env.pds, ident());
      const gone = await post(a, 'goes');
      await admin('com.atproto.admin.updateSubjectStatus', {
        body: { subject: { $type: 'com.atproto.repo.strongRef', uri: gone.uri, cid: gone.cid }, takedown: { applied: true } },
      });
      const res = await fetch(
        `${env.pds.url}/xrpc/com.atproto.sync.getRecord?did=${a.did}&collection=app.bsky.feed.post&rkey=${gone.rkey}`,
      );
      const { readCarWithRoot } = await import('@atproto/repo');
      const car = await readCarWithRoot(new Uint8Array(await res.arrayBuffer()));
      assert.equal(res.status, 200);
      assert.equal(car.blocks.has(gone.cid), false, 'the record block is not in the CAR');
    },
  );

  test('blob takedown hides one blob; deactivation through updateSubjectStatus', async () => {
    const a = await createAccount(env.pds, ident());
    const bytes = Buffer.concat([PNG, crypto.randomBytes(128)]);
    const up = await a.agent.uploadBlob(bytes, { encoding: 'image/png' });
    await a.agent.post({
      text: 'img',
      embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: up.data.blob }] },
    });
    const cid = up.data.blob.ref.toString();
    const getBlob = () => xrpcRaw(env.pds, 'com.atproto.sync.getBlob', { params: { did: a.did, cid } });
    assert.equal((await getBlob()).status, 200);
    const subject = { $type: 'com.atproto.admin.defs#repoBlobRef', did: a.did, cid };
    let r = await admin('com.atproto.admin.updateSubjectStatus', { body: { subject, takedown: { applied: true, ref: 'dmca' } } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await getBlob();
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'BlobNotFound');
    const client = new AtpAgent({ service: env.pds.url });
    const st = await client.com.atproto.admin.getSubjectStatus({ did: a.did, blob: cid }, headers());
    assert.deepEqual(st.data.takedown, { applied: true, ref: 'dmca' });
    r = await admin('com.atproto.admin.getSubjectStatus', { params: { blob: cid } });
    assert.equal(r.status, 400, 'a blob needs its did');
    r = await admin('com.atproto.admin.updateSubjectStatus', { body: { subject, takedown: { applied: false } } });
    assert.equal((await getBlob()).status, 200);

    // deactivation by the admin
    const repo = { $type: 'com.atproto.admin.defs#repoRef', did: a.did };
    r = await admin('com.atproto.admin.updateSubjectStatus', { body: { subject: repo, deactivated: { applied: true } } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await xrpcRaw(env.pds, 'com.atproto.sync.getRepoStatus', { params: { did: a.did } });
    assert.deepEqual([r.body.active, r.body.status], [false, 'deactivated']);
    r = await admin('com.atproto.admin.getSubjectStatus', { params: { did: a.did } });
    assert.deepEqual(r.body.deactivated, { applied: true });
    r = await admin('com.atproto.admin.updateSubjectStatus', {
      body: { subject: repo, takedown: { applied: true }, deactivated: { applied: false } },
    });
    assert.equal(r.status, 400, 'takedown and activation at once');
    r = await admin('com.atproto.admin.updateSubjectStatus', { body: { subject: repo, deactivated: { applied: false } } });
    assert.equal(r.status, 200);
    r = await xrpcRaw(env.pds, 'com.atproto.sync.getRepoStatus', { params: { did: a.did } });
    assert.equal(r.body.active, true);
    r = await admin('com.atproto.admin.updateSubjectStatus', {
      body: { subject: { $type: 'com.atproto.admin.defs#repoRef', did: 'did:plc:' + 'd'.repeat(24) }, takedown: { applied: true } },
    });
    assert.equal(r.status, 400);
    r = await admin('com.atproto.admin.updateSubjectStatus', { body: { subject: { $type: 'x.y#z' } } });
    assert.equal(r.status, 400);
  });

  test('deleteAccount removes the account, frees its handle, and announces the deletion', async () => {
    const a = await createAccount(env.pds, ident());
    await post(a, 'soon gone');
    const since = await headSeq();
    let r = await admin('com.atproto.admin.deleteAccount', { body: { did: a.did } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await admin('com.atproto.admin.getAccountInfo', { params: { did: a.did } });
    assert.equal(r.body.error, 'NotFound');
    r = await xrpcRaw(env.pds, 'com.atproto.sync.getRepoStatus', { params: { did: a.did } });
    assert.equal(r.body.error, 'RepoNotFound');
    const events = await readFirehose(env.pds, {
      cursor: since,
      until: (ev) => ev.some((e) => e.header.t === '#account' && e.body.did === a.did),
    });
    const acc = events.find((e) => e.header.t === '#account' && e.body.did === a.did).body;
    assert.deepEqual([acc.active, acc.status], [false, 'deleted']);
    const again = await createAccount(env.pds, { ...ident(), handle: a.handle });
    assert.equal(again.handle, a.handle);
    r = await admin('com.atproto.admin.deleteAccount', { body: { did: a.did } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'NotFound');
  });

  test('sendEmail mails the account through the moderation mail server', async () => {
    const a = await createAccount(env.pds, ident());
    const before = smtp.messages.length;
    const content = `Hello from the moderators <${randomHex(4)}>\nSecond line.`;
    const client = new AtpAgent({ service: env.pds.url });
    const res = await client.com.atproto.admin.sendEmail(
      { recipientDid: a.did, senderDid: 'did:plc:' + 'm'.repeat(24), content, subject: 'About your account' },
      { ...headers(), encoding: 'application/json' },
    );
    assert.equal(res.data.sent, true);
    const msg = smtp.messages[before];
    assert.ok(msg, 'a message reached the SMTP server');
    assert.deepEqual(msg.to, [a.email]);
    assert.equal(msg.from, MOD_FROM);
    const mail = readMail(msg.data);
    assert.equal(mail.subject, 'About your account');
    assert.ok(mail.text.includes(content), mail.text);
    assert.ok(mail.text.includes('&lt;'), 'the HTML part escapes the content');
    let r = await admin('com.atproto.admin.sendEmail', {
      body: { recipientDid: 'did:plc:' + 'e'.repeat(24), senderDid: a.did, content: 'x' },
    });
    assert.equal(r.status, 400);
    r = await admin('com.atproto.admin.sendEmail', { body: { recipientDid: a.did, senderDid: a.did } });
    assert.equal(r.status, 400, 'content is required');
  });

  test('/xrpc/_status counts accounts and reports storage and the firehose head', async () => {
    const a = await createAccount(env.pds, ident());
    const r = await admin(null, { path: '/xrpc/_status' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = r.body;
    const n = await admin('com.atproto.admin.searchAccounts', { params: { limit: 100 } });
    assert.equal(s.accounts.total, n.body.accounts.length);
    assert.ok(s.accounts.active >= 1);
    assert.equal(s.hostname, 'localhost');
    assert.ok(s.database.bytes > 1e6, `database bytes ${s.database.bytes}`);
    assert.equal(s.database.privateCluster, false);
    assert.equal(s.blobs.store, 'disk');
    assert.ok(s.blobs.count >= 2 && s.blobs.bytes > 0);
    assert.ok(s.firehose.headSeq > 0);
    assert.ok(s.uptimeSeconds >= 0);
    assert.ok(s.repoBytes > 0);
    const info = (await admin('com.atproto.admin.getAccountInfo', { params: { did: a.did } })).body;
    assert.ok(s.repoBytes >= info.repoBytes);
  });

  test('/tls-check allows our hostname and our active handles only', async () => {
    const a = await createAccount(env.pds, ident());
    const check = async (domain) =>
      (await xrpcRaw(env.pds, null, { path: `/tls-check${domain === undefined ? '' : `?domain=${domain}`}` })).status;
    assert.equal(await check('localhost'), 200);
    assert.equal(await check(a.handle), 200);
    assert.equal(await check(a.handle.toUpperCase()), 200);
    assert.equal(await check(`nobody-${randomHex(3)}.test`), 404);
    assert.equal(await check('example.com'), 404);
    assert.equal(await check(undefined), 400);
  });
});

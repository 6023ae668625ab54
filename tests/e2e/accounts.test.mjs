// Accounts and sessions through the official client: createAccount (a real did:plc on the
// directory), login by handle/email/DID, sessions and their refresh rules, app passwords,
// invite codes, bad input, and writing records through the session.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AtpAgent } from '@atproto/api';
import * as plc from '@did-plc/lib';
import pg from 'pg';
import { createAccount, login, randomHex, useTestEnv } from './lib/index.mjs';

/** Runs fn, which must fail with an XRPC error; returns the error for more checks. */
async function rejects(fn, { status, error, message }) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the call succeeded but should have failed');
  if (status !== undefined) assert.equal(err.status, status, `status (${err.error}: ${err.message})`);
  if (error !== undefined) assert.equal(err.error, error, `error name (${err.message})`);
  if (message !== undefined) assert.match(err.message, message);
  return err;
}

/** The claims of a JWT (no verification: we only read what the server put there). */
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/** Raw XRPC call with fetch: { status, body }. */
async function xrpc(pds, nsid, { method = 'GET', token, auth, body, params } = {}) {
  const url = new URL(`${pds.url}/xrpc/${nsid}`);
  for (const [k, v] of Object.entries(params ?? {})) url.searchParams.set(k, String(v));
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function newIdentity() {
  const id = randomHex(4);
  return { handle: `u${id}.test`, email: `u${id}@example.com`, password: `pw-${randomHex(8)}` };
}

describe('accounts (invites not required)', () => {
  const env = useTestEnv();

  /** Runs fn with a client on the PDS's database (for states no endpoint sets yet). */
  async function withDb(fn) {
    const db = new pg.Client({ connectionString: env.pds.dbUrl });
    await db.connect();
    try {
      return await fn(db);
    } finally {
      await db.end();
    }
  }

  test('createAccount mints a did:plc with our endpoint and signing key', async () => {
    const acct = await createAccount(env.pds);
    assert.match(acct.did, /^did:plc:[a-z2-7]{24}$/);
    assert.equal(acct.handle, acct.handle.toLowerCase());
    assert.equal(typeof acct.session.accessJwt, 'string');
    assert.equal(typeof acct.session.refreshJwt, 'string');
    assert.equal(claims(acct.session.accessJwt).scope, 'com.atproto.access');
    assert.equal(claims(acct.session.accessJwt).sub, acct.did);
    assert.equal(acct.session.didDoc?.id, acct.did);

    const client = new plc.Client(env.plc.url);
    const data = await client.getDocumentData(acct.did);
    assert.deepEqual(data.alsoKnownAs, [`at://${acct.handle}`]);
    assert.deepEqual(data.services, {
      atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: env.pds.url },
    });
    assert.equal(data.rotationKeys.at(-1), env.pds.rotationKey.did());
    assert.match(data.verificationMethods.atproto, /^did:key:zQ3s/); // a k256 key
    // the returned didDoc names the key the directory holds (the directory renders it
    // uncompressed, so compare with the did:key form)
    const ours = acct.session.didDoc.verificationMethod.find((m) => m.id.endsWith('#atproto'));
    assert.equal(`did:key:${ours.publicKeyMultibase}`, data.verificationMethods.atproto);

    // the outbox holds the creation events in the reference's order
    const rows = await withDb((db) =>
      db.query('SELECT event_type FROM repo_seq WHERE did = $1 ORDER BY id', [acct.did]),
    );
    assert.deepEqual(
      rows.rows.map((r) => r.event_type),
      ['identity', 'account', 'commit', 'sync'],
    );

    const head = await acct.agent.com.atproto.sync.getLatestCommit({ did: acct.did });
    assert.match(head.data.rev, /^[a-z2-7]{13}$/);
    assert.match(head.data.cid, /^bafy/);
  });

  test('the recovery key goes first in rotationKeys', async () => {
    const agent = env.pds.agent();
    const ident = newIdentity();
    const recovery = (await (await import('@atproto/crypto')).Secp256k1Keypair.create()).did();
    const res = await agent.createAccount({ ...ident, recoveryKey: recovery });
    const data = await new plc.Client(env.plc.url).getDocumentData(res.data.did);
    assert.deepEqual(data.rotationKeys, [recovery, env.pds.rotationKey.did()]);
  });

  test('login by handle, by email (any case) and by DID; wrong password refused', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    for (const identifier of [acct.handle, acct.email.toUpperCase(), acct.did]) {
      const agent = new AtpAgent({ service: env.pds.url });
      const res = await agent.login({ identifier, password: acct.password });
      assert.equal(res.data.did, acct.did);
      assert.equal(res.data.handle, acct.handle);
      assert.equal(res.data.email, acct.email);
      assert.equal(res.data.emailConfirmed, false);
      assert.equal(res.data.active, true);
      assert.equal(res.data.status, undefined);
      assert.equal(claims(res.data.accessJwt).scope, 'com.atproto.access');
    }
    await rejects(() => login(env.pds, acct.handle, 'wrong-password'), {
      status: 401,
      error: 'AuthenticationRequired',
      message: /^Invalid identifier or password$/,
    });
    await rejects(() => login(env.pds, 'nobody-here.test', acct.password), {
      status: 401,
      error: 'AuthenticationRequired',
      message: /^Invalid identifier or password$/,
    });
  });

  test('getSession reports the account', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    const res = await acct.agent.com.atproto.server.getSession();
    assert.equal(res.data.did, acct.did);
    assert.equal(res.data.handle, acct.handle);
    assert.equal(res.data.email, acct.email);
    assert.equal(res.data.active, true);
    const anon = await xrpc(env.pds, 'com.atproto.server.getSession');
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error, 'AuthMissing');
  });

  test('refreshSession rotates; the old token works once more within grace; revoked fails', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    const first = acct.session.refreshJwt;
    const r1 = await xrpc(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: first });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.equal(r1.body.did, acct.did);
    assert.equal(r1.body.handle, acct.handle);
    assert.notEqual(r1.body.refreshJwt, first);
    // reuse within the grace period: the same successor id
    const r2 = await xrpc(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: first });
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    assert.equal(claims(r2.body.refreshJwt).jti, claims(r1.body.refreshJwt).jti);
    // the successor works and rotates on
    const r3 = await xrpc(env.pds, 'com.atproto.server.refreshSession', {
      method: 'POST',
      token: r1.body.refreshJwt,
    });
    assert.equal(r3.status, 200, JSON.stringify(r3.body));
    // an access token is not a refresh token
    const wrong = await xrpc(env.pds, 'com.atproto.server.refreshSession', {
      method: 'POST',
      token: r3.body.accessJwt,
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'InvalidToken');
    // deleteSession revokes; the revoked token cannot refresh
    const del = await xrpc(env.pds, 'com.atproto.server.deleteSession', {
      method: 'POST',
      token: r3.body.refreshJwt,
    });
    assert.equal(del.status, 200);
    const after = await xrpc(env.pds, 'com.atproto.server.refreshSession', {
      method: 'POST',
      token: r3.body.refreshJwt,
    });
    assert.equal(after.status, 400);
    assert.equal(after.body.error, 'ExpiredToken');
    assert.equal(after.body.message, 'Token has been revoked');
  });

  test('the agent refreshes and logs out through the client', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    const agent = await login(env.pds, acct.handle, acct.password);
    const before = agent.session.refreshJwt;
    await agent.sessionManager.refreshSession();
    assert.notEqual(agent.session.refreshJwt, before);
    assert.equal((await agent.com.atproto.server.getSession()).data.did, acct.did);
    const refresh = agent.session.refreshJwt;
    await agent.logout();
    const r = await xrpc(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: refresh });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'ExpiredToken');
  });

  test('app passwords: create, list, log in with one, scopes, revoke', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    const srv = acct.agent.com.atproto.server;
    const plain = await srv.createAppPassword({ name: 'plain' });
    assert.equal(plain.data.name, 'plain');
    assert.match(plain.data.password, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    assert.equal(plain.data.privileged, false);
    assert.ok(!Number.isNaN(Date.parse(plain.data.createdAt)));
    const priv = await srv.createAppPassword({ name: 'priv', privileged: true });
    assert.equal(priv.data.privileged, true);
    await rejects(() => srv.createAppPassword({ name: 'plain' }), { status: 400 });

    const listed = await srv.listAppPasswords();
    const byName = Object.fromEntries(listed.data.passwords.map((p) => [p.name, p]));
    assert.deepEqual(Object.keys(byName).sort(), ['plain', 'priv']);
    assert.equal(byName.priv.privileged, true);
    assert.equal(byName.plain.privileged, false);
    assert.equal(byName.plain.password, undefined, 'list never shows passwords');

    const appAgent = await login(env.pds, acct.handle, plain.data.password);
    assert.equal(claims(appAgent.session.accessJwt).scope, 'com.atproto.appPass');
    const privAgent = await login(env.pds, acct.email, priv.data.password);
    assert.equal(claims(privAgent.session.accessJwt).scope, 'com.atproto.appPassPrivileged');
    // app-password sessions read the session but cannot mint app passwords
    assert.equal((await appAgent.com.atproto.server.getSession()).data.did, acct.did);
    await rejects(() => appAgent.com.atproto.server.createAppPassword({ name: 'more' }), {
      status: 400,
      error: 'InvalidToken',
      message: /^Bad token scope$/,
    });
    await rejects(() => privAgent.com.atproto.server.createAppPassword({ name: 'more' }), {
      error: 'InvalidToken',
    });
    // a refreshed app-password session keeps its scope
    const refreshed = await xrpc(env.pds, 'com.atproto.server.refreshSession', {
      method: 'POST',
      token: privAgent.session.refreshJwt,
    });
    assert.equal(refreshed.status, 200);
    assert.equal(claims(refreshed.body.accessJwt).scope, 'com.atproto.appPassPrivileged');

    // revoking ends logins and refreshes made with it
    const appRefresh = appAgent.session.refreshJwt;
    await srv.revokeAppPassword({ name: 'plain' });
    await rejects(() => login(env.pds, acct.handle, plain.data.password), { status: 401 });
    const r = await xrpc(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: appRefresh });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'ExpiredToken');
    const left = await srv.listAppPasswords();
    assert.deepEqual(
      left.data.passwords.map((p) => p.name),
      ['priv'],
    );
  });

  test('concurrent sign-ups for one handle: exactly one wins, the other HandleNotAvailable', async () => {
    const handle = `race${randomHex(3)}.test`;
    const results = await Promise.allSettled(
      [0, 1, 2].map(() => env.pds.agent().createAccount({ ...newIdentity(), handle })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, 'one account was made');
    for (const r of lost) {
      assert.equal(r.reason.status, 400);
      assert.equal(r.reason.error, 'HandleNotAvailable');
    }
  });

  test('concurrent refreshes of one token get the same successor', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    const call = () =>
      xrpc(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: acct.session.refreshJwt });
    const all = await Promise.all([call(), call(), call()]);
    for (const r of all) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(new Set(all.map((r) => claims(r.body.refreshJwt).jti)).size, 1);
  });

  test('a rotated token past its grace period is refused', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    const old = acct.session.refreshJwt;
    const r1 = await xrpc(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: old });
    assert.equal(r1.status, 200);
    await withDb((db) =>
      db.query(`UPDATE refresh_token SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        claims(old).jti,
      ]),
    );
    const r2 = await xrpc(env.pds, 'com.atproto.server.refreshSession', { method: 'POST', token: old });
    assert.equal(r2.status, 400);
    assert.equal(r2.body.error, 'ExpiredToken');
    // the successor is unaffected
    const r3 = await xrpc(env.pds, 'com.atproto.server.refreshSession', {
      method: 'POST',
      token: r1.body.refreshJwt,
    });
    assert.equal(r3.status, 200);
  });

  test('deactivated accounts log in inactive; taken-down ones only with allowTakendown', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    await withDb((db) => db.query('UPDATE account SET deactivated_at = now() WHERE did = $1', [acct.did]));
    const deact = await login(env.pds, acct.handle, acct.password);
    const s = await deact.com.atproto.server.getSession();
    assert.equal(s.data.active, false);
    assert.equal(s.data.status, 'deactivated');
    assert.equal(deact.session.active, false);

    const app = await acct.agent.com.atproto.server.createAppPassword({ name: 'x' });
    await withDb((db) =>
      db.query("UPDATE account SET deactivated_at = NULL, takedown_ref = 'e2e' WHERE did = $1", [acct.did]),
    );
    await rejects(() => login(env.pds, acct.handle, acct.password), { status: 401, error: 'AccountTakedown' });
    const r = await xrpc(env.pds, 'com.atproto.server.createSession', {
      method: 'POST',
      body: { identifier: acct.handle, password: acct.password, allowTakendown: true },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(claims(r.body.accessJwt).scope, 'com.atproto.takendown');
    assert.equal(r.body.active, false);
    assert.equal(r.body.status, 'takendown');
    // an app password does not open a taken-down account
    const viaApp = await xrpc(env.pds, 'com.atproto.server.createSession', {
      method: 'POST',
      body: { identifier: acct.handle, password: app.data.password, allowTakendown: true },
    });
    assert.equal(viaApp.status, 401);
    assert.equal(viaApp.body.error, 'AuthenticationRequired');
    // nor can the taken-down session be refreshed (it was never stored)
    const ref = await xrpc(env.pds, 'com.atproto.server.refreshSession', {
      method: 'POST',
      token: r.body.refreshJwt,
    });
    assert.equal(ref.status, 401);
    assert.equal(ref.body.error, 'AccountTakedown');
  });

  test('bad sign-up input is refused with the reference errors', async () => {
    const agent = env.pds.agent();
    const taken = await createAccount(env.pds, newIdentity());
    const cases = [
      [{ handle: 'bad_handle!.test' }, 'InvalidHandle'],
      [{ handle: 'ab.test' }, 'InvalidHandle', /too short/],
      [{ handle: 'a.b.test' }, 'InvalidHandle'],
      [{ handle: `x${randomHex(4)}.local` }, 'InvalidHandle', /TLD/],
      [{ handle: `x${randomHex(4)}.example.com` }, 'UnsupportedDomain'],
      [{ handle: taken.handle.toUpperCase() }, 'HandleNotAvailable', /already taken/],
      [{ email: taken.email }, 'InvalidRequest', /Email already taken/],
      [{ email: 'not-an-email' }, 'InvalidRequest', /email/i],
      [{ email: undefined }, 'InvalidRequest', /Email is required/],
      [{ password: undefined }, 'InvalidPassword'],
      // (a `did` without service auth is 401: identity.test.mjs covers sign-ups with a DID)
    ];
    for (const [patch, error, message] of cases) {
      const input = { ...newIdentity(), ...patch };
      for (const k of Object.keys(input)) if (input[k] === undefined) delete input[k];
      await rejects(() => agent.createAccount(input), { status: 400, error, message });
    }
    // missing handle: lexicon-level failure
    const r = await xrpc(env.pds, 'com.atproto.server.createAccount', {
      method: 'POST',
      body: { email: 'x@example.com', password: 'pw' },
    });
    assert.equal(r.status, 400);
  });

  test('records through the session: post, create/put/get/list/delete, getRepo', async () => {
    const acct = await createAccount(env.pds, newIdentity());
    const agent = acct.agent;
    const posted = await agent.post({ text: 'hello from e2e', createdAt: new Date().toISOString() });
    assert.match(posted.uri, new RegExp(`^at://${acct.did}/app\\.bsky\\.feed\\.post/`));
    const repo = agent.com.atproto.repo;

    const created = await repo.createRecord({
      repo: acct.did,
      collection: 'com.example.e2e.thing',
      record: { $type: 'com.example.e2e.thing', n: 1 },
    });
    const rkey = created.data.uri.split('/').at(-1);
    const got = await repo.getRecord({ repo: acct.did, collection: 'com.example.e2e.thing', rkey });
    assert.equal(got.data.value.n, 1);
    assert.equal(got.data.cid, created.data.cid);

    const put = await repo.putRecord({
      repo: acct.handle,
      collection: 'com.example.e2e.thing',
      rkey: 'self',
      record: { $type: 'com.example.e2e.thing', n: 2 },
    });
    assert.equal(put.data.uri, `at://${acct.did}/com.example.e2e.thing/self`);
    const list = await repo.listRecords({ repo: acct.did, collection: 'com.example.e2e.thing' });
    assert.deepEqual(list.data.records.map((r) => r.uri).sort(), [created.data.uri, put.data.uri].sort());

    await repo.deleteRecord({ repo: acct.did, collection: 'com.example.e2e.thing', rkey });
    await rejects(() => repo.getRecord({ repo: acct.did, collection: 'com.example.e2e.thing', rkey }), {
      status: 400,
      error: 'RecordNotFound',
    });

    const car = await agent.com.atproto.sync.getRepo({ did: acct.did });
    assert.ok(car.data instanceof Uint8Array && car.data.length > 100, 'getRepo returns a CAR');
    const head = await agent.com.atproto.sync.getLatestCommit({ did: acct.did });
    assert.ok(head.data.rev > put.data.commit.rev, 'the delete made a newer commit');
  });
});

describe('accounts (invites required, DID documents in sessions)', () => {
  const env = useTestEnv({
    pds: { env: { PDS_INVITE_REQUIRED: 'true', PDS_ENABLE_DID_DOC_WITH_SESSION: 'true' } },
  });

  async function adminCall(nsid, body) {
    return xrpc(env.pds, nsid, { method: 'POST', auth: env.pds.adminAuth(), body });
  }

  test('describeServer says invites are required; a sign-up without one is refused', async () => {
    const d = await env.pds.agent().com.atproto.server.describeServer();
    assert.equal(d.data.inviteCodeRequired, true);
    await rejects(() => env.pds.agent().createAccount(newIdentity()), {
      status: 400,
      error: 'InvalidInviteCode',
    });
    await rejects(() => env.pds.agent().createAccount({ ...newIdentity(), inviteCode: 'nope-abcde-fghij' }), {
      status: 400,
      error: 'InvalidInviteCode',
    });
  });

  test('createInviteCode needs the admin; a code is used up after useCount sign-ups', async () => {
    const anon = await xrpc(env.pds, 'com.atproto.server.createInviteCode', {
      method: 'POST',
      body: { useCount: 1 },
    });
    assert.equal(anon.status, 401);
    const made = await adminCall('com.atproto.server.createInviteCode', { useCount: 2 });
    assert.equal(made.status, 200);
    assert.match(made.body.code, /^localhost-[a-z2-7]{5}-[a-z2-7]{5}$/);
    const a = await createAccount(env.pds, { ...newIdentity(), inviteCode: made.body.code });
    await createAccount(env.pds, { ...newIdentity(), inviteCode: made.body.code });
    await rejects(() => env.pds.agent().createAccount({ ...newIdentity(), inviteCode: made.body.code }), {
      status: 400,
      error: 'InvalidInviteCode',
    });
    assert.match(a.did, /^did:plc:/);
  });

  test('createInviteCodes for accounts; getAccountInviteCodes lists them with uses', async () => {
    const seed = await adminCall('com.atproto.server.createInviteCode', { useCount: 1 });
    const owner = await createAccount(env.pds, { ...newIdentity(), inviteCode: seed.body.code });
    const made = await adminCall('com.atproto.server.createInviteCodes', {
      codeCount: 2,
      useCount: 1,
      forAccounts: [owner.did],
    });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.equal(made.body.codes.length, 1);
    assert.equal(made.body.codes[0].account, owner.did);
    assert.equal(made.body.codes[0].codes.length, 2);
    const used = await createAccount(env.pds, { ...newIdentity(), inviteCode: made.body.codes[0].codes[0] });

    // PDS_ENABLE_DID_DOC_WITH_SESSION: sessions carry the account's DID document
    const session = await xrpc(env.pds, 'com.atproto.server.createSession', {
      method: 'POST',
      body: { identifier: owner.handle, password: owner.password },
    });
    assert.equal(session.body.didDoc?.id, owner.did);
    const gs = await owner.agent.com.atproto.server.getSession();
    assert.deepEqual(gs.data.didDoc, owner.session.didDoc);

    const mine = await owner.agent.com.atproto.server.getAccountInviteCodes({});
    assert.equal(mine.data.codes.length, 2);
    const first = mine.data.codes.find((c) => c.code === made.body.codes[0].codes[0]);
    assert.equal(first.forAccount, owner.did);
    assert.equal(first.createdBy, 'admin');
    assert.equal(first.available, 1);
    assert.deepEqual(first.uses.map((u) => u.usedBy), [used.did]);
    const unused = await owner.agent.com.atproto.server.getAccountInviteCodes({ includeUsed: false });
    assert.deepEqual(unused.data.codes.map((c) => c.code), [made.body.codes[0].codes[1]]);

    const noCodes = await adminCall('com.atproto.server.createInviteCodes', { useCount: 1 });
    assert.equal(noCodes.status, 400, 'codeCount is required');
  });
});

// Identity end to end: handle resolution (our database; DNS TXT from a dnsmasq on loopback;
// the /.well-known/atproto-did of a test HTTP server), updateHandle to a service subdomain
// and to custom domains proven each way, the PLC operation flow (emailed code, sign, submit,
// and the directory's document changing), DID/identity resolution, and accounts that bring
// their own DID with service auth: a did:web whose did.json the test serves, and a did:plc
// migrating in.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import * as dagCbor from '@ipld/dag-cbor';
import { cidForCbor } from '@atproto/common';
import { Secp256k1Keypair } from '@atproto/crypto';
import { createServiceJwt } from '@atproto/xrpc-server';
import * as plc from '@did-plc/lib';
import pg from 'pg';
import { createAccount, freePort, login, randomHex, useTestEnv } from './lib/index.mjs';
import { startDns } from './lib/dns.mjs';
import { startSmtp, tokenOf } from './lib/mail.mjs';

// The web side of the tests: handles' /.well-known/atproto-did by Host, and one did:web's
// /.well-known/did.json (did:web:localhost%3A<port>), both on one loopback port.
const web = { handles: new Map(), didDoc: null, hits: [] };
const webPort = await freePort();
const webServer = http.createServer((req, res) => {
  const host = (req.headers.host ?? '').split(':')[0];
  web.hits.push(`${host}${req.url}`);
  if (req.url === '/.well-known/atproto-did' && web.handles.has(host)) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${web.handles.get(host)}\n`);
  } else if (req.url === '/.well-known/did.json' && web.didDoc) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(web.didDoc));
  } else {
    res.writeHead(404);
    res.end('not found');
  }
});
await new Promise((r) => webServer.listen(webPort, '127.0.0.1', r));
const dns = await startDns();
const smtp = await startSmtp();
after(async () => {
  await new Promise((r) => webServer.close(r));
  await dns.stop();
  await smtp.stop();
});

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

describe('identity', () => {
  const env = useTestEnv({
    pds: {
      env: {
        PDS_HANDLE_DNS_SERVER: dns.server,
        PDS_DEV_HANDLE_HTTP_PORT: String(webPort),
        PDS_EMAIL_SMTP_URL: smtp.url,
        PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.example.com',
        PDS_ID_RESOLVER_TIMEOUT: '2000',
      },
    },
  });
  let plcClient;
  let serviceDid;
  before(async () => {
    plcClient = new plc.Client(env.plc.url);
    serviceDid = (await env.pds.agent().com.atproto.server.describeServer()).data.did;
  });

  async function sql(text, params) {
    const db = new pg.Client({ connectionString: env.pds.dbUrl });
    await db.connect();
    try {
      return (await db.query(text, params)).rows;
    } finally {
      await db.end();
    }
  }
  async function events(did, afterId = 0) {
    const rows = await sql('SELECT id, event_type, event FROM repo_seq WHERE did = $1 AND id > $2 ORDER BY id', [
      did,
      afterId,
    ]);
    return rows.map((r) => ({ type: r.event_type, body: dagCbor.decode(r.event) }));
  }
  async function lastEventId() {
    return Number((await sql('SELECT coalesce(max(id), 0) AS id FROM repo_seq'))[0].id);
  }
  const resolve = (handle) => env.pds.agent().com.atproto.identity.resolveHandle({ handle });

  describe('resolveHandle', () => {
    test('local accounts from the database; unknown names under our domains are HandleNotFound', async () => {
      const acct = await createAccount(env.pds);
      assert.equal((await resolve(acct.handle.toUpperCase())).data.did, acct.did);
      await rejects(() => resolve(`nobody${randomHex(3)}.test`), { status: 400, error: 'HandleNotFound' });
      await rejects(() => resolve('not a handle'), { status: 400, error: 'InvalidHandle' });
    });

    test('other domains through DNS TXT _atproto and HTTPS well-known; failures are 400', async () => {
      const id = randomHex(4);
      await dns.setRecords({ [`_atproto.dns${id}.example.org`]: 'did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' });
      assert.equal((await resolve(`dns${id}.example.org`)).data.did, 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa');
      web.handles.set(`web${id}.localhost`, 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb');
      assert.equal((await resolve(`web${id}.localhost`)).data.did, 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb');
      assert.ok(web.hits.includes(`web${id}.localhost/.well-known/atproto-did`));
      await rejects(() => resolve(`missing${id}.example.org`), {
        status: 400,
        error: 'InvalidRequest',
        message: /Unable to resolve handle/,
      });
    });
  });

  describe('updateHandle', () => {
    test('to another service subdomain: PLC document, database and #identity change together', async () => {
      const acct = await createAccount(env.pds);
      const next = `n${randomHex(4)}.test`;
      const mark = await lastEventId();
      await acct.agent.com.atproto.identity.updateHandle({ handle: next.toUpperCase() });
      const data = await plcClient.getDocumentData(acct.did);
      assert.deepEqual(data.alsoKnownAs, [`at://${next}`]);
      const ev = await events(acct.did, mark);
      assert.deepEqual(
        ev.map((e) => [e.type, e.body.handle]),
        [['identity', next]],
      );
      assert.equal((await resolve(next)).data.did, acct.did);
      await rejects(() => resolve(acct.handle), { error: 'HandleNotFound' });
      assert.equal((await acct.agent.com.atproto.server.getSession()).data.handle, next);
      // the old name is free for someone else
      const other = await createAccount(env.pds, { handle: acct.handle });
      assert.equal(other.handle, acct.handle);
      // setting the same handle again just re-announces it
      await acct.agent.com.atproto.identity.updateHandle({ handle: next });
      assert.equal((await events(acct.did, mark)).length, 2);
    });

    test("invalid, reserved, taken and unproven handles get the reference's errors", async () => {
      const acct = await createAccount(env.pds);
      const other = await createAccount(env.pds);
      const upd = (handle) => acct.agent.com.atproto.identity.updateHandle({ handle });
      await rejects(() => upd('admin.test'), { status: 400, error: 'HandleNotAvailable', message: /Reserved handle/ });
      await rejects(() => upd(other.handle), { status: 400, error: 'HandleNotAvailable', message: /already taken/ });
      await rejects(() => upd('ab.test'), { status: 400, error: 'InvalidHandle', message: /too short/ });
      await rejects(() => upd(`a${'b'.repeat(20)}.test`), { status: 400, error: 'InvalidHandle', message: /too long/ });
      await rejects(() => upd('x.y.test'), { status: 400, error: 'InvalidHandle', message: /Invalid characters/ });
      await rejects(() => upd('bad_char.com'), { status: 400, error: 'InvalidHandle', message: /Disallowed characters/ });
      await rejects(() => upd('nodots'), { status: 400, error: 'InvalidHandle', message: /two parts/ });
      await rejects(() => upd('some.example'), { status: 400, error: 'InvalidHandle', message: /TLD/ });
      await rejects(() => upd(`unproven${randomHex(3)}.example.org`), {
        status: 400,
        error: 'InvalidRequest',
        message: /External handle did not resolve to DID/,
      });
      // someone else's proof does not count
      const id = randomHex(4);
      await dns.setRecords({ [`_atproto.theirs${id}.example.org`]: `did=${other.did}` });
      await rejects(() => upd(`theirs${id}.example.org`), { message: /did not resolve to DID/ });
      const data = await plcClient.getDocumentData(acct.did);
      assert.deepEqual(data.alsoKnownAs, [`at://${acct.handle}`], 'nothing changed');
    });

    test('to a custom domain proven by DNS TXT', async () => {
      const acct = await createAccount(env.pds);
      const handle = `me${randomHex(4)}.example.com`;
      await dns.setRecords({ [`_atproto.${handle}`]: ['v=spf1 -all', `did=${acct.did}`] });
      await acct.agent.com.atproto.identity.updateHandle({ handle });
      const data = await plcClient.getDocumentData(acct.did);
      assert.deepEqual(data.alsoKnownAs, [`at://${handle}`]);
      assert.equal((await resolve(handle)).data.did, acct.did);
      const info = await env.pds.agent().com.atproto.identity.resolveIdentity({ identifier: acct.did });
      assert.equal(info.data.handle, handle, 'verified both ways');
      // two different DIDs in DNS: no proof
      const twice = `two${randomHex(4)}.example.com`;
      await dns.setRecords({ [`_atproto.${twice}`]: [`did=${acct.did}`, 'did=did:plc:cccccccccccccccccccccccc'] });
      await rejects(() => acct.agent.com.atproto.identity.updateHandle({ handle: twice }), { status: 400 });
    });

    test('to a custom domain proven by /.well-known/atproto-did (dev mode: http on loopback)', async () => {
      const acct = await createAccount(env.pds);
      const handle = `w${randomHex(4)}.localhost`;
      await rejects(() => acct.agent.com.atproto.identity.updateHandle({ handle }), {
        message: /did not resolve to DID/,
      });
      web.handles.set(handle, acct.did);
      await acct.agent.com.atproto.identity.updateHandle({ handle });
      assert.deepEqual((await plcClient.getDocumentData(acct.did)).alsoKnownAs, [`at://${handle}`]);
      assert.equal((await acct.agent.com.atproto.server.getSession()).data.handle, handle);
    });
  });

  describe('PLC operations', () => {
    test('recommended credentials, emailed code, sign, submit: the directory document changes', async () => {
      const acct = await createAccount(env.pds, { email: `plc${randomHex(4)}@example.com` });
      const before = await plcClient.getDocumentData(acct.did);
      const creds = (await acct.agent.com.atproto.identity.getRecommendedDidCredentials()).data;
      assert.deepEqual(creds, {
        rotationKeys: [env.pds.rotationKey.did()],
        alsoKnownAs: [`at://${acct.handle}`],
        verificationMethods: { atproto: before.verificationMethods.atproto },
        services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: env.pds.url } },
      });

      const id = acct.agent.com.atproto.identity;
      await rejects(() => id.signPlcOperation({}), { status: 400, message: /token required/ });
      await id.requestPlcOperationSignature();
      const mail = await smtp.waitForMail(acct.email);
      assert.equal(mail.subject, 'Confirm a change of your identity');
      const token = tokenOf(mail);
      await rejects(() => id.signPlcOperation({ token: 'AAAAA-AAAAA' }), { status: 400, error: 'InvalidToken' });

      const userKey = await Secp256k1Keypair.create();
      const alsoKnownAs = [`at://${acct.handle}`, 'https://example.com/~me'];
      const signed = await id.signPlcOperation({
        token,
        rotationKeys: [userKey.did(), ...creds.rotationKeys],
        alsoKnownAs,
      });
      const op = signed.data.operation;
      const last = await plcClient.getLastOp(acct.did);
      assert.equal(op.prev, (await cidForCbor(last)).toString());
      assert.deepEqual(op.services, before.services, 'fields not given are kept');
      assert.deepEqual(op.verificationMethods, before.verificationMethods);
      assert.equal(await plc.assureValidSig([env.pds.rotationKey.did()], op), env.pds.rotationKey.did());
      await rejects(() => id.signPlcOperation({ token }), { error: 'InvalidToken' });

      // the checks of submitPlcOperation: this server stays in charge
      const bad = [
        [{ ...op, rotationKeys: [userKey.did()] }, /Rotation keys do not include server's rotation key/],
        [{ ...op, services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://elsewhere.example.com' } } }, /Incorrect endpoint/],
        [{ ...op, services: { atproto_pds: { type: 'Other', endpoint: env.pds.url } } }, /Incorrect type/],
        [{ ...op, verificationMethods: { atproto: userKey.did() } }, /Incorrect signing key/],
        [{ ...op, alsoKnownAs: ['at://someone.else.com'] }, /Incorrect handle in alsoKnownAs/],
        [{ ...op, extra: 1 }, /Invalid operation/],
      ];
      for (const [operation, message] of bad) {
        await rejects(() => id.submitPlcOperation({ operation }), { status: 400, message });
      }
      const mark = await lastEventId();
      await id.submitPlcOperation({ operation: op });
      const now = await plcClient.getDocumentData(acct.did);
      assert.deepEqual(now.rotationKeys, [userKey.did(), env.pds.rotationKey.did()]);
      assert.deepEqual(now.alsoKnownAs, alsoKnownAs);
      assert.deepEqual(
        (await events(acct.did, mark)).map((e) => e.type),
        ['identity'],
      );
      // our rotation key is still listed, so handle changes still work
      const next = `p${randomHex(4)}.test`;
      await acct.agent.com.atproto.identity.updateHandle({ handle: next });
      const after = await plcClient.getDocumentData(acct.did);
      assert.deepEqual(after.alsoKnownAs, [`at://${next}`, 'https://example.com/~me']);
      assert.deepEqual(after.rotationKeys, now.rotationKeys);
    });

    test('PLC signing needs a full session', async () => {
      const acct = await createAccount(env.pds);
      const app = await acct.agent.com.atproto.server.createAppPassword({ name: 'app' });
      const viaApp = await login(env.pds, acct.handle, app.data.password);
      await rejects(() => viaApp.com.atproto.identity.requestPlcOperationSignature(), { status: 400, error: 'InvalidToken' });
      await rejects(() => viaApp.com.atproto.identity.signPlcOperation({ token: 'AAAAA-AAAAA' }), {
        error: 'InvalidToken',
      });
    });
  });

  describe('DID and identity resolution', () => {
    test('resolveDid, resolveIdentity and refreshIdentity', async () => {
      const acct = await createAccount(env.pds);
      const a = env.pds.agent();
      const doc = (await a.com.atproto.identity.resolveDid({ did: acct.did })).data.didDoc;
      assert.equal(doc.id, acct.did);
      assert.deepEqual(doc.alsoKnownAs, [`at://${acct.handle}`]);
      await rejects(() => a.com.atproto.identity.resolveDid({ did: 'did:plc:dddddddddddddddddddddddd' }), {
        status: 400,
        error: 'DidNotFound',
      });
      for (const identifier of [acct.did, acct.handle]) {
        const info = (await a.com.atproto.identity.resolveIdentity({ identifier })).data;
        assert.equal(info.did, acct.did);
        assert.equal(info.handle, acct.handle);
        assert.equal(info.didDoc.id, acct.did);
      }
      await rejects(() => a.com.atproto.identity.resolveIdentity({ identifier: `gone${randomHex(3)}.example.org` }), {
        error: 'HandleNotFound',
      });
      // a handle that does not point back is handle.invalid
      await plcClient.updateHandle(acct.did, env.pds.rotationKey, `stranger${randomHex(3)}.example.org`);
      const stale = (await a.com.atproto.identity.resolveIdentity({ identifier: acct.did })).data;
      assert.equal(stale.handle, acct.handle, 'cached document');
      const fresh = (await a.com.atproto.identity.refreshIdentity({ identifier: acct.did })).data;
      assert.equal(fresh.handle, 'handle.invalid');
    });
  });

  describe('accounts bringing their own DID (service auth)', () => {
    async function serviceJwt(iss, keypair, over = {}) {
      return createServiceJwt({ iss, aud: serviceDid, lxm: 'com.atproto.server.createAccount', keypair, ...over });
    }
    async function signUp(body, jwt) {
      const headers = jwt ? { authorization: `Bearer ${jwt}` } : {};
      return env.pds.agent().com.atproto.server.createAccount(body, { headers });
    }

    test('a did:web: proven with a JWT from its key, created deactivated, activated once did.json names us', async () => {
      const key = await Secp256k1Keypair.create();
      const did = `did:web:localhost%3A${webPort}`;
      const handle = `web${randomHex(4)}.test`;
      const didDoc = (atprotoKey, aka = handle) => ({
        '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
        id: did,
        alsoKnownAs: [`at://${aka}`],
        verificationMethod: [
          { id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: atprotoKey.slice('did:key:'.length) },
        ],
        service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: env.pds.url }],
      });
      web.didDoc = didDoc(key.did());
      const body = { did, handle, email: `w${randomHex(4)}@example.com`, password: `pw-${randomHex(6)}` };

      await rejects(() => signUp(body), { status: 401, message: /Missing auth to create account with did/ });
      const stranger = await Secp256k1Keypair.create();
      await rejects(async () => signUp(body, await serviceJwt(did, stranger)), { status: 401, error: 'BadJwtSignature' });
      await rejects(async () => signUp(body, await serviceJwt(did, key, { lxm: 'com.atproto.repo.createRecord' })), {
        status: 401,
        error: 'BadJwtLexiconMethod',
      });
      await rejects(async () => signUp(body, await serviceJwt(did, key, { aud: 'did:web:elsewhere.example.com' })), {
        status: 401,
        error: 'BadJwtAudience',
      });
      await rejects(
        async () => signUp(body, await serviceJwt(did, key, { exp: Math.floor(Date.now() / 1000) - 10 })),
        { status: 401, error: 'JwtExpired' },
      );
      await rejects(async () => signUp({ ...body, did: 'did:web:other.example.com' }, await serviceJwt(did, key)), {
        status: 401,
      });

      const reserved = (await env.pds.agent().com.atproto.server.reserveSigningKey({ did })).data.signingKey;
      const res = await signUp(body, await serviceJwt(did, key));
      assert.equal(res.data.did, did);
      assert.equal(res.data.handle, handle);
      assert.equal(res.data.didDoc.id, did);
      const agent = await login(env.pds, handle, body.password);
      assert.equal(agent.session.active, false);
      assert.equal(agent.session.status, 'deactivated');
      assert.deepEqual(await events(did), [], 'nothing announced while deactivated');
      const [row] = await sql('SELECT delete_after > now() + interval \'2 days\' AS later FROM account WHERE did = $1', [did]);
      assert.equal(row.later, true, 'goes after 3 days unless activated');

      const creds = (await agent.com.atproto.identity.getRecommendedDidCredentials()).data;
      assert.equal(creds.verificationMethods.atproto, reserved, 'the key reserveSigningKey announced');
      let status = (await agent.com.atproto.server.checkAccountStatus()).data;
      assert.equal(status.activated, false);
      assert.equal(status.validDid, false);
      await rejects(() => agent.com.atproto.server.activateAccount(), {
        status: 400,
        message: /verification method does not match expected signing key/,
      });

      web.didDoc = didDoc(creds.verificationMethods.atproto);
      status = (await agent.com.atproto.server.checkAccountStatus()).data;
      assert.equal(status.validDid, true);
      await agent.com.atproto.server.activateAccount();
      assert.deepEqual(
        (await events(did)).map((e) => e.type),
        ['identity', 'account', 'commit', 'sync'],
      );
      const post = await agent.com.atproto.repo.createRecord({
        repo: did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'from did:web', createdAt: new Date().toISOString() },
      });
      assert.match(post.data.uri, new RegExp(`^at://${did}/`));
      assert.equal((await resolve(handle)).data.did, did);

      // a did:web's handle changes only when its document already says so
      const next = `webn${randomHex(3)}.test`;
      await rejects(() => agent.com.atproto.identity.updateHandle({ handle: next }), {
        status: 400,
        message: /DID is not properly configured for handle/,
      });
      web.didDoc = didDoc(creds.verificationMethods.atproto, next);
      await agent.com.atproto.identity.updateHandle({ handle: next });
      assert.equal((await resolve(next)).data.did, did);
    });

    test('a did:plc migrating in: created deactivated, activated after the user points the DID here', async () => {
      const rotation = await Secp256k1Keypair.create();
      const oldKey = await Secp256k1Keypair.create();
      const did = await plcClient.createDid({
        signingKey: oldKey.did(),
        handle: `mig${randomHex(3)}.elsewhere.example.com`,
        pds: 'https://old-pds.example.com',
        rotationKeys: [rotation.did()],
        signer: rotation,
      });
      const handle = `mig${randomHex(4)}.test`;
      const password = `pw-${randomHex(6)}`;
      const res = await signUp(
        { did, handle, email: `m${randomHex(4)}@example.com`, password },
        await serviceJwt(did, oldKey),
      );
      assert.equal(res.data.did, did);
      // the same DID cannot sign up twice
      await rejects(
        async () =>
          signUp(
            { did, handle: `again${randomHex(3)}.test`, email: `a${randomHex(4)}@example.com`, password },
            await serviceJwt(did, oldKey),
          ),
        { status: 400, message: /already exists/ },
      );
      const agent = await login(env.pds, handle, password);
      assert.equal(agent.session.active, false);
      await rejects(() => agent.com.atproto.server.activateAccount(), {
        status: 400,
        message: /Server rotation key not included in PLC DID data/,
      });
      // the user (holding the rotation key) adopts the recommended credentials
      const creds = (await agent.com.atproto.identity.getRecommendedDidCredentials()).data;
      await plcClient.updateData(did, rotation, (d) => ({
        ...d,
        rotationKeys: [rotation.did(), ...creds.rotationKeys],
        alsoKnownAs: creds.alsoKnownAs,
        verificationMethods: creds.verificationMethods,
        services: creds.services,
      }));
      await agent.com.atproto.server.activateAccount();
      const s = await agent.com.atproto.server.getSession();
      assert.equal(s.data.active, true);
      await agent.com.atproto.repo.createRecord({
        repo: did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'moved in', createdAt: new Date().toISOString() },
      });
    });
  });
});

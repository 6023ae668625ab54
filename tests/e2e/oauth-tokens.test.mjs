// OAuth tokens at work and under attack, against one server with SSRF protection on: the
// scope matrix (for each scope kind a token can do exactly what it names and is refused one
// step outside: another collection, action, MIME type, aud or lxm), the endpoints that
// refuse OAuth, legacy sessions keeping their rights through the same check, and every bad
// input at the authorization and resource servers with the error the RFCs name (PKCE,
// DPoP proofs and nonces, reused codes and refresh tokens, foreign tokens), changing nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { startPlc, startPds, createAccount, randomHex } from './lib/index.mjs';
import {
  approve, asPost, browserless, dpopProof, dpopXrpc, newKey, pkce, rawGrant, startClientHost,
} from './lib/oauth.mjs';

const JWT_SECRET = randomHex(32);
const APPVIEW_DID = 'did:web:appview.test';
let plc;
let pds;
let db;
let alice;
let appview;
let appviewCalls = [];

before(async () => {
  plc = await startPlc();
  // a stand-in AppView: answers every proxied call, and records what reached it
  appview = http.createServer((req, res) => {
    appviewCalls.push(req.url);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"feed":[]}');
  });
  await new Promise((r) => appview.listen(0, '127.0.0.1', r));
  pds = await startPds({
    plcUrl: plc.url,
    env: {
      PDS_JWT_SECRET: JWT_SECRET,
      PDS_DISABLE_SSRF_PROTECTION: 'false',
      PDS_BSKY_APP_VIEW_URL: `http://127.0.0.1:${appview.address().port}`,
      PDS_BSKY_APP_VIEW_DID: APPVIEW_DID,
    },
  });
  db = new pg.Client({ connectionString: pds.dbUrl });
  await db.connect();
  alice = await createAccount(pds);
});
after(async () => {
  await db?.end();
  await pds?.stop();
  await plc?.stop();
  await new Promise((r) => appview?.close(r) ?? r());
});

const count = async (table) => Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
const post = (text) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });
const missing = (r, scope) => {
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.equal(r.body.error, 'ScopeMissingError');
  assert.equal(r.body.message, `Missing required scope "${scope}"`);
};
const create = (g, collection, record) =>
  dpopXrpc(pds, g, 'POST', 'com.atproto.repo.createRecord', { body: { repo: alice.did, collection, record } });

// ---- the scope matrix ---------------------------------------------------------------------

test('repo: scopes grant writes per collection and action; putRecord needs create and update; applyWrites is checked per write', async () => {
  const g = await rawGrant(pds, alice, 'atproto repo:app.bsky.feed.post?action=create');
  assert.equal(g.tokens.token_type, 'DPoP');
  assert.equal(g.tokens.sub, alice.did);
  assert.equal(g.tokens.scope, 'atproto repo:app.bsky.feed.post?action=create');
  const ok = await create(g, 'app.bsky.feed.post', post('allowed'));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  missing(await create(g, 'app.bsky.feed.like', { $type: 'app.bsky.feed.like', subject: { uri: ok.body.uri, cid: ok.body.cid }, createdAt: new Date().toISOString() }),
    'repo:app.bsky.feed.like?action=create');
  const rkey = ok.body.uri.split('/').pop();
  missing(await dpopXrpc(pds, g, 'POST', 'com.atproto.repo.deleteRecord', { body: { repo: alice.did, collection: 'app.bsky.feed.post', rkey } }),
    'repo:app.bsky.feed.post?action=delete');
  missing(await dpopXrpc(pds, g, 'POST', 'com.atproto.repo.putRecord', { body: { repo: alice.did, collection: 'app.bsky.feed.post', rkey, record: post('edited') } }),
    'repo:app.bsky.feed.post?action=update');
  const w = (type, collection, extra) => ({ $type: `com.atproto.repo.applyWrites#${type}`, collection, ...extra });
  assert.equal((await dpopXrpc(pds, g, 'POST', 'com.atproto.repo.applyWrites', { body: { repo: alice.did, writes: [w('create', 'app.bsky.feed.post', { value: post('batch') })] } })).status, 200);
  const before = (await pds.agent().com.atproto.sync.getLatestCommit({ did: alice.did })).data.rev;
  missing(await dpopXrpc(pds, g, 'POST', 'com.atproto.repo.applyWrites', { body: { repo: alice.did, writes: [
    w('create', 'app.bsky.feed.post', { value: post('one') }), w('delete', 'app.bsky.feed.post', { rkey })] } }),
  'repo:app.bsky.feed.post?action=delete');
  assert.equal((await pds.agent().com.atproto.sync.getLatestCommit({ did: alice.did })).data.rev, before, 'a refused batch writes nothing');

  const all = await rawGrant(pds, alice, 'atproto repo:app.bsky.feed.post');
  assert.equal((await dpopXrpc(pds, all, 'POST', 'com.atproto.repo.putRecord', { body: { repo: alice.did, collection: 'app.bsky.feed.post', rkey, record: post('edited') } })).status, 200);
  assert.equal((await dpopXrpc(pds, all, 'POST', 'com.atproto.repo.deleteRecord', { body: { repo: alice.did, collection: 'app.bsky.feed.post', rkey } })).status, 200);
  missing(await create(all, 'app.bsky.graph.follow', { $type: 'app.bsky.graph.follow', subject: alice.did, createdAt: new Date().toISOString() }),
    'repo:app.bsky.graph.follow?action=create');
  const star = await rawGrant(pds, alice, 'atproto repo:*?action=create');
  assert.equal((await create(star, 'app.bsky.graph.follow', { $type: 'app.bsky.graph.follow', subject: alice.did, createdAt: new Date().toISOString() })).status, 200);
});

test('blob: scopes grant uploads by MIME type', async () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  const up = (g, type) => dpopXrpc(pds, g, 'POST', 'com.atproto.repo.uploadBlob', { body: png, raw: true, headers: { 'content-type': type } });
  const images = await rawGrant(pds, alice, 'atproto blob:image/*');
  assert.equal((await up(images, 'image/png')).status, 200);
  assert.equal((await up(images, 'image/jpeg')).status, 200);
  missing(await up(images, 'text/plain'), 'blob:text/plain');
  missing(await up(images, 'video/mp4'), 'blob:video/mp4');
  const exact = await rawGrant(pds, alice, 'atproto blob:image/png');
  assert.equal((await up(exact, 'image/png')).status, 200);
  missing(await up(exact, 'image/jpeg'), 'blob:image/jpeg');
  const none = await rawGrant(pds, alice, 'atproto');
  missing(await up(none, 'image/png'), 'blob:image/png');
});

test('rpc: scopes grant service auth tokens by aud and lxm, and are checked before proxying', async () => {
  const aud = `${APPVIEW_DID}#bsky_appview`;
  const g = await rawGrant(pds, alice, `atproto rpc:app.bsky.feed.getTimeline?aud=${encodeURIComponent(aud)}`);
  appviewCalls = [];
  missing(await dpopXrpc(pds, g, 'GET', 'app.bsky.feed.getAuthorFeed', { params: { actor: alice.did } }),
    `rpc:app.bsky.feed.getAuthorFeed?aud=${APPVIEW_DID}%23bsky_appview`);
  missing(await dpopXrpc(pds, g, 'GET', 'app.bsky.feed.getTimeline', { headers: { 'atproto-proxy': 'did:web:other.test#bsky_appview' } }),
    'rpc:app.bsky.feed.getTimeline?aud=did:web:other.test%23bsky_appview');
  // preferences are served here, but count as calls to the AppView (reference)
  missing(await dpopXrpc(pds, g, 'GET', 'app.bsky.actor.getPreferences'), `rpc:app.bsky.actor.getPreferences?aud=${APPVIEW_DID}%23bsky_appview`);
  assert.equal(appviewCalls.length, 0, 'refused calls never left the server');

  const svc = 'did:web:svc.test#svc';
  const sa = await rawGrant(pds, alice, `atproto rpc:com.example.method?aud=${encodeURIComponent(svc)}`);
  const token = await dpopXrpc(pds, sa, 'GET', 'com.atproto.server.getServiceAuth', { params: { aud: svc, lxm: 'com.example.method' } });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  assert.ok(token.body.token);
  missing(await dpopXrpc(pds, sa, 'GET', 'com.atproto.server.getServiceAuth', { params: { aud: svc, lxm: 'com.example.other' } }),
    'rpc:com.example.other?aud=did:web:svc.test%23svc');
  missing(await dpopXrpc(pds, sa, 'GET', 'com.atproto.server.getServiceAuth', { params: { aud: 'did:web:else.test#svc', lxm: 'com.example.method' } }),
    'rpc:com.example.method?aud=did:web:else.test%23svc');
  missing(await dpopXrpc(pds, sa, 'GET', 'com.atproto.server.getServiceAuth', { params: { aud: svc } }), 'rpc:*?aud=did:web:svc.test%23svc');
});

test('transition scopes: generic covers repo, blobs and rpc but chat; chat.bsky and email add theirs', async () => {
  const g = await rawGrant(pds, alice, 'atproto transition:generic');
  assert.equal((await create(g, 'app.bsky.feed.post', post('generic'))).status, 200);
  assert.equal((await dpopXrpc(pds, g, 'GET', 'app.bsky.actor.getPreferences')).status, 200);
  const chat = { 'atproto-proxy': 'did:web:chat.test#bsky_chat' };
  missing(await dpopXrpc(pds, g, 'GET', 'chat.bsky.convo.listConvos', { headers: chat }),
    'rpc:chat.bsky.convo.listConvos?aud=did:web:chat.test%23bsky_chat');
  const session = await dpopXrpc(pds, g, 'GET', 'com.atproto.server.getSession');
  assert.equal(session.status, 200);
  assert.equal(session.body.email, undefined, 'no email without an email scope');
  const c = await rawGrant(pds, alice, 'atproto transition:generic transition:chat.bsky');
  const r = await dpopXrpc(pds, c, 'GET', 'chat.bsky.convo.listConvos', { headers: chat });
  assert.notEqual(r.status, 403, 'past the permission check (the chat service does not exist here)');
  assert.equal(r.body.error, 'InvalidRequest');
  const e = await rawGrant(pds, alice, 'atproto transition:email');
  assert.equal((await dpopXrpc(pds, e, 'GET', 'com.atproto.server.getSession')).body.email, alice.email);
  missing(await create(e, 'app.bsky.feed.post', post('no')), 'repo:app.bsky.feed.post?action=create');
});

test('account: and identity: scopes guard email, repository import, handles and the PLC methods', async () => {
  const read = await rawGrant(pds, alice, 'atproto account:email');
  assert.equal((await dpopXrpc(pds, read, 'GET', 'com.atproto.server.getSession')).body.email, alice.email);
  missing(await dpopXrpc(pds, read, 'POST', 'com.atproto.server.confirmEmail', { body: { email: alice.email, token: 'AAAAA-BBBBB' } }),
    'account:email?action=manage');
  const manage = await rawGrant(pds, alice, 'atproto account:email?action=manage');
  const conf = await dpopXrpc(pds, manage, 'POST', 'com.atproto.server.confirmEmail', { body: { email: alice.email, token: 'AAAAA-BBBBB' } });
  assert.equal(conf.status, 400, 'past the permission check: the token is wrong');
  assert.equal(conf.body.error, 'InvalidToken');

  const car = Buffer.from('not a car');
  const imp = (g) => dpopXrpc(pds, g, 'POST', 'com.atproto.repo.importRepo', { body: car, raw: true, headers: { 'content-type': 'application/vnd.ipld.car' } });
  missing(await imp(manage), 'account:repo?action=manage');
  const repo = await rawGrant(pds, alice, 'atproto account:repo?action=manage');
  const r = await imp(repo);
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.notEqual(r.body.error, 'ScopeMissingError');

  const handle = await rawGrant(pds, alice, 'atproto identity:handle');
  const newHandle = `h${randomHex(3)}.test`;
  assert.equal((await dpopXrpc(pds, handle, 'POST', 'com.atproto.identity.updateHandle', { body: { handle: newHandle } })).status, 200);
  alice.handle = newHandle;
  missing(await dpopXrpc(pds, handle, 'POST', 'com.atproto.identity.requestPlcOperationSignature'), 'identity:*');
  missing(await dpopXrpc(pds, handle, 'POST', 'com.atproto.identity.submitPlcOperation', { body: { operation: {} } }), 'identity:*');
  const all = await rawGrant(pds, alice, 'atproto identity:*');
  const sub = await dpopXrpc(pds, all, 'POST', 'com.atproto.identity.submitPlcOperation', { body: { operation: {} } });
  assert.equal(sub.status, 400, 'past the permission check: the operation is invalid');
  missing(await dpopXrpc(pds, all, 'POST', 'com.atproto.repo.createRecord', { body: { repo: alice.did, collection: 'app.bsky.feed.post', record: post('x') } }),
    'repo:app.bsky.feed.post?action=create');
  assert.equal((await dpopXrpc(pds, all, 'GET', 'com.atproto.server.checkAccountStatus')).status, 200);
});

test('endpoints that refuse OAuth say so; legacy sessions and app passwords keep their rights', async () => {
  const g = await rawGrant(pds, alice, 'atproto transition:generic transition:email');
  for (const [method, nsid, body] of [
    ['POST', 'com.atproto.server.createAppPassword', { name: 'x' }],
    ['GET', 'com.atproto.server.listAppPasswords'],
    ['POST', 'com.atproto.server.deactivateAccount', {}],
    ['POST', 'com.atproto.server.activateAccount'],
    ['GET', 'com.atproto.server.getAccountInviteCodes'],
    ['POST', 'com.atproto.server.requestAccountDelete'],
  ]) {
    const r = await dpopXrpc(pds, g, method, nsid, { body });
    assert.equal(r.status, 403, nsid);
    assert.equal(r.body.error, 'Forbidden', nsid);
    assert.equal(r.body.message, 'OAuth credentials are not supported for this endpoint', nsid);
  }
  const u = await dpopXrpc(pds, g, 'POST', 'com.atproto.server.requestEmailUpdate');
  assert.equal(u.status, 403);
  assert.match(u.body.message, /account manager/);
  // legacy: a password session, an app password
  const full = pds.agent();
  await full.login({ identifier: alice.did, password: alice.password });
  const ap = await full.com.atproto.server.createAppPassword({ name: 'legacy' });
  const app = pds.agent();
  await app.login({ identifier: alice.did, password: ap.data.password });
  assert.ok((await app.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: post('app password') })).data.uri);
  await assert.rejects(app.com.atproto.server.createAppPassword({ name: 'no' }), /Bad token scope/);
  assert.ok((await full.com.atproto.server.getSession()).data.email, 'a password session sees the email');
  assert.ok((await app.com.atproto.server.getSession()).data.email, 'so does an app password, as before');
  assert.equal((await full.com.atproto.identity.updateHandle({ handle: alice.handle })).success, true);
});

// ---- bad input at the authorization server ---------------------------------------------

const CLIENT = 'http://localhost?scope=atproto%20transition%3Ageneric&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb';
const parForm = (extra = {}) => ({
  client_id: CLIENT, response_type: 'code', code_challenge: pkce().challenge, code_challenge_method: 'S256',
  redirect_uri: 'http://127.0.0.1/cb', scope: 'atproto transition:generic', state: 's', ...extra,
});

test('a client_id that resolves to a private address is never fetched (SSRF protection)', async () => {
  const host = await startClientHost();
  try {
    const path = '/client-metadata.json';
    host.set(path, { body: { client_id: `${host.origin}${path}`, redirect_uris: [`${host.origin}/cb`], scope: 'atproto', token_endpoint_auth_method: 'none', dpop_bound_access_tokens: true } });
    const r = await asPost(pds, '/oauth/par', parForm({ client_id: `${host.origin}${path}`, redirect_uri: undefined, scope: 'atproto' }), newKey());
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_client_metadata');
    assert.match(r.body.error_description, /could not be reached/);
    assert.equal(host.hits(path), 0, 'the loopback address was refused before any request');
  } finally {
    await host.stop();
  }
});

test('PAR refuses what the profile forbids, storing nothing', async () => {
  const before = await count('oauth_request');
  const k = newKey();
  const cases = [
    [{ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request', /PKCE is required/],
    [{ code_challenge: undefined }, 'invalid_request', /code_challenge is required when code_challenge_method/],
    [{ code_challenge_method: 'plain' }, 'invalid_request', /S256/],
    [{ code_challenge: 'short' }, 'invalid_request', /code_challenge/],
    [{ response_type: 'token' }, 'unsupported_response_type', /token/],
    [{ redirect_uri: 'http://127.0.0.1/elsewhere' }, 'invalid_request', /redirect_uri/],
    [{ redirect_uri: 'https://evil.example.com/cb' }, 'invalid_request', /redirect_uri/],
    [{ scope: 'transition:generic' }, 'invalid_scope', /atproto/],
    [{ scope: 'atproto transition:chat.bsky' }, 'invalid_scope', /not declared/],
    [{ client_id: 'http://localhost?scope=atproto%20include%3Acom.example.authFull&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb', scope: 'atproto include:com.example.authFull' }, 'invalid_scope', /could not resolve the permission set com\.example\.authFull/],
    [{ login_hint: 'not a handle!' }, 'invalid_request', /login_hint/],
    [{ response_mode: 'form_post' }, 'invalid_request', /response_mode/],
    [{ request: 'eyJ.x.y' }, 'invalid_request', /request/],
    [{ state: 'x'.repeat(2000) }, 'invalid_request', /state/],
    [{ client_id: undefined }, 'invalid_client', /client_id/],
  ];
  for (const [extra, error, why] of cases) {
    const form = parForm(extra);
    for (const key of Object.keys(form)) if (form[key] === undefined) delete form[key];
    const r = await asPost(pds, '/oauth/par', form, k);
    assert.equal(r.status, 400, `${JSON.stringify(extra).slice(0, 80)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, error, JSON.stringify(extra).slice(0, 80));
    assert.match(r.body.error_description, why);
  }
  const dup = await asPost(pds, '/oauth/par', [...Object.entries(parForm()), ['scope', 'atproto']], k);
  assert.equal(dup.status, 400);
  assert.equal(dup.body.error, 'invalid_request');
  assert.match(dup.body.error_description, /repeated/);
  const json = await fetch(`${pds.url}/oauth/par`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(parForm()) });
  assert.equal(json.status, 400);
  assert.equal((await json.json()).error, 'invalid_request');
  assert.equal(await count('oauth_request'), before);
});

test('DPoP proofs at the authorization server: nonce, signature, htm, htu, iat, replay', async () => {
  const k = newKey();
  const url = `${pds.url}/oauth/par`;
  const form = parForm();
  // no nonce: 400 use_dpop_nonce with a nonce to use (RFC 9449 §8)
  let r = await asPost(pds, '/oauth/par', form, null, { proof: () => dpopProof(k, { htm: 'POST', htu: url }) });
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'use_dpop_nonce');
  assert.match(r.nonce, /^[A-Za-z0-9_-]{43}$/);
  const nonce = r.nonce;
  r = await asPost(pds, '/oauth/par', form, null, { proof: () => dpopProof(k, { htm: 'POST', htu: url, nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }) });
  assert.equal(r.body.error, 'use_dpop_nonce', 'a stale nonce');
  const bad = async (proof, why) => {
    const res = await asPost(pds, '/oauth/par', parForm(), null, { nonce, proof: () => proof });
    assert.equal(res.status, 401, `${why.source}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, 'invalid_dpop_proof', why.source);
    assert.match(res.body.error_description, why);
    assert.match(res.headers.get('www-authenticate'), /^DPoP .*error="invalid_dpop_proof"/);
  };
  await bad(undefined, /DPoP proof required/);
  await bad('not-a-jwt', /well-formed/);
  await bad(dpopProof(k, { htm: 'GET', htu: url, nonce }), /htm/);
  await bad(dpopProof(k, { htm: 'POST', htu: `${pds.url}/oauth/token`, nonce }), /htu/);
  await bad(dpopProof(k, { htm: 'POST', htu: url, nonce, claims: { iat: Math.floor(Date.now() / 1000) - 600 } }), /too old/);
  await bad(dpopProof(k, { htm: 'POST', htu: url, nonce, claims: { iat: Math.floor(Date.now() / 1000) + 600 } }), /future/);
  await bad(dpopProof(k, { htm: 'POST', htu: url, nonce, claims: { jti: undefined } }), /jti/);
  await bad(dpopProof(k, { htm: 'POST', htu: url, nonce, header: { typ: 'JWT' } }), /typ/);
  await bad(dpopProof(k, { htm: 'POST', htu: url, nonce, header: { jwk: newKey().jwk } }), /signature/);
  const priv = k.privateKey.export({ format: 'jwk' });
  await bad(dpopProof(k, { htm: 'POST', htu: url, nonce, header: { jwk: priv } }), /jwk/);
  await bad(dpopProof(k, { htm: 'POST', htu: url, nonce, accessToken: 'x' }), /ath/);
  // a query in htu is ignored (RFC 9449 §4.3), a good proof works, and only once
  const once = dpopProof(k, { htm: 'POST', htu: `${url}?q=1`, nonce });
  r = await asPost(pds, '/oauth/par', parForm(), null, { nonce, proof: () => once });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.headers.get('dpop-nonce'), /^[A-Za-z0-9_-]{43}$/, 'every answer carries a nonce');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  await bad(once, /replayed/);
});

/** PAR + authorize for the loopback client with key k; returns { code, verifier, nonce }. */
async function codeFor(k, extra = {}) {
  const { verifier, challenge } = pkce();
  const par = await asPost(pds, '/oauth/par', parForm({ code_challenge: challenge, ...extra }), k);
  assert.equal(par.status, 201, JSON.stringify(par.body));
  const url = `${pds.url}/oauth/authorize?${new URLSearchParams({ client_id: CLIENT, request_uri: par.body.request_uri })}`;
  const { params } = await approve(pds, url, { identifier: alice.handle, password: alice.password });
  return { code: params.get('code'), verifier, nonce: par.nonce, state: params.get('state') };
}
const tokenForm = (c, extra = {}) => ({
  grant_type: 'authorization_code', client_id: CLIENT, code: c.code, redirect_uri: 'http://127.0.0.1/cb', code_verifier: c.verifier, ...extra,
});

test('token endpoint: PKCE, redirect_uri, DPoP key binding, grant types', async () => {
  const k = newKey();
  const grantErr = async (form, key, error, why) => {
    const r = await asPost(pds, '/oauth/token', form, key);
    assert.equal(r.status, 400, `${why.source}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, error, why.source);
    assert.match(r.body.error_description, why);
  };
  let c = await codeFor(k);
  assert.equal(c.state, 's');
  const sessions = await count('oauth_session');
  await grantErr(tokenForm(c, { code_verifier: crypto.randomBytes(32).toString('base64url') }), k, 'invalid_grant', /Invalid code_verifier/);
  assert.equal(await count('oauth_session'), sessions, 'a PKCE mismatch issues nothing');
  await grantErr(tokenForm(c), k, 'invalid_grant', /Invalid code/); // the code was spent by the failed try
  c = await codeFor(k);
  await grantErr(tokenForm(c, { code_verifier: undefined }), k, 'invalid_grant', /code_verifier is required/);
  c = await codeFor(k);
  await grantErr(tokenForm(c, { code_verifier: 'short' }), k, 'invalid_grant', /too short/);
  c = await codeFor(k);
  await grantErr(tokenForm(c, { redirect_uri: 'http://127.0.0.1/other' }), k, 'invalid_grant', /redirect_uri/);
  c = await codeFor(k);
  await grantErr(tokenForm(c), newKey(), 'invalid_grant', /JKT/);
  await grantErr(tokenForm(c, { code: 'cod-123' }), k, 'invalid_grant', /Invalid code/);
  await grantErr({ ...tokenForm(c), grant_type: 'password' }, k, 'unsupported_grant_type', /password/);
  await grantErr({ ...tokenForm(c), grant_type: 'refresh_token', refresh_token: 'ref-x' }, k, 'invalid_grant', /Invalid refresh token/);
  assert.equal(await count('oauth_session'), sessions, 'none of these issued a token');
});

test('a reused code or refresh token revokes the whole session', async () => {
  const k = newKey();
  const c = await codeFor(k);
  const first = await asPost(pds, '/oauth/token', tokenForm(c), k);
  assert.equal(first.status, 200);
  const grant = { key: k, tokens: first.body, nonce: first.nonce };
  assert.equal((await dpopXrpc(pds, grant, 'GET', 'com.atproto.server.getSession')).status, 200);
  const again = await asPost(pds, '/oauth/token', tokenForm(c), k);
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
  assert.match(again.body.error_description, /already used.*revoked/);
  const after = await dpopXrpc(pds, grant, 'GET', 'com.atproto.server.getSession');
  assert.equal(after.status, 401, 'the tokens of the first exchange are revoked');
  assert.equal(after.body.error, 'invalid_token');

  const g = await rawGrant(pds, alice, 'atproto transition:generic', { key: newKey() });
  const refresh = (token) => asPost(pds, '/oauth/token', { grant_type: 'refresh_token', client_id: g.clientId, refresh_token: token }, g.key, { nonce: g.nonce });
  const r1 = await refresh(g.tokens.refresh_token);
  assert.equal(r1.status, 200, JSON.stringify(r1.body));
  assert.equal(r1.body.sub, alice.did);
  assert.equal(r1.body.scope, 'atproto transition:generic');
  assert.notEqual(r1.body.refresh_token, g.tokens.refresh_token, 'refresh tokens rotate');
  const old = { ...g, tokens: g.tokens };
  assert.equal((await dpopXrpc(pds, old, 'GET', 'com.atproto.server.getSession')).status, 401, 'the superseded access token stops working');
  const fresh = { ...g, tokens: r1.body };
  assert.equal((await dpopXrpc(pds, fresh, 'GET', 'com.atproto.server.getSession')).status, 200);
  const replay = await refresh(g.tokens.refresh_token);
  assert.equal(replay.body.error, 'invalid_grant');
  assert.match(replay.body.error_description, /replayed/);
  assert.equal((await dpopXrpc(pds, fresh, 'GET', 'com.atproto.server.getSession')).status, 401, 'the whole session is revoked');
  assert.equal((await refresh(r1.body.refresh_token)).body.error, 'invalid_grant');
});

test('the authorize page refuses unknown, expired, foreign and cross-browser requests', async () => {
  const b = browserless(pds);
  let p = await b.page(`${pds.url}/oauth/authorize?client_id=${encodeURIComponent(CLIENT)}&request_uri=urn:ietf:params:oauth:request_uri:req-00000000000000000000000000000000`);
  assert.equal(p.status, 400);
  assert.match(p.html, /expired or was already used/);
  p = await b.page(`${pds.url}/oauth/authorize?client_id=${encodeURIComponent(CLIENT)}`);
  assert.equal(p.status, 400);
  assert.match(p.html, /request_uri/);
  const k = newKey();
  const par = await asPost(pds, '/oauth/par', parForm(), k);
  const url = `${pds.url}/oauth/authorize?${new URLSearchParams({ client_id: CLIENT, request_uri: par.body.request_uri })}`;
  p = await b.page(url);
  assert.equal(p.status, 200);
  assert.match(p.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  const fresh = await browserless(pds).page(`${pds.url}/account`);
  assert.match(fresh.headers.get('set-cookie'), /pds-device=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
  const other = browserless(pds);
  p = await other.page(url);
  assert.equal(p.status, 400, 'a request belongs to the browser that opened it');
  assert.match(p.html, /another browser/);
  // the first browser's request was dropped with it: its page reports it gone
  const info = await b.json(`/oauth/authorize/info?request_uri=${encodeURIComponent(par.body.request_uri)}`);
  assert.equal(info.status, 400);
  // answers need the page's CSRF token
  const par2 = await asPost(pds, '/oauth/par', parForm(), k);
  const url2 = `${pds.url}/oauth/authorize?${new URLSearchParams({ client_id: CLIENT, request_uri: par2.body.request_uri })}`;
  await b.page(url2);
  const noCsrf = await fetch(`${pds.url}/oauth/authorize/accept`, { method: 'POST', headers: { cookie: [...b.jar].map(([n, v]) => `${n}=${v}`).join('; '), 'content-type': 'application/json' }, body: JSON.stringify({ request_uri: par2.body.request_uri, did: alice.did, scope: [] }) });
  assert.equal(noCsrf.status, 403);
  assert.equal((await noCsrf.json()).error, 'InvalidCsrfToken');
  const notSignedIn = await b.json('/oauth/authorize/accept', { request_uri: par2.body.request_uri, did: alice.did, scope: ['atproto'] });
  assert.equal(notSignedIn.status, 401);
  assert.equal(notSignedIn.body.error, 'LoginRequired');
  const wrong = await b.json('/account/sign-in', { identifier: alice.handle, password: 'wrong' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.message, 'Invalid identifier or password');
  const deny = await b.json('/oauth/authorize/reject', { request_uri: par2.body.request_uri });
  const back = new URL(deny.body.redirect);
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('iss'), pds.url);
});

// ---- bad input at the resource server ----------------------------------------------------

test('resource server: DPoP proofs, nonces, foreign tokens and tokens sent as Bearer', async () => {
  const g = await rawGrant(pds, alice, 'atproto transition:generic');
  const url = `${pds.url}/xrpc/com.atproto.server.getSession`;
  const call = (headers) => fetch(url, { headers });
  const tok = g.tokens.access_token;
  const expect401 = async (res, error, why) => {
    assert.equal(res.status, 401);
    const body = await res.json();
    assert.equal(body.error, error);
    if (why) assert.match(body.message, why);
    assert.match(res.headers.get('www-authenticate'), new RegExp(`^DPoP .*error="${error}"`));
    assert.match(res.headers.get('dpop-nonce') ?? 'x'.repeat(43), /^[A-Za-z0-9_-]{43}$/);
  };
  // no nonce, or an old one: 401 + WWW-Authenticate use_dpop_nonce (RFC 9449 §9)
  await expect401(await call({ authorization: `DPoP ${tok}`, dpop: dpopProof(g.key, { htm: 'GET', htu: url, accessToken: tok }) }), 'use_dpop_nonce');
  await expect401(await call({ authorization: `DPoP ${tok}`, dpop: dpopProof(g.key, { htm: 'GET', htu: url, accessToken: tok, nonce: 'B'.repeat(43) }) }), 'use_dpop_nonce');
  const nonce = g.nonce;
  await expect401(await call({ authorization: `DPoP ${tok}` }), 'invalid_dpop_proof', /required/);
  await expect401(await call({ authorization: `DPoP ${tok}`, dpop: dpopProof(g.key, { htm: 'GET', htu: url, nonce }) }), 'invalid_dpop_proof', /ath/);
  await expect401(await call({ authorization: `DPoP ${tok}`, dpop: dpopProof(g.key, { htm: 'POST', htu: url, accessToken: tok, nonce }) }), 'invalid_dpop_proof', /htm/);
  await expect401(await call({ authorization: `DPoP ${tok}`, dpop: dpopProof(g.key, { htm: 'GET', htu: `${pds.url}/xrpc/com.atproto.server.describeServer`, accessToken: tok, nonce }) }), 'invalid_dpop_proof', /htu/);
  const other = newKey();
  await expect401(await call({ authorization: `DPoP ${tok}`, dpop: dpopProof(other, { htm: 'GET', htu: url, accessToken: tok, nonce }) }), 'invalid_token', /binding/);
  const proof = dpopProof(g.key, { htm: 'GET', htu: url, accessToken: tok, nonce });
  assert.equal((await call({ authorization: `DPoP ${tok}`, dpop: proof })).status, 200);
  await expect401(await call({ authorization: `DPoP ${tok}`, dpop: proof }), 'invalid_dpop_proof', /replayed/);
  // a DPoP-bound token sent as Bearer: 401 (the reference answers 400; RFC 9449 §7.1 says 401)
  await expect401(await call({ authorization: `Bearer ${tok}` }), 'invalid_token', /DPoP/);

  // a token of another server, and one of ours for another audience
  const claims = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url'));
  const hs = (payload, secret) => {
    const input = `${Buffer.from(JSON.stringify({ typ: 'at+jwt', alg: 'HS256' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const ourKey = crypto.createHmac('sha256', JWT_SECRET).update('pds/oauth/access-token/v1').digest();
  const sendWith = (t) => call({ authorization: `DPoP ${t}`, dpop: dpopProof(g.key, { htm: 'GET', htu: url, accessToken: t, nonce }) });
  await expect401(await sendWith(hs(claims, crypto.randomBytes(32))), 'invalid_token', /not a token of this server/);
  await expect401(await sendWith(hs({ ...claims, aud: 'did:web:other.example.com' }, ourKey)), 'invalid_token', /audience/);
  await expect401(await sendWith(hs({ ...claims, iss: 'https://other.example.com' }, ourKey)), 'invalid_token', /issuer/);
  await expect401(await sendWith(hs({ ...claims, exp: Math.floor(Date.now() / 1000) - 5 }, ourKey)), 'invalid_token', /expired/);
  await expect401(await sendWith(hs({ ...claims, jti: 'tok-0000' }, ourKey)), 'invalid_token', /revoked/);
  // a legacy session token sent with the DPoP scheme
  const legacy = (await pds.agent().com.atproto.server.createSession({ identifier: alice.did, password: alice.password })).data.accessJwt;
  await expect401(await sendWith(legacy), 'invalid_token');
});

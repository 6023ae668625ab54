// OAuth with the official client (@atproto/oauth-client-node) against the server on loopback:
// the discovery documents, a public loopback client and a confidential private_key_jwt
// client (its metadata and JWKS served by a small HTTPS site) through the whole flow, then
// @atproto/api writing a post with the session, a refresh, key rotation and revocation; and
// every bad client metadata document refused with its OAuth error, changing nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pg from 'pg';
import { Agent } from '@atproto/api';
import { JoseKey, buildAtprotoLoopbackClientMetadata } from '@atproto/oauth-client-node';
import { startPlc, startPds, createAccount } from './lib/index.mjs';
import { approve, asPost, dpopXrpc, newKey, oauthClient, pkce, rawGrant, signJwt, startClientHost } from './lib/oauth.mjs';

let plc;
let pds;
let host;
let db;
let alice;
let appview;
const appviewCalls = [];
const APPVIEW_DID = 'did:web:appview.test';

before(async () => {
  plc = await startPlc();
  host = await startClientHost();
  // a stand-in AppView that records the calls proxied to it
  appview = http.createServer((req, res) => {
    appviewCalls.push({ url: req.url, auth: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"feed":[]}');
  });
  await new Promise((r) => appview.listen(0, '127.0.0.1', r));
  pds = await startPds({
    plcUrl: plc.url,
    env: {
      PDS_OAUTH_CLIENT_CA_FILE: host.caFile,
      PDS_OAUTH_TRUSTED_CLIENTS: `${host.origin}/client-metadata.json`,
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
  await host?.stop();
  await plc?.stop();
  await new Promise((r) => (appview ? appview.close(r) : r()));
});

const count = async (table) => Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

test('discovery documents name this server, with CORS', async () => {
  const rs = await fetch(`${pds.url}/.well-known/oauth-protected-resource`);
  assert.equal(rs.status, 200);
  assert.equal(rs.headers.get('access-control-allow-origin'), '*');
  const r = await rs.json();
  assert.equal(r.resource, pds.url);
  assert.deepEqual(r.authorization_servers, [pds.url]);
  assert.deepEqual(r.bearer_methods_supported, ['header']);

  const as = await fetch(`${pds.url}/.well-known/oauth-authorization-server`);
  assert.equal(as.status, 200);
  assert.equal(as.headers.get('access-control-allow-origin'), '*');
  const m = await as.json();
  assert.equal(m.issuer, pds.url);
  for (const [k, path] of [['authorization_endpoint', '/oauth/authorize'], ['token_endpoint', '/oauth/token'],
    ['pushed_authorization_request_endpoint', '/oauth/par'], ['revocation_endpoint', '/oauth/revoke'],
    ['jwks_uri', '/oauth/jwks']]) assert.equal(m[k], `${pds.url}${path}`, k);
  assert.deepEqual(m.response_types_supported, ['code']);
  assert.deepEqual(m.grant_types_supported, ['authorization_code', 'refresh_token']);
  assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(m.token_endpoint_auth_methods_supported, ['none', 'private_key_jwt']);
  assert.deepEqual(m.token_endpoint_auth_signing_alg_values_supported, ['ES256']);
  assert.deepEqual(m.dpop_signing_alg_values_supported, ['ES256']);
  assert.ok(m.scopes_supported.includes('atproto') && m.scopes_supported.includes('transition:generic'));
  assert.equal(m.authorization_response_iss_parameter_supported, true);
  assert.equal(m.require_pushed_authorization_requests, true);
  assert.equal(m.client_id_metadata_document_supported, true);
  assert.equal(m.require_request_uri_registration, true);

  const pre = await fetch(`${pds.url}/oauth/par`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-headers': 'dpop, content-type' } });
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-headers'), /dpop/);
  assert.match(pre.headers.get('access-control-expose-headers'), /DPoP-Nonce/);
  assert.equal((await fetch(`${pds.url}/oauth/par`)).status, 405); // RFC 9126 §2.3
  assert.deepEqual(await (await fetch(`${pds.url}/oauth/jwks`)).json(), { keys: [] });
});

test('a public loopback client signs in, posts with @atproto/api, refreshes, signs out', async () => {
  const scope = 'atproto transition:generic';
  const client = oauthClient(pds, plc, {
    clientMetadata: buildAtprotoLoopbackClientMetadata({ scope, redirect_uris: ['http://127.0.0.1/callback'] }),
  });
  const url = await client.authorize(alice.handle, { scope, state: 'app-state-1' });
  assert.equal(url.origin, pds.url);
  const { params, info: page } = await approve(pds, url.href, { identifier: alice.handle, password: alice.password });
  assert.equal(params.get('iss'), pds.url);
  assert.equal(page.client.trusted, false);
  assert.equal(page.client.name, undefined, 'an untrusted client is named by its host only');
  assert.deepEqual(page.permissions.map((p) => [p.scope, p.required]), [['atproto', true], ['transition:generic', false]]);
  const { session, state } = await client.callback(params);
  assert.equal(state, 'app-state-1');
  assert.equal(session.did, alice.did);

  const info = await session.getTokenInfo(false);
  assert.equal(info.sub, alice.did);
  assert.equal(info.aud, `${pds.url}/`);
  assert.deepEqual(info.scope.split(' ').sort(), ['atproto', 'transition:generic']);
  const ttl = (info.expiresAt.getTime() - Date.now()) / 1000;
  assert.ok(ttl > 800 && ttl <= 900, `access token lives 15 minutes (${ttl} s)`);

  const agent = new Agent(session);
  const posted = await agent.post({ text: 'hello over OAuth', createdAt: new Date().toISOString() });
  assert.match(posted.uri, new RegExp(`^at://${alice.did}/app.bsky.feed.post/`));
  const read = await pds.agent().com.atproto.repo.getRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey: posted.uri.split('/').pop() });
  assert.equal(read.data.value.text, 'hello over OAuth');

  const before = (await db.query('SELECT token_id FROM oauth_session WHERE did = $1 AND client_id LIKE $2', [alice.did, 'http://localhost%'])).rows[0].token_id;
  const refreshed = await session.getTokenInfo(true);
  assert.ok(refreshed.expiresAt >= info.expiresAt);
  const afterId = (await db.query('SELECT token_id FROM oauth_session WHERE did = $1 AND client_id LIKE $2', [alice.did, 'http://localhost%'])).rows[0].token_id;
  assert.notEqual(afterId, before, 'a refresh rotates the access token');
  const again = await agent.post({ text: 'after a refresh', createdAt: new Date().toISOString() });
  assert.ok(again.cid);

  await session.signOut(); // /oauth/revoke
  assert.equal((await db.query('SELECT count(*) FROM oauth_session WHERE did = $1 AND client_id LIKE $2', [alice.did, 'http://localhost%'])).rows[0].count, '0');
});

test('a confidential client (private_key_jwt, JWKS at jwks_uri) signs in, refreshes, and loses its session when its key leaves the JWKS', async () => {
  const key = await JoseKey.generate(['ES256'], 'key-1');
  const clientId = `${host.origin}/client-metadata.json`;
  const metadata = {
    client_id: clientId,
    client_name: 'Test App',
    client_uri: host.origin,
    redirect_uris: [`${host.origin}/callback`],
    scope: 'atproto transition:generic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks_uri: `${host.origin}/jwks.json`,
    dpop_bound_access_tokens: true,
  };
  host.set('/client-metadata.json', { body: metadata, headers: { 'cache-control': 'max-age=600' } });
  host.set('/jwks.json', { body: { keys: [key.publicJwk] }, headers: { 'cache-control': 'max-age=600' } });
  const client = oauthClient(pds, plc, { clientMetadata: metadata, keyset: [key] });

  const url = await client.authorize(alice.handle, { scope: 'atproto transition:generic' });
  const { params, info } = await approve(pds, url.href, { identifier: alice.handle, password: alice.password });
  // a client listed in PDS_OAUTH_TRUSTED_CLIENTS is shown by its own name
  assert.equal(info.client.trusted, true);
  assert.equal(info.client.name, 'Test App');
  assert.equal(info.client.host, 'client.localhost');
  const hitsBefore = host.hits('/client-metadata.json');
  const { session } = await client.callback(params);
  assert.equal(host.hits('/client-metadata.json'), hitsBefore, 'the code exchange reads the cached metadata');
  const agent = new Agent(session);
  assert.ok((await agent.post({ text: 'from a confidential client', createdAt: new Date().toISOString() })).cid);
  const stored = await db.query('SELECT client_auth FROM oauth_session WHERE client_id = $1', [clientId]);
  assert.equal(stored.rows[0].client_auth.method, 'private_key_jwt');
  assert.equal(stored.rows[0].client_auth.kid, 'key-1');

  const jwksHits = host.hits('/jwks.json');
  await session.getTokenInfo(true); // a refresh re-reads the client's keys
  assert.ok(host.hits('/jwks.json') > jwksHits, 'the refresh fetched the JWKS again');
  assert.ok((await agent.post({ text: 'refreshed', createdAt: new Date().toISOString() })).cid);

  // the client rotates: key-1 leaves its JWKS; the session that began with key-1 ends
  const key2 = await JoseKey.generate(['ES256'], 'key-2');
  host.set('/jwks.json', { body: { keys: [key2.publicJwk] } });
  await assert.rejects(session.getTokenInfo(true));
  assert.equal((await db.query('SELECT count(*) FROM oauth_session WHERE client_id = $1', [clientId])).rows[0].count, '0');
});

/** A PAR for a client hosted on the test site, with our own DPoP key. */
async function parFor(clientId, extra = {}, key = newKey()) {
  const { challenge } = pkce();
  return asPost(pds, '/oauth/par', {
    client_id: clientId, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256',
    scope: 'atproto', state: 's', ...extra,
  }, key);
}

const goodDoc = (path, over = {}) => ({
  client_id: `${host.origin}${path}`,
  redirect_uris: [`${host.origin}/cb`],
  scope: 'atproto transition:generic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
  dpop_bound_access_tokens: true,
  ...over,
});

test('bad client metadata documents are refused with invalid_client_metadata, storing nothing', async () => {
  const cases = [
    ['/big.json', { body: { ...goodDoc('/big.json'), pad: 'x'.repeat(600 * 1024) } }, /too large/],
    ['/slow.json', { body: goodDoc('/slow.json'), delayMs: 4500 }, /in time/],
    ['/redirect.json', { status: 302, headers: { location: `${host.origin}/good.json` }, body: '' }, /status 302.*redirects/],
    ['/html.json', { headers: { 'content-type': 'text/html' }, body: '<html></html>' }, /application\/json/],
    ['/notfound.json', null, /status 404/],
    ['/array.json', { body: [1, 2] }, /not a JSON object/],
    ['/mismatch.json', { body: goodDoc('/mismatch.json', { client_id: `${host.origin}/other.json` }) }, /client_id does not match/],
    ['/nodpop.json', { body: goodDoc('/nodpop.json', { dpop_bound_access_tokens: false }) }, /dpop_bound_access_tokens/],
    ['/noatproto.json', { body: goodDoc('/noatproto.json', { scope: 'transition:generic' }) }, /atproto/],
    ['/implicit.json', { body: goodDoc('/implicit.json', { grant_types: ['implicit'] }) }, /implicit/],
    ['/secret.json', { body: goodDoc('/secret.json', { token_endpoint_auth_method: 'client_secret_basic' }) }, /authentication method/],
    ['/httpredirect.json', { body: goodDoc('/httpredirect.json', { redirect_uris: ['http://app.example.com/cb'] }) }, /loopback redirect URIs are allowed to use the "http"/i],
    ['/localhostredirect.json', { body: goodDoc('/localhostredirect.json', { application_type: 'native', redirect_uris: ['http://localhost/cb'] }) }, /use explicit IPs/],
    ['/webloopback.json', { body: goodDoc('/webloopback.json', { redirect_uris: ['http://127.0.0.1/cb'] }) }, /only allowed for native/],
    ['/scheme.json', { body: goodDoc('/scheme.json', { application_type: 'native', redirect_uris: ['com.other.app:/cb'] }) }, /reverse order/],
    ['/nativejwt.json', { body: goodDoc('/nativejwt.json', { application_type: 'native', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [newKey().jwk] } }) }, /Native clients/],
    ['/bothjwks.json', { body: goodDoc('/bothjwks.json', { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [newKey().jwk] }, jwks_uri: `${host.origin}/j` }) }, /mutually exclusive/],
    ['/clienturi.json', { body: goodDoc('/clienturi.json', { client_uri: 'https://elsewhere.example.com/' }) }, /same origin/],
  ];
  for (const [path, route, why] of cases) if (route) host.set(path, route);
  const before = await count('oauth_request');
  for (const [path, , why] of cases) {
    const r = await parFor(`${host.origin}${path}`);
    assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'invalid_client_metadata', path);
    assert.match(r.body.error_description, why, path);
  }
  assert.equal(await count('oauth_request'), before, 'no request was stored');
  assert.equal((await db.query("SELECT count(*) FROM oauth_client_cache WHERE url LIKE '%big.json' OR url LIKE '%mismatch.json'")).rows[0].count, '0', 'bad documents are not cached');
});

test('requests the metadata does not allow are refused: redirect_uri, scope, client_id form', async () => {
  host.set('/good.json', { body: goodDoc('/good.json'), headers: { 'cache-control': 'no-store' } });
  const id = `${host.origin}/good.json`;
  const before = await count('oauth_request');
  let r = await parFor(id, { redirect_uri: `${host.origin}/elsewhere` });
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'invalid_request');
  assert.match(r.body.error_description, /Invalid redirect_uri/);
  r = await parFor(id, { scope: 'atproto transition:chat.bsky' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'invalid_scope');
  assert.match(r.body.error_description, /transition:chat.bsky.*not declared/);
  r = await parFor(id, { scope: 'transition:generic' });
  assert.equal(r.body.error, 'invalid_scope');
  for (const bad of ['https://127.0.0.1/x.json', `${host.origin}/`, `${host.origin}/a/`, `${host.origin}/x.json#f`, 'ftp://client.localhost/x', 'http://localhost:3000', 'http://localhost/path']) {
    r = await parFor(bad);
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.error, 'invalid_client_metadata', bad);
  }
  assert.equal(await count('oauth_request'), before);
  // no-store: fetched every time
  const hits = host.hits('/good.json');
  assert.equal((await parFor(id)).status, 201);
  assert.equal((await parFor(id)).status, 201);
  assert.equal(host.hits('/good.json'), hits + 2, 'Cache-Control: no-store is obeyed');
  host.set('/cached.json', { body: goodDoc('/cached.json'), headers: { 'cache-control': 'max-age=300' } });
  assert.equal((await parFor(`${host.origin}/cached.json`)).status, 201);
  assert.equal((await parFor(`${host.origin}/cached.json`)).status, 201);
  assert.equal(host.hits('/cached.json'), 1, 'max-age is obeyed');
});

test('private_key_jwt: assertions are checked and single-use', async () => {
  const ckey = newKey();
  const path = '/confidential.json';
  const id = `${host.origin}${path}`;
  host.set(path, { body: goodDoc(path, { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [{ ...ckey.jwk, kid: 'k1' }] } }) });
  const now = Math.floor(Date.now() / 1000);
  const assertion = (over = {}, header = {}) => signJwt({ alg: 'ES256', kid: 'k1', ...header },
    { iss: id, sub: id, aud: pds.url, iat: now, jti: `j-${Math.random()}`, ...over }, ckey.privateKey);
  const form = (a) => ({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });
  let r = await parFor(id);
  assert.equal(r.body.error, 'invalid_request');
  assert.match(r.body.error_description, /client_assertion/);
  const once = assertion();
  r = await parFor(id, form(once));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await parFor(id, form(once));
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'invalid_grant');
  assert.match(r.body.error_description, /jti reused/);
  for (const [a, why] of [
    [assertion({ aud: 'https://other.example.com' }), /aud/],
    [assertion({ iss: 'https://evil.example.com/x.json' }), /iss/],
    [assertion({ iat: now - 600 }), /iat/],
    [assertion({}, { kid: 'nope' }), /kid/],
    [signJwt({ alg: 'ES256', kid: 'k1' }, { iss: id, sub: id, aud: pds.url, iat: now, jti: 'x' }, newKey().privateKey), /signature/],
    [assertion({ jti: undefined }), /jti/],
  ]) {
    r = await parFor(id, form(a));
    assert.equal(r.status, 400, why.source);
    assert.equal(r.body.error, 'invalid_client', why.source);
    assert.match(r.body.error_description, why);
  }
  r = await parFor(id, { ...form(assertion()), client_assertion_type: 'urn:x' });
  assert.equal(r.body.error, 'invalid_client');
  // the DPoP key must not be the client's own key
  r = await parFor(id, form(assertion()), { ...ckey });
  assert.equal(r.body.error, 'invalid_request');
  assert.match(r.body.error_description, /different key/);
});

test('an rpc: scope lets exactly its method through the proxy to its service', async () => {
  const aud = `${APPVIEW_DID}#bsky_appview`;
  const g = await rawGrant(pds, alice, `atproto rpc:app.bsky.feed.getTimeline?aud=${encodeURIComponent(aud)}`);
  const ok = await dpopXrpc(pds, g, 'GET', 'app.bsky.feed.getTimeline');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body, { feed: [] });
  assert.equal(appviewCalls.length, 1);
  assert.match(appviewCalls[0].url, /^\/xrpc\/app.bsky.feed.getTimeline/);
  assert.match(appviewCalls[0].auth, /^Bearer /, 'forwarded with a service-auth token, not the OAuth one');
  const no = await dpopXrpc(pds, g, 'GET', 'app.bsky.feed.getAuthorFeed', { params: { actor: alice.did } });
  assert.equal(no.status, 403);
  assert.equal(no.body.error, 'ScopeMissingError');
  assert.equal(appviewCalls.length, 1, 'the refused call never reached the AppView');
});

// Lexicon resolution for OAuth permission sets, and com.atproto.lexicon.resolveLexicon: a
// permission set published as a com.atproto.lexicon.schema record in an account on this
// server, its authority proven by DNS TXT `_lexicon.<authority>` (dnsmasq on loopback) or
// given by PDS_LEXICON_AUTHORITY_DID; proofs that do not verify are refused; an updated set
// is seen once the cache entry is stale (PDS_LEXICON_CACHE_TTL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startPlc, startPds, createAccount, sleep } from './lib/index.mjs';
import { startDns } from './lib/dns.mjs';
import { asPost, browserless, dpopXrpc, newKey, pkce, rawGrant } from './lib/oauth.mjs';

const NSID = 'app.example.authFull';
let plc;
let dns;
let pds;
let pdsOverride;
let author;
let fake;

function schema(title, extra = []) {
  return {
    $type: 'com.atproto.lexicon.schema',
    lexicon: 1,
    id: NSID,
    defs: {
      main: {
        type: 'permission-set',
        title,
        'title:lang': { fr: 'Accès complet' },
        permissions: [
          { type: 'permission', resource: 'repo', collection: ['app.example.post'] },
          { type: 'permission', resource: 'rpc', inheritAud: true, lxm: ['app.example.getFeed'] },
          ...extra,
        ],
      },
    },
  };
}

async function resolve(server, nsid) {
  const r = await fetch(`${server.url}/xrpc/com.atproto.lexicon.resolveLexicon?nsid=${encodeURIComponent(nsid)}`);
  return { status: r.status, body: await r.json() };
}

before(async () => {
  plc = await startPlc();
  dns = await startDns();
  pds = await startPds({ plcUrl: plc.url, env: { PDS_HANDLE_DNS_SERVER: dns.server, PDS_LEXICON_CACHE_TTL: '1000' } });
  author = await createAccount(pds);
  await dns.setRecords({ '_lexicon.example.app': `did=${author.did}` });
});
after(async () => {
  await pdsOverride?.stop();
  await pds?.stop();
  await new Promise((r) => (fake ? fake.close(r) : r()));
  await dns?.stop();
  await plc?.stop();
});

test('a permission set published in an account resolves through DNS, with its record CID', async () => {
  const created = await author.agent.com.atproto.repo.createRecord({
    repo: author.did, collection: 'com.atproto.lexicon.schema', rkey: NSID, record: schema('Full access'),
  });
  const { status, body } = await resolve(pds, NSID);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.uri, `at://${author.did}/com.atproto.lexicon.schema/${NSID}`);
  assert.equal(body.cid, created.data.cid);
  assert.equal(body.schema.id, NSID);
  assert.equal(body.schema.defs.main.title, 'Full access');
});

test('an update is seen once the cached copy is stale', async () => {
  const put = await author.agent.com.atproto.repo.putRecord({
    repo: author.did, collection: 'com.atproto.lexicon.schema', rkey: NSID, record: schema('Everything'),
  });
  await sleep(1200);
  const { body } = await resolve(pds, NSID);
  assert.equal(body.cid, put.data.cid);
  assert.equal(body.schema.defs.main.title, 'Everything');
});

test('unknown, unpublished and malformed NSIDs are refused', async () => {
  let r = await resolve(pds, 'app.example.nothingHere'); // authority known, no record
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'LexiconNotFound');
  r = await resolve(pds, 'org.nowhere.thing'); // no _lexicon TXT record
  assert.equal(r.body.error, 'LexiconNotFound');
  r = await resolve(pds, 'not an nsid');
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'InvalidRequest');
  const missing = await fetch(`${pds.url}/xrpc/com.atproto.lexicon.resolveLexicon`);
  assert.equal(missing.status, 400);
});

test('a record whose id is another NSID is not that Lexicon', async () => {
  await author.agent.com.atproto.repo.createRecord({
    repo: author.did, collection: 'com.atproto.lexicon.schema', rkey: 'app.example.impostor',
    record: { ...schema('Impostor'), id: NSID },
  });
  const r = await resolve(pds, 'app.example.impostor');
  assert.equal(r.body.error, 'LexiconNotFound');
  assert.match(r.body.message, /id does not match/);
});

test('PDS_LEXICON_AUTHORITY_DID resolves every NSID through one DID, without DNS', async () => {
  pdsOverride = await startPds({ plcUrl: plc.url, env: { PDS_LEXICON_AUTHORITY_DID: author.did } });
  const r = await resolve(pdsOverride, NSID);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.schema.defs.main.title, 'Everything');
});

test('a proof that the authority did not sign is refused', async () => {
  // A did:web on loopback whose PDS answers with the real proof of another account's record:
  // the commit inside is by that account, not by the DID that the DNS record names.
  const proof = Buffer.from(await (await fetch(
    `${pds.url}/xrpc/com.atproto.sync.getRecord?did=${author.did}&collection=com.atproto.lexicon.schema&rkey=${NSID}`,
  )).arrayBuffer());
  fake = http.createServer((req, res) => {
    const port = fake.address().port;
    const did = `did:web:localhost%3A${port}`;
    if (req.url === '/.well-known/did.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        '@context': ['https://www.w3.org/ns/did/v1'],
        id: did,
        verificationMethod: [{
          id: `${did}#atproto`, type: 'Multikey', controller: did,
          publicKeyMultibase: 'zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme',
        }],
        service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: `http://localhost:${port}` }],
      }));
    } else if (req.url.startsWith('/xrpc/com.atproto.sync.getRecord')) {
      res.setHeader('content-type', 'application/vnd.ipld.car');
      res.end(proof);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  await dns.setRecords({
    '_lexicon.example.app': `did=${author.did}`,
    '_lexicon.forged.example': `did=did:web:localhost%3A${fake.address().port}`,
  });
  const r = await resolve(pds, 'example.forged.authFull');
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'LexiconNotFound');
  assert.match(r.body.message, /not signed by its DID/);
});

test('an OAuth client that includes the set gets its scopes (foreign entries dropped); a refresh sees an update', async () => {
  const AUD = 'did:web:api.example.com#svc_appview';
  const extra = [{ type: 'permission', resource: 'repo', collection: ['app.other.post'] }]; // outside the authority
  await author.agent.com.atproto.repo.putRecord({
    repo: author.did, collection: 'com.atproto.lexicon.schema', rkey: NSID, record: schema('Full access', extra),
  });
  await sleep(1200); // past PDS_LEXICON_CACHE_TTL
  const user = await createAccount(pds);
  const scope = `atproto include:${NSID}?aud=${encodeURIComponent(AUD)}`;

  // the consent page names the set in the user's language
  const key = newKey();
  const redirectUri = 'http://127.0.0.1/cb';
  const clientId = `http://localhost?${new URLSearchParams({ scope, redirect_uri: redirectUri })}`;
  const { challenge } = pkce();
  const par = await asPost(pds, '/oauth/par', {
    client_id: clientId, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256',
    redirect_uri: redirectUri, scope, state: 'st',
  }, key);
  assert.equal(par.status, 201, JSON.stringify(par.body));
  const b = browserless(pds);
  await b.page(`${pds.url}/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: par.body.request_uri })}`);
  const info = await fetch(`${pds.url}/oauth/authorize/info?request_uri=${encodeURIComponent(par.body.request_uri)}`, {
    headers: { cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; '), 'accept-language': 'fr-FR,fr;q=0.9', 'x-csrf-token': b.csrf, origin: pds.url },
  }).then((r) => r.json());
  const set = info.permissions.find((p) => p.scope.startsWith('include:'));
  assert.equal(set?.title, 'Accès complet', JSON.stringify(info.permissions));

  const grant = await rawGrant(pds, user, scope);
  const granted = grant.tokens.scope.split(' ');
  assert.ok(granted.includes('atproto'));
  assert.ok(granted.includes('repo:app.example.post'), grant.tokens.scope);
  assert.ok(granted.includes(`rpc:app.example.getFeed?aud=${AUD.replace('#', '%23')}`), grant.tokens.scope);
  assert.ok(!granted.some((g) => g.includes('app.other')), grant.tokens.scope);
  assert.ok(!granted.some((g) => g.startsWith('include:')), grant.tokens.scope);

  const write = (collection) => dpopXrpc(pds, grant, 'POST', 'com.atproto.repo.createRecord', {
    body: { repo: user.did, collection, record: { $type: collection, text: 'hi', createdAt: new Date().toISOString() } },
  });
  assert.equal((await write('app.example.post')).status, 200);
  const refused = await write('app.other.post');
  assert.equal(refused.status, 403);
  assert.equal((await write('app.example.like')).status, 403);

  // the developer adds a collection to the set: the next refresh carries it, no new consent
  await author.agent.com.atproto.repo.putRecord({
    repo: author.did, collection: 'com.atproto.lexicon.schema', rkey: NSID,
    record: schema('Full access', [...extra, { type: 'permission', resource: 'repo', collection: ['app.example.like'] }]),
  });
  await sleep(1200);
  const refreshed = await asPost(pds, '/oauth/token', {
    grant_type: 'refresh_token', client_id: grant.clientId, refresh_token: grant.tokens.refresh_token,
  }, grant.key, { nonce: grant.nonce });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  assert.ok(refreshed.body.scope.split(' ').includes('repo:app.example.like'), refreshed.body.scope);
  grant.tokens = refreshed.body;
  if (refreshed.nonce) grant.nonce = refreshed.nonce;
  assert.equal((await write('app.example.like')).status, 200);
});

test('a client that includes a set that does not resolve is refused at PAR with invalid_scope', async () => {
  const scope = 'atproto include:app.example.missingSet';
  const redirectUri = 'http://127.0.0.1/cb';
  const clientId = `http://localhost?${new URLSearchParams({ scope, redirect_uri: redirectUri })}`;
  const { challenge } = pkce();
  const par = await asPost(pds, '/oauth/par', {
    client_id: clientId, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256',
    redirect_uri: redirectUri, scope, state: 'st',
  }, newKey());
  assert.equal(par.status, 400);
  assert.equal(par.body.error, 'invalid_scope');
  assert.match(par.body.error_description, /app\.example\.missingSet/);
});

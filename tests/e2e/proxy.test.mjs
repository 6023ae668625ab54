// Proxying and service auth end to end. A small upstream started here plays the AppView and
// other services: it publishes its own did:web document (services #bsky_appview, #alt_svc,
// #bsky_chat) and, for every XRPC call, verifies the service JWT it receives with
// @atproto/crypto against the caller's #atproto did:key from the PLC directory, checks iss,
// aud (the bare service DID), lxm and exp, and echoes what it got. Covered: default AppView
// routing, the atproto-proxy header and its errors, forwarded request and response headers,
// POST bodies, a large streamed response, upstream errors, timeouts, "no service
// configured", PROTECTED/PRIVILEGED refusals, SSRF protection, and getServiceAuth.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, test } from 'node:test';
import { verifySignature } from '@atproto/crypto';
import { createAccount, freePort, login, startPds, useTestEnv } from './lib/index.mjs';

const BIG_BYTES = 24 << 20; // streamed through the proxy: more than its default response cap
const port = await freePort();
const svcDid = `did:web:localhost%3A${port}`;
const svcUrl = `http://localhost:${port}`;
const upstreamSeen = [];
let plcUrl = null;

function b64urlJson(s) {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}

/** Verifies a service JWT as a receiving service would; returns its claims or throws. */
async function verifyServiceJwt(token, nsid) {
  const [h, p, s] = token.split('.');
  const header = b64urlJson(h);
  const claims = b64urlJson(p);
  if (header.alg !== 'ES256K' || header.typ !== 'JWT') throw new Error(`bad header ${JSON.stringify(header)}`);
  if (claims.aud !== svcDid) throw new Error(`bad aud ${claims.aud}`);
  if (claims.lxm !== nsid) throw new Error(`bad lxm ${claims.lxm}`);
  if (!(claims.exp > Date.now() / 1000)) throw new Error('expired');
  const data = await (await fetch(`${plcUrl}/${claims.iss}/data`)).json();
  const key = data.verificationMethods.atproto;
  const ok = await verifySignature(key, Buffer.from(`${h}.${p}`), Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('bad signature');
  return claims;
}

const upstream = http.createServer(async (req, res) => {
  const url = new URL(req.url, svcUrl);
  if (url.pathname === '/.well-known/did.json') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: svcDid,
      service: [
        { id: '#bsky_appview', type: 'BskyAppView', serviceEndpoint: svcUrl },
        { id: '#alt_svc', type: 'Other', serviceEndpoint: `${svcUrl}/alt` },
        { id: '#bsky_chat', type: 'BskyChatService', serviceEndpoint: svcUrl },
      ],
    }));
    return;
  }
  const nsid = url.pathname.replace(/^(\/alt)?\/xrpc\//, '');
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  let claims;
  try {
    claims = await verifyServiceJwt((req.headers.authorization || '').replace(/^Bearer /, ''), nsid);
  } catch (err) {
    res.statusCode = 401;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error: 'BadJwt', message: err.message }));
    return;
  }
  upstreamSeen.push({ nsid, claims });
  if (nsid === 'app.bsky.test.slow') return; // never answers: the proxy times out
  if (nsid === 'app.bsky.test.error') {
    res.writeHead(400, { 'content-type': 'application/json', 'atproto-repo-rev': '3kerrrev' });
    res.end(JSON.stringify({ error: 'SomethingSpecific', message: 'upstream says no' }));
    return;
  }
  if (nsid === 'app.bsky.test.crash') {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'InternalServerError', message: 'upstream broke' }));
    return;
  }
  if (nsid === 'app.bsky.test.big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked, no length
    const block = Buffer.alloc(1 << 16);
    for (let sent = 0; sent < BIG_BYTES; sent += block.length) {
      block.fill(sent / block.length & 0xff);
      if (!res.write(block)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'atproto-repo-rev': '3kupstreamrev',
    'atproto-content-labelers': 'did:plc:labeler',
    'x-not-forwarded': 'secret',
  });
  res.end(JSON.stringify({
    feed: [], // lets the official client's output validation of getTimeline pass
    nsid,
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: {
      'accept-language': req.headers['accept-language'],
      'atproto-accept-labelers': req.headers['atproto-accept-labelers'],
      'x-bsky-topics': req.headers['x-bsky-topics'],
      'content-type': req.headers['content-type'],
      cookie: req.headers.cookie,
    },
    bodyLength: body.length,
    bodySha256: crypto.createHash('sha256').update(body).digest('hex'),
    claims,
  }));
});
await new Promise((r) => upstream.listen(port, '127.0.0.1', r));
after(() => upstream.close());

const env = useTestEnv({
  pds: {
    env: {
      PDS_BSKY_APP_VIEW_URL: svcUrl,
      PDS_BSKY_APP_VIEW_DID: svcDid,
      PDS_PROXY_HEADERS_TIMEOUT: '1500',
      PDS_PROXY_MAX_RESPONSE_SIZE: String(64 << 20),
    },
  },
});

async function call(agent, nsid, { method = 'GET', query = '', headers = {}, body } = {}) {
  const h = { ...headers };
  if (agent) h.authorization = `Bearer ${agent.session.accessJwt}`;
  const res = await fetch(`${env.pds.url}/xrpc/${nsid}${query}`, { method, headers: h, body });
  const text = Buffer.from(await res.arrayBuffer());
  let json = null;
  try {
    json = JSON.parse(text.toString('utf8'));
  } catch {}
  return { status: res.status, headers: res.headers, json, bytes: text };
}

test('app.bsky calls go to the AppView with a verified service JWT and the reference headers', async () => {
  plcUrl = env.plc.url;
  const { agent, did } = await createAccount(env.pds);
  const r = await call(agent, 'app.bsky.feed.getTimeline', {
    query: '?limit=5&cursor=a%20b%2Bc',
    headers: {
      'accept-language': 'fr, en;q=0.5',
      'atproto-accept-labelers': 'did:plc:labeler;redact',
      'x-bsky-topics': 'cats',
      cookie: 'not=forwarded',
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.nsid, 'app.bsky.feed.getTimeline');
  assert.deepEqual(r.json.query, { limit: '5', cursor: 'a b+c' });
  assert.equal(r.json.claims.iss, did);
  assert.equal(r.json.claims.aud, svcDid);
  assert.equal(r.json.claims.lxm, 'app.bsky.feed.getTimeline');
  assert.ok(r.json.claims.exp - r.json.claims.iat <= 60);
  assert.match(r.json.claims.jti, /^[0-9a-f]{32}$/);
  assert.equal(r.json.headers['accept-language'], 'fr, en;q=0.5');
  assert.equal(r.json.headers['atproto-accept-labelers'], 'did:plc:labeler;redact');
  assert.equal(r.json.headers['x-bsky-topics'], 'cats');
  assert.equal(r.json.headers.cookie, undefined);
  assert.equal(r.headers.get('atproto-repo-rev'), '3kupstreamrev');
  assert.equal(r.headers.get('atproto-content-labelers'), 'did:plc:labeler');
  assert.equal(r.headers.get('x-not-forwarded'), null);
  assert.match(r.headers.get('content-type'), /^application\/json/);

  // the official client, through the same path
  const tl = await agent.app.bsky.feed.getTimeline({ limit: 3 });
  assert.equal(tl.data.nsid, 'app.bsky.feed.getTimeline');
});

test('an atproto-proxy header picks the service from the DID document', async () => {
  const { agent } = await createAccount(env.pds);
  const r = await call(agent, 'com.example.custom.method', { headers: { 'atproto-proxy': `${svcDid}#alt_svc` } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.path, '/alt/xrpc/com.example.custom.method');
  assert.equal(r.json.claims.aud, svcDid, 'aud is the bare DID');

  const bad = [
    ['did:web:example.com', 'no service id specified in proxy header'],
    ['did:web:example.com#', 'no service id specified in proxy header'],
    ['#svc', 'no did specified in proxy header'],
    ['did:web:a#b#c', 'invalid proxy header format'],
    ['did:web:localhost%3A1#x', 'could not resolve proxy did'],
    [`${svcDid}#nope`, 'could not resolve proxy did service url'],
  ];
  for (const [value, message] of bad) {
    const e = await call(agent, 'app.bsky.feed.getTimeline', { headers: { 'atproto-proxy': value } });
    assert.equal(e.status, 400, value);
    assert.equal(e.json.message, message, value);
  }
  const space = await call(agent, 'app.bsky.feed.getTimeline', { headers: { 'atproto-proxy': 'did:web:a b#c' } });
  assert.equal(space.json.message, 'proxy header cannot contain spaces');
});

test('POST bodies are forwarded whole, and a large response streams through', async () => {
  const { agent } = await createAccount(env.pds);
  const body = crypto.randomBytes(300 * 1024); // past the in-memory spool: goes through a file
  const r = await call(agent, 'app.bsky.test.echoPost', {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body,
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.method, 'POST');
  assert.equal(r.json.bodyLength, body.length);
  assert.equal(r.json.bodySha256, crypto.createHash('sha256').update(body).digest('hex'));
  assert.equal(r.json.headers['content-type'], 'application/octet-stream');

  const big = await call(agent, 'app.bsky.test.big');
  assert.equal(big.status, 200);
  assert.equal(big.bytes.length, BIG_BYTES);
  for (let i = 0; i < BIG_BYTES; i += 1 << 16) assert.equal(big.bytes[i], (i >> 16) & 0xff);
});

test('upstream errors pass through (500 becomes 502); a silent upstream times out (504)', async () => {
  const { agent } = await createAccount(env.pds);
  const e = await call(agent, 'app.bsky.test.error');
  assert.equal(e.status, 400);
  assert.deepEqual(e.json, { error: 'SomethingSpecific', message: 'upstream says no' });
  assert.equal(e.headers.get('atproto-repo-rev'), '3kerrrev');
  const c = await call(agent, 'app.bsky.test.crash');
  assert.equal(c.status, 502);
  assert.equal(c.json.error, 'InternalServerError');
  const started = Date.now();
  const t = await call(agent, 'app.bsky.test.slow');
  assert.equal(t.status, 504);
  assert.equal(t.json.error, 'UpstreamTimeout');
  assert.ok(Date.now() - started < 10000);
});

test('refusals: no service, no auth, unknown namespaces, protected and privileged methods', async () => {
  const account = await createAccount(env.pds);
  const { agent } = account;
  let r = await call(agent, 'com.atproto.moderation.createReport', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.message, 'No service configured for com.atproto.moderation.createReport');
  r = await call(agent, 'chat.bsky.convo.listConvos');
  assert.equal(r.json.message, 'No service configured for chat.bsky.convo.listConvos');
  r = await call(null, 'app.bsky.feed.getTimeline');
  assert.equal(r.status, 401);
  r = await call(agent, 'com.example.e2e.doesNotExist');
  assert.equal(r.status, 501);
  assert.equal(r.json.error, 'MethodNotImplemented');
  r = await call(agent, 'com.atproto.server.GETSESSION', { headers: { 'atproto-proxy': `${svcDid}#alt_svc` } });
  assert.equal(r.status, 400, 'PROTECTED methods (case-insensitively) are never proxied');
  assert.deepEqual(r.json, { error: 'InvalidToken', message: 'Bad token method' });

  const chat = { headers: { 'atproto-proxy': `${svcDid}#bsky_chat` } };
  r = await call(agent, 'chat.bsky.convo.listConvos', chat);
  assert.equal(r.status, 200, 'a full session may use chat');
  const appAgent = await login(env.pds, account.handle,
    (await agent.com.atproto.server.createAppPassword({ name: 'plain' })).data.password);
  r = await call(appAgent, 'chat.bsky.convo.listConvos', chat);
  assert.equal(r.status, 400, 'PRIVILEGED methods need a privileged session');
  assert.equal(r.json.error, 'InvalidToken');
  const privAgent = await login(env.pds, account.handle,
    (await agent.com.atproto.server.createAppPassword({ name: 'priv', privileged: true })).data.password);
  r = await call(privAgent, 'chat.bsky.convo.listConvos', chat);
  assert.equal(r.status, 200);
});

test('getServiceAuth mints verifiable tokens and makes the reference refusals', async () => {
  const account = await createAccount(env.pds);
  const { agent, did } = account;
  const lxm = 'app.bsky.test.thing';
  const res = await agent.com.atproto.server.getServiceAuth({ aud: svcDid, lxm });
  const claims = await verifyServiceJwt(res.data.token, lxm);
  assert.equal(claims.iss, did);
  assert.equal(claims.exp - claims.iat, 60);

  const now = Math.floor(Date.now() / 1000);
  const long = await agent.com.atproto.server.getServiceAuth({ aud: `${svcDid}#bsky_appview`, lxm, exp: now + 1800 });
  assert.equal(b64urlJson(long.data.token.split('.')[1]).exp, now + 1800);
  assert.equal(b64urlJson(long.data.token.split('.')[1]).aud, `${svcDid}#bsky_appview`);

  const refusals = [
    [{ aud: svcDid, exp: now - 10 }, 'BadExpiration', /in past/],
    [{ aud: svcDid, lxm, exp: now + 7200 }, 'BadExpiration', /more than an hour/],
    [{ aud: svcDid, exp: now + 300 }, 'BadExpiration', /method-less token/],
    [{ aud: svcDid, lxm: 'com.atproto.server.getSession' }, 'InvalidRequest', /protected method/],
    [{ aud: 'not-a-did' }, 'InvalidRequest', /aud must be a valid/],
  ];
  for (const [params, error, message] of refusals) {
    const q = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const r = await call(agent, 'com.atproto.server.getServiceAuth', { query: `?${q}` });
    assert.equal(r.status, 400, JSON.stringify(params));
    assert.equal(r.json.error, error, JSON.stringify(params));
    assert.match(r.json.message, message);
  }
  const appAgent = await login(env.pds, account.handle,
    (await agent.com.atproto.server.createAppPassword({ name: 'svc' })).data.password);
  const r = await call(appAgent, 'com.atproto.server.getServiceAuth', {
    query: `?aud=${encodeURIComponent(svcDid)}&lxm=com.atproto.server.createAccount`,
  });
  assert.equal(r.status, 400);
  assert.match(r.json.message, /insufficient access/);
  const ok = await call(appAgent, 'com.atproto.server.getServiceAuth', { query: `?aud=${encodeURIComponent(svcDid)}&lxm=${lxm}` });
  assert.equal(ok.status, 200);
});

test('with SSRF protection on, private and plain-http upstreams are refused', async () => {
  const pds2 = await startPds({
    plcUrl: env.plc.url,
    env: {
      PDS_BSKY_APP_VIEW_URL: svcUrl,
      PDS_BSKY_APP_VIEW_DID: svcDid,
      PDS_DISABLE_SSRF_PROTECTION: 'false',
    },
  });
  try {
    const { agent } = await createAccount(pds2);
    const res = await fetch(`${pds2.url}/xrpc/app.bsky.feed.getTimeline`, {
      headers: { authorization: `Bearer ${agent.session.accessJwt}` },
    });
    assert.equal(res.status, 502);
    assert.equal((await res.json()).error, 'UpstreamFailure');
    assert.equal(upstreamSeen.filter((s) => s.claims.aud === svcDid && s.nsid === 'app.bsky.feed.getTimeline').length, 2,
      'only the two calls of the first test reached the upstream');
  } finally {
    await pds2.stop();
  }
});

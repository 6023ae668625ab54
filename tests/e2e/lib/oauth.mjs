// OAuth helpers for the end-to-end tests: our own DPoP proofs and PKCE (node:crypto, for
// the raw requests the bad-input and scope tests make), a browser-less walk through the
// authorize page's JSON endpoints (the same calls its script makes, with its cookie and CSRF
// token), and a NodeOAuthClient (@atproto/oauth-client-node) pointed at our server.
import crypto from 'node:crypto';
import { NodeOAuthClient } from '@atproto/oauth-client-node';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A fresh P-256 key: { privateKey, jwk (public), jkt }. */
export function newKey() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const jwk = { kty, crv, x, y };
  const jkt = b64url(crypto.createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest());
  return { privateKey, jwk, jkt };
}

/** A compact ES256 JWT. */
export function signJwt(header, claims, privateKey) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

/** A DPoP proof; override any claim (or drop it with undefined) through `claims`. */
export function dpopProof(key, { htm, htu, nonce, accessToken, claims = {}, header = {} }) {
  const c = {
    jti: crypto.randomUUID(),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ...(nonce ? { nonce } : {}),
    ...(accessToken ? { ath: b64url(crypto.createHash('sha256').update(accessToken).digest()) } : {}),
    ...claims,
  };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return signJwt({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...header }, c, key.privateKey);
}

export function pkce() {
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

/**
 * POSTs a form to an authorization-server endpoint with a DPoP proof, fetching a nonce
 * first when none is known (the use_dpop_nonce round trip). Returns { status, body, headers,
 * nonce } (the answer's DPoP-Nonce). opts.proof(nonce) may replace the proof.
 */
export async function asPost(pds, path, form, key, { nonce, proof } = {}) {
  const url = `${pds.url}${path}`;
  const fields = (Array.isArray(form) ? form : Object.entries(form)).filter(([, v]) => v !== undefined);
  const send = async (n) => {
    const dpop = proof ? proof(n) : key ? dpopProof(key, { htm: 'POST', htu: url, nonce: n }) : undefined;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(dpop ? { dpop } : {}) },
      body: new URLSearchParams(fields).toString(),
    });
    const text = await res.text();
    let body = null;
    try { body = JSON.parse(text); } catch { body = text; }
    return { status: res.status, body, headers: res.headers, nonce: res.headers.get('dpop-nonce') };
  };
  let r = await send(nonce);
  if (r.status === 400 && r.body?.error === 'use_dpop_nonce' && r.nonce && !nonce) r = await send(r.nonce);
  return r;
}

/** A cookie jar over fetch, as a browser keeps one for our origin. */
export function browserless(pds) {
  const jar = new Map();
  let csrf = null;
  const store = (res) => {
    for (const c of res.headers.getSetCookie?.() ?? []) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (/Max-Age=0/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  return {
    jar,
    get csrf() { return csrf; },
    async page(url) {
      const res = await fetch(url, { headers: { cookie: cookie() }, redirect: 'manual' });
      store(res);
      const html = await res.text();
      const m = html.match(/<meta name="csrf-token" content="([^"]+)"/);
      if (m) csrf = m[1];
      return { status: res.status, html, headers: res.headers };
    },
    async json(path, body, { method } = {}) {
      const res = await fetch(`${pds.url}${path}`, {
        method: method || (body === undefined ? 'GET' : 'POST'),
        headers: {
          cookie: cookie(),
          'x-csrf-token': csrf ?? '',
          origin: pds.url,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      store(res);
      const text = await res.text();
      let data = null;
      try { data = JSON.parse(text); } catch { data = text; }
      return { status: res.status, body: data, headers: res.headers };
    },
  };
}

/**
 * Walks the authorize page for authorizeUrl as a user would: opens it, signs in (identifier,
 * password, and code when given), keeps the scopes `keep` (default: all requested), allows.
 * Returns { redirect (URL), params (its query or fragment), info, browser }.
 */
export async function approve(pds, authorizeUrl, { identifier, password, code, keep, browser } = {}) {
  const b = browser ?? browserless(pds);
  const page = await b.page(authorizeUrl);
  if (page.status !== 200) throw new Error(`authorize page: ${page.status} ${page.html.slice(0, 300)}`);
  const requestUri = new URL(authorizeUrl).searchParams.get('request_uri');
  const info = await b.json(`/oauth/authorize/info?request_uri=${encodeURIComponent(requestUri)}`);
  if (info.status !== 200) throw new Error(`authorize info: ${info.status} ${JSON.stringify(info.body)}`);
  let did = info.body.accounts.find((a) => !a.loginRequired && (a.handle === identifier || a.did === identifier))?.did;
  if (!did) {
    const s = await b.json('/account/sign-in', { identifier, password, ...(code ? { code } : {}) });
    if (s.status !== 200) throw Object.assign(new Error(`sign-in: ${s.status} ${JSON.stringify(s.body)}`), { res: s });
    did = s.body.did;
  }
  const scope = keep ?? info.body.permissions.map((p) => p.scope);
  const acc = await b.json('/oauth/authorize/accept', { request_uri: requestUri, did, scope });
  if (acc.status !== 200) throw Object.assign(new Error(`accept: ${acc.status} ${JSON.stringify(acc.body)}`), { res: acc });
  const redirect = new URL(acc.body.redirect);
  const params = new URLSearchParams(redirect.search || redirect.hash.slice(1));
  return { redirect, params, info: info.body, browser: b };
}

/**
 * The whole flow without a client library, for a loopback client with this scope: PAR, the
 * authorize page, the code exchange. Returns { key, tokens (the token answer), nonce }.
 */
export async function rawGrant(pds, account, scope, { key = newKey(), redirectUri = 'http://127.0.0.1/cb' } = {}) {
  const clientId = `http://localhost?${new URLSearchParams({ scope, redirect_uri: redirectUri })}`;
  const { verifier, challenge } = pkce();
  const par = await asPost(pds, '/oauth/par', {
    client_id: clientId, response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256',
    redirect_uri: redirectUri, scope, state: 'st',
  }, key);
  if (par.status !== 201) throw new Error(`par: ${par.status} ${JSON.stringify(par.body)}`);
  const url = `${pds.url}/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: par.body.request_uri })}`;
  const { params } = await approve(pds, url, { identifier: account.handle, password: account.password });
  const tok = await asPost(pds, '/oauth/token', {
    grant_type: 'authorization_code', client_id: clientId, code: params.get('code'),
    redirect_uri: redirectUri, code_verifier: verifier,
  }, key, { nonce: par.nonce });
  if (tok.status !== 200) throw new Error(`token: ${tok.status} ${JSON.stringify(tok.body)}`);
  return { key, tokens: tok.body, nonce: tok.nonce, clientId, redirectUri };
}

/**
 * An XRPC call with a DPoP-bound token (retrying once on use_dpop_nonce, as clients do).
 * Returns { status, body, headers }.
 */
export async function dpopXrpc(pds, grant, method, nsid, { params, body, headers = {}, raw } = {}) {
  const q = params ? `?${new URLSearchParams(params)}` : '';
  const url = `${pds.url}/xrpc/${nsid}`;
  const send = async () => {
    const res = await fetch(`${url}${q}`, {
      method,
      headers: {
        authorization: `DPoP ${grant.tokens.access_token}`,
        dpop: dpopProof(grant.key, { htm: method, htu: url, nonce: grant.nonce, accessToken: grant.tokens.access_token }),
        ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    if (res.headers.get('dpop-nonce')) grant.nonce = res.headers.get('dpop-nonce');
    const text = await res.text();
    let data = null;
    try { data = JSON.parse(text); } catch { data = text; }
    return { status: res.status, body: data, headers: res.headers };
  };
  let r = await send();
  if (r.status === 401 && /use_dpop_nonce/.test(r.headers.get('www-authenticate') ?? '')) r = await send();
  return r;
}

/** Memory stores for NodeOAuthClient. */
export function memoryStore() {
  const m = new Map();
  return { async set(k, v) { m.set(k, v); }, async get(k) { return m.get(k); }, async del(k) { m.delete(k); }, map: m };
}

/** A NodeOAuthClient for our server: identities resolved through our PLC and our PDS. */
export function oauthClient(pds, plc, { clientMetadata, keyset } = {}) {
  return new NodeOAuthClient({
    clientMetadata,
    keyset,
    stateStore: memoryStore(),
    sessionStore: memoryStore(),
    allowHttp: true,
    plcDirectoryUrl: plc.url,
    handleResolver: pds.url,
  });
}

/**
 * A small HTTPS server for client metadata documents and JWKS, as an OAuth app's web site:
 * https://client.localhost:<port> (libcurl resolves *.localhost to loopback), with a
 * self-signed certificate the PDS trusts through PDS_OAUTH_CLIENT_CA_FILE. Answers are set
 * per path: host.set(path, { status, headers, body (object: JSON), delayMs, redirect }).
 * Returns { origin, caFile, set, hits(path), stop() }.
 */
export async function startClientHost() {
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const https = await import('node:https');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-oauth-client-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=client.localhost',
    '-addext', 'subjectAltName=DNS:client.localhost'], { stdio: 'ignore' });
  const routes = new Map();
  const counts = new Map();
  const server = https.createServer({ key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) }, (req, res) => {
    const p = new URL(req.url, 'https://x').pathname;
    counts.set(p, (counts.get(p) ?? 0) + 1);
    const r = routes.get(p);
    if (!r) {
      res.writeHead(404).end('not found');
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      const body = typeof r.body === 'string' || Buffer.isBuffer(r.body) ? r.body : JSON.stringify(r.body);
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...(r.headers ?? {}) });
      res.end(body);
    };
    if (r.delayMs) setTimeout(send, r.delayMs);
    else send();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://client.localhost:${server.address().port}`;
  return {
    origin,
    caFile: certFile,
    set(p, r) { routes.set(p, r); },
    hits(p) { return counts.get(p) ?? 0; },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

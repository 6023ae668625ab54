// The HTTP edge under hostile clients, over raw sockets (node:net), each case bounded in time:
// connection exhaustion and per-address caps, trickled heads and bodies past their deadlines,
// oversized heads, bodies refused from the headers, unknown transfer codings, NUL bytes; and
// session tokens without (or with the wrong) "typ", which the reference refuses.
//
// The server runs with short deadlines and a cap on loopback addresses so that each case takes
// seconds; the sockets come from several 127.x.y.z addresses (all loopback on Linux) so that
// the per-address cap and the global limit can be told apart. pds starts with a soft open-file
// limit of 1024 (it raises it to the hard limit itself), under which the old fixed limit of
// about 1,020 connections sat.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { describe, test } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { createAccount, sleep, useTestEnv } from './lib/index.mjs';

const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;
const PER_LOCAL_IP = 60;
const JWT_SECRET = 'e2e-edge-jwt-secret-0123456789abcdef';
const BLOB_LIMIT = 104857600; // PDS_BLOB_UPLOAD_LIMIT's default
const SLACK_MS = 1500; // watchdog tick, scheduling on a busy machine

const env = useTestEnv({
  pds: {
    fdSoftLimit: 1024,
    env: {
      PDS_HTTP_HEADERS_TIMEOUT: String(HEADERS_TIMEOUT_MS),
      PDS_HTTP_REQUEST_TIMEOUT: String(REQUEST_TIMEOUT_MS),
      PDS_HTTP_MAX_CONNECTIONS_PER_LOCAL_IP: String(PER_LOCAL_IP),
      PDS_JWT_SECRET: JWT_SECRET,
    },
  },
});

// ---- raw HTTP/1.1 over node:net ----------------------------------------------------------

/** Connects from localAddress (default 127.0.0.1); resolves once connected. */
function connect({ localAddress = '127.0.0.1', timeoutMs = 3000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port: env.pds.port, localAddress });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect from ${localAddress} timed out`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Tracks a socket's incoming bytes and its end (server close or reset). */
function watch(sock) {
  const w = { data: Buffer.alloc(0), ended: false, endedAt: 0, error: null, waiters: [] };
  const poke = () => {
    for (const f of w.waiters.splice(0)) f();
  };
  sock.on('data', (d) => {
    w.data = Buffer.concat([w.data, d]);
    poke();
  });
  const end = (err) => {
    if (!w.ended) {
      w.ended = true;
      w.endedAt = Date.now();
      w.error = err ?? null;
    }
    poke();
  };
  sock.on('end', () => end());
  sock.on('close', () => end());
  sock.on('error', (err) => end(err));
  w.changed = () => new Promise((r) => w.waiters.push(r));
  return w;
}

/** Parses the first complete final (non-1xx) response in buf, or returns null. */
function parseResponse(buf) {
  const interim = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) return null;
    const head = buf.subarray(off, end).toString('latin1').split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    if (status >= 100 && status < 200) {
      interim.push(status);
      off = end + 4;
      continue;
    }
    const len = Number(headers['content-length'] ?? 0);
    if (buf.length < end + 4 + len) return null;
    const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
    let json;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    return { status, headers, body, json, interim };
  }
}

/**
 * Waits for a final response on watched socket w, or its end, for at most timeoutMs.
 * Resolves { response (or null), ended, timedOut, ms, interim }.
 */
async function awaitResponse(w, timeoutMs) {
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  for (;;) {
    const r = parseResponse(w.data);
    if (r) return { response: r, ended: w.ended, timedOut: false, ms: Date.now() - t0 };
    if (w.ended) return { response: null, ended: true, timedOut: false, ms: Date.now() - t0, raw: w.data };
    const left = deadline - Date.now();
    if (left <= 0) return { response: null, ended: false, timedOut: true, ms: Date.now() - t0, raw: w.data };
    await Promise.race([w.changed(), sleep(left)]);
  }
}

/** Waits until watched socket w ends, for at most timeoutMs; true if it did. */
async function awaitEnd(w, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!w.ended && Date.now() < deadline) {
    await Promise.race([w.changed(), sleep(deadline - Date.now())]);
  }
  return w.ended;
}

/** One request on a fresh connection: writes payload, reads the answer (bounded). */
async function exchange(payload, { timeoutMs = 3000, localAddress } = {}) {
  const sock = await connect({ localAddress });
  const w = watch(sock);
  sock.write(payload);
  try {
    return await awaitResponse(w, timeoutMs);
  } finally {
    sock.destroy();
  }
}

function get(target, headers = {}) {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
}

/** Closes every socket, without waiting. */
function destroyAll(socks) {
  for (const s of socks) s.destroy();
}

function assertXrpcError(r, status, error, message) {
  assert.ok(r.response, `an answer, not ${r.timedOut ? 'silence' : 'a closed connection'}`);
  assert.equal(r.response.status, status, r.response.body);
  assert.equal(r.response.json?.error, error, r.response.body);
  if (message) assert.match(r.response.json.message, message);
}

// ---- an account to aim at ----------------------------------------------------------------

let alice; // { did, session, agent }, once setUp has run
let blockCids; // CIDs of blocks in alice's repo

/** Creates alice with a few posts, once (suites' hooks may run before the env's). */
let setUpOnce;
function setUp() {
  setUpOnce ??= (async () => {
    alice = await createAccount(env.pds);
    for (let i = 0; i < 3; i++) {
      await alice.agent.com.atproto.repo.createRecord({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: `edge ${i}`, createdAt: new Date().toISOString() },
      });
    }
    const head = await alice.agent.com.atproto.sync.getLatestCommit({ did: alice.did });
    const recs = await alice.agent.com.atproto.repo.listRecords({ repo: alice.did, collection: 'app.bsky.feed.post' });
    blockCids = [head.data.cid, ...recs.data.records.map((r) => r.cid)];
  })();
  return setUpOnce;
}

// ---- connections: exhaustion, per-address cap, trickling --------------------------------

describe('connections', () => {
  test('1,100 idle sockets and 5 slow clients leave room for a new client', { timeout: 20000 }, async () => {
    const hard = Number(execFileSync('/bin/sh', ['-c', 'ulimit -H -n'], { encoding: 'utf8' }).trim());
    assert.ok(hard >= 4096, `this test needs a hard open-file limit of at least 4096 (have ${hard})`);
    const socks = [];
    try {
      const slow = [];
      for (let i = 0; i < 5; i++) {
        const s = await connect({ localAddress: '127.0.3.1' });
        s.write('GET /xrpc/_health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
        slow.push(s);
        socks.push(s);
      }
      const trickle = setInterval(() => slow.forEach((s) => s.writable && s.write('a')), 200);
      // 25 addresses x 44 sockets: under the per-address cap, over the old global limit
      const pending = [];
      for (let a = 1; a <= 25; a++) {
        for (let k = 0; k < 44; k++) pending.push(connect({ localAddress: `127.0.4.${a}` }));
      }
      socks.push(...(await Promise.all(pending)));
      await sleep(300); // let the server accept them all
      const r = await exchange(get('/xrpc/_health'), { timeoutMs: 1000 });
      clearInterval(trickle);
      assert.ok(r.response, `a new client got ${r.timedOut ? 'no answer within 1 s' : 'its connection closed'}`);
      assert.equal(r.response.status, 200);
      assert.match(fs.readFileSync(env.pds.logFile, 'utf8'), /open-file limit raised from 1024 to \d+/);
    } finally {
      destroyAll(socks);
    }
  });

  test(`a client address gets ${PER_LOCAL_IP} connections, the next is closed, others are served`, { timeout: 10000 }, async () => {
    const socks = [];
    try {
      const watched = [];
      for (let i = 0; i < PER_LOCAL_IP + 10; i++) {
        const s = await connect({ localAddress: '127.0.5.1' });
        socks.push(s);
        watched.push(watch(s));
      }
      await sleep(500); // well inside the headers deadline
      const closed = watched.filter((w) => w.ended).length;
      assert.equal(closed, 10, `${closed} of ${PER_LOCAL_IP + 10} connections closed by the server`);
      // the capped address is refused a new connection, another address is served
      const again = watch(await connect({ localAddress: '127.0.5.1' }));
      assert.ok(await awaitEnd(again, 1000), 'a new connection from the capped address is closed');
      const other = await exchange(get('/xrpc/_health'), { localAddress: '127.0.5.2', timeoutMs: 1000 });
      assert.equal(other.response?.status, 200);
      // slots come back as connections close
      destroyAll(socks.splice(0, 5));
      await sleep(200);
      const back = await exchange(get('/xrpc/_health'), { localAddress: '127.0.5.1', timeoutMs: 1000 });
      assert.equal(back.response?.status, 200, 'a freed slot is usable again');
    } finally {
      destroyAll(socks);
    }
  });

});

// The deadline cases wait seconds each: they run side by side.
describe('deadlines', { concurrency: true }, () => {
  // libmicrohttpd decodes chunked bodies itself and never shows the chunk sizes, so a chunk
  // announcing 2^64-1 bytes cannot be refused when it is announced (the reference does not
  // refuse it either); the request deadline ends it.
  test('a chunk of ffffffffffffffff bytes ends at the request deadline, unanswered', { timeout: 12000 }, async () => {
    const sock = await connect();
    const w = watch(sock);
    const t0 = Date.now();
    sock.write(
      'POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: localhost\r\n' +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello',
    );
    try {
      assert.ok(await awaitEnd(w, REQUEST_TIMEOUT_MS + SLACK_MS * 2), 'the connection was closed');
      assert.ok(w.endedAt - t0 <= REQUEST_TIMEOUT_MS + SLACK_MS, `closed after ${w.endedAt - t0} ms`);
      assert.equal(parseResponse(w.data), null);
    } finally {
      sock.destroy();
    }
  });

  test('a head trickled a byte at a time is cut at the headers deadline', { timeout: 10000 }, async () => {
    const sock = await connect();
    const w = watch(sock);
    const t0 = Date.now();
    sock.write('GET /xrpc/_health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    const trickle = setInterval(() => sock.writable && sock.write('a'), 250);
    try {
      assert.ok(await awaitEnd(w, HEADERS_TIMEOUT_MS + SLACK_MS * 2), 'the connection was closed');
      const ms = w.endedAt - t0;
      assert.ok(ms >= HEADERS_TIMEOUT_MS - 100, `closed after ${ms} ms, not before the deadline`);
      assert.ok(ms <= HEADERS_TIMEOUT_MS + SLACK_MS, `closed after ${ms} ms`);
      assert.equal(parseResponse(w.data), null, 'no answer to a head that never completed');
    } finally {
      clearInterval(trickle);
      sock.destroy();
    }
  });

  test('a body trickled a byte at a time is cut at the request deadline', { timeout: 12000 }, async () => {
    const sock = await connect();
    const w = watch(sock);
    const t0 = Date.now();
    sock.write(
      'POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: localhost\r\n' +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const trickle = setInterval(() => sock.writable && sock.write(' '), 250);
    try {
      assert.ok(await awaitEnd(w, REQUEST_TIMEOUT_MS + SLACK_MS * 2), 'the connection was closed');
      const ms = w.endedAt - t0;
      assert.ok(ms >= REQUEST_TIMEOUT_MS - 100, `closed after ${ms} ms, not before the deadline`);
      assert.ok(ms <= REQUEST_TIMEOUT_MS + SLACK_MS, `closed after ${ms} ms`);
    } finally {
      clearInterval(trickle);
      sock.destroy();
    }
  });

  test('keep-alive requests restart the deadlines', { timeout: 10000 }, async () => {
    const sock = await connect();
    const w = watch(sock);
    try {
      // 4 x 1.2 s: past both deadlines in all, none of them in one request
      for (let i = 0; i < 4; i++) {
        w.data = Buffer.alloc(0);
        sock.write(get('/xrpc/_health'));
        const r = await awaitResponse(w, 2000);
        assert.equal(r.response?.status, 200, `request ${i + 1} on one connection`);
        await sleep(HEADERS_TIMEOUT_MS * 0.6); // the deadline restarts with each request
      }
    } finally {
      sock.destroy();
    }
  });

  test('a WebSocket subscription outlives the deadlines', { timeout: 10000 }, async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${env.pds.port}/xrpc/com.atproto.sync.subscribeRepos`);
    try {
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error('WebSocket did not open'));
      });
      let closed = false;
      ws.onclose = () => (closed = true);
      await sleep(REQUEST_TIMEOUT_MS + SLACK_MS);
      assert.equal(closed, false, 'the subscription is still open past the request deadline');
    } finally {
      ws.close();
    }
  });
});

// ---- heads too large for the reference's limits -------------------------------------------

describe('request heads', () => {
  test('an 8.8 KB URL with 1,000 query parameters is answered at once', { timeout: 5000 }, async () => {
    const params = Array.from({ length: 1000 }, (_, i) => `p${i}=v`).join('&');
    const target = `/xrpc/com.atproto.server.describeServer?${params}&pad=${'a'.repeat(8800 - params.length)}`;
    const r = await exchange(get(target), { timeoutMs: 2000 });
    assert.ok(r.response, 'an answer, not silence');
    assert.equal(r.response.status, 200, 'unknown parameters are ignored, as by the reference');
  });

  test('getBlocks takes as many CIDs as fit in a 16 KiB head', { timeout: 5000 }, async () => {
    await setUp();
    const cids = Array.from({ length: 240 }, (_, i) => blockCids[i % blockCids.length]);
    const target = `/xrpc/com.atproto.sync.getBlocks?did=${alice.did}&${cids.map((c) => `cids=${c}`).join('&')}`;
    assert.ok(target.length > 15000 && target.length < 16200, `target of ${target.length} bytes`);
    const r = await exchange(get(target), { timeoutMs: 3000 });
    assert.equal(r.response?.status, 200, r.response?.body);
    assert.equal(r.response.headers['content-type'], 'application/vnd.ipld.car');
  });

  test('getBlocks with 1,000 CIDs gets 414 at once', { timeout: 5000 }, async () => {
    await setUp();
    const cids = Array.from({ length: 1000 }, (_, i) => blockCids[i % blockCids.length]);
    const target = `/xrpc/com.atproto.sync.getBlocks?did=${alice.did}&${cids.map((c) => `cids=${c}`).join('&')}`;
    const r = await exchange(get(target), { timeoutMs: 2000 });
    assertXrpcError(r, 414, 'InvalidRequest', /target longer than 16384 bytes/);
  });

  test('heads past the connection pool (100 KB, or 4,000 header lines) are refused at once', { timeout: 5000 }, async () => {
    // past what libmicrohttpd's pool can hold it answers itself (an HTML body, not XRPC JSON)
    const url = await exchange(get(`/xrpc/_health?a=${'a'.repeat(100000)}`), { timeoutMs: 2000 });
    assert.equal(url.response?.status, 414);
    const hdr = await exchange(get('/xrpc/_health', { 'X-Big': 'b'.repeat(100000) }), { timeoutMs: 2000 });
    assert.equal(hdr.response?.status, 431);
    const many = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`x${i}`, '']));
    const lines = await exchange(get('/xrpc/_health', many), { timeoutMs: 2000 });
    assert.equal(lines.response?.status, 431);
  });

  test('a 20 KB header gets 431 at once', { timeout: 5000 }, async () => {
    const r = await exchange(get('/xrpc/_health', { 'X-Big': 'b'.repeat(20000) }), { timeoutMs: 2000 });
    assertXrpcError(r, 431, 'InvalidRequest', /head larger than 16384 bytes/);
  });
});

// ---- bodies refused from the headers --------------------------------------------------------

describe('request bodies', () => {
  test('a 10 MB createRecord body gets its 413, not a reset', { timeout: 10000 }, async () => {
    await setUp();
    const body = Buffer.alloc(10 << 20, 0x20);
    const head =
      'POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: localhost\r\n' +
      `Authorization: Bearer ${alice.session.accessJwt}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const r = await exchange(Buffer.concat([Buffer.from(head), body]), { timeoutMs: 5000 });
    assertXrpcError(r, 413, 'PayloadTooLarge');
  });

  test('uploadBlob with Expect: 100-continue over the limit gets 413, never 100', { timeout: 5000 }, async () => {
    await setUp();
    const r = await exchange(
      'POST /xrpc/com.atproto.repo.uploadBlob HTTP/1.1\r\nHost: localhost\r\n' +
        `Authorization: Bearer ${alice.session.accessJwt}\r\n` +
        `Content-Type: image/png\r\nExpect: 100-continue\r\nContent-Length: ${BLOB_LIMIT + 1}\r\n\r\n`,
      { timeoutMs: 2000 },
    );
    assertXrpcError(r, 413, 'PayloadTooLarge');
    assert.deepEqual(r.response.interim, [], 'no 100 Continue before the refusal');
  });

  test('uploadBlob with Expect: 100-continue and no credentials gets 401 before the body', { timeout: 5000 }, async () => {
    const r = await exchange(
      'POST /xrpc/com.atproto.repo.uploadBlob HTTP/1.1\r\nHost: localhost\r\n' +
        'Content-Type: image/png\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n',
      { timeoutMs: 2000 },
    );
    assertXrpcError(r, 401, 'AuthMissing');
    assert.deepEqual(r.response.interim, []);
  });

  test('an unknown transfer coding gets 501 at once', { timeout: 5000 }, async () => {
    for (const te of ['gzip, chunked', 'gzip', 'chunked, chunked']) {
      const r = await exchange(
        'POST /xrpc/com.atproto.repo.createRecord HTTP/1.1\r\nHost: localhost\r\n' +
          `Content-Type: application/json\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
        { timeoutMs: 2000 },
      );
      assertXrpcError(r, 501, 'NotImplemented', /Transfer-Encoding/);
    }
  });

});

// ---- NUL bytes -----------------------------------------------------------------------------

describe('NUL bytes', () => {
  test('%00 in a query value is refused, not cut there', { timeout: 5000 }, async () => {
    await setUp();
    const ok = await exchange(get(`/xrpc/com.atproto.repo.describeRepo?repo=${alice.did}`));
    assert.equal(ok.response?.status, 200);
    const r = await exchange(get(`/xrpc/com.atproto.repo.describeRepo?repo=${alice.did}%00junk`));
    assertXrpcError(r, 400, 'InvalidRequest', /NUL/);
  });

  test('a raw NUL in the request line is refused', { timeout: 5000 }, async () => {
    await setUp();
    const r = await exchange(get(`/xrpc/com.atproto.repo.describeRepo?repo=${alice.did}\0junk`));
    assertXrpcError(r, 400, 'InvalidRequest', /NUL/);
    const m = await exchange(`GE\0T /xrpc/_health HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    assert.notEqual(m.response?.status, 200, 'a NUL in the method is not ignored either');
  });
});

// ---- session tokens and their "typ" --------------------------------------------------------

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** An HS256 token signed with the server's secret: header, claims as given. */
function signHs256(header, claims) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', JWT_SECRET).update(input).digest('base64url')}`;
}

function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function getSession(token) {
  const res = await fetch(`${env.pds.url}/xrpc/com.atproto.server.getSession`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

async function refreshSession(token) {
  const res = await fetch(`${env.pds.url}/xrpc/com.atproto.server.refreshSession`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

describe('token types', () => {
  test('a validly signed access token without typ is refused', async () => {
    await setUp();
    const claims = claimsOf(alice.session.accessJwt);
    const r = await getSession(signHs256({ alg: 'HS256' }, claims));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'InvalidToken', message: 'Token could not be verified' });
    const typed = await getSession(signHs256({ alg: 'HS256', typ: 'at+jwt' }, claims));
    assert.equal(typed.status, 200, 'the same claims with the type are accepted');
  });

  test('an access token needs typ at+jwt: any case, application/ prefix allowed', async () => {
    await setUp();
    const claims = claimsOf(alice.session.accessJwt);
    for (const typ of ['AT+JWT', 'application/at+jwt']) {
      const r = await getSession(signHs256({ alg: 'HS256', typ }, claims));
      assert.equal(r.status, 200, `typ ${typ}: ${JSON.stringify(r.body)}`);
    }
    for (const typ of ['refresh+jwt', 'JWT', 'dpop+jwt', 7]) {
      const r = await getSession(signHs256({ alg: 'HS256', typ }, claims));
      assert.equal(r.status, 400, `typ ${JSON.stringify(typ)}`);
      assert.deepEqual(r.body, { error: 'InvalidToken', message: 'Token could not be verified' });
    }
  });

  test('app-password sessions carry typ at+jwt and are refused without it', async () => {
    await setUp();
    const { data } = await alice.agent.com.atproto.server.createAppPassword({ name: `edge-${Date.now()}` });
    const appAgent = new AtpAgent({ service: env.pds.url });
    await appAgent.login({ identifier: alice.did, password: data.password });
    const access = appAgent.session.accessJwt;
    assert.equal(JSON.parse(Buffer.from(access.split('.')[0], 'base64url')).typ, 'at+jwt');
    assert.equal((await getSession(access)).status, 200);
    const untyped = await getSession(signHs256({ alg: 'HS256' }, claimsOf(access)));
    assert.deepEqual(untyped.body, { error: 'InvalidToken', message: 'Token could not be verified' });
  });

  test('the type is checked before expiry, as jose does', async () => {
    await setUp();
    const claims = { ...claimsOf(alice.session.accessJwt), exp: Math.floor(Date.now() / 1000) - 60 };
    const untyped = await getSession(signHs256({ alg: 'HS256' }, claims));
    assert.deepEqual(untyped.body, { error: 'InvalidToken', message: 'Token could not be verified' });
    const typed = await getSession(signHs256({ alg: 'HS256', typ: 'at+jwt' }, claims));
    assert.equal(typed.status, 400);
    assert.equal(typed.body.error, 'ExpiredToken');
  });

  test('a refresh token is accepted only with typ refresh+jwt', async () => {
    const fresh = await createAccount(env.pds);
    const claims = claimsOf(fresh.session.refreshJwt);
    for (const header of [{ alg: 'HS256' }, { alg: 'HS256', typ: 'at+jwt' }]) {
      const r = await refreshSession(signHs256(header, claims));
      assert.equal(r.status, 400, `header ${JSON.stringify(header)}`);
      assert.deepEqual(r.body, { error: 'InvalidToken', message: 'Token could not be verified' });
    }
    const ok = await refreshSession(signHs256({ alg: 'HS256', typ: 'refresh+jwt' }, claims));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});

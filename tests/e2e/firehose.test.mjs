// The Sync 1.1 event stream (com.atproto.sync.subscribeRepos) against the real server:
// @atproto/sync's Firehose authenticates every operation; every #commit inverts with only
// its own blocks to prevData; replay from cursor 0 equals the live stream; cursor errors;
// a stalled consumer is dropped while another keeps up; two processes on one database emit
// identical streams; kill -9 during concurrent writes loses no acknowledged write and leaves
// no gap or duplicate after a restart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import pg from 'pg';
import WebSocket from 'ws';
import { IdResolver } from '@atproto/identity';
import { Secp256k1Keypair } from '@atproto/crypto';
import { decode as cborDecode, decodeAll } from '@atproto/lex-cbor';
import { MST, MemoryBlockstore, readCarWithRoot } from '@atproto/repo';
import { Firehose } from '@atproto/sync';
import { createAccount, randomHex, sleep, startPds, useTestEnv, waitFor } from './lib/index.mjs';

const env = useTestEnv();
const opened = []; // every raw subscriber, closed at the end

// Helpers

const streamUrl = (pds, query = '') =>
  pds.url.replace(/^http/, 'ws') + '/xrpc/com.atproto.sync.subscribeRepos' + query;

/** A raw subscriber: keeps every frame's bytes and its decoded header and body. */
function subscribe(pds, { cursor } = {}) {
  const ws = new WebSocket(streamUrl(pds, cursor === undefined ? '' : `?cursor=${cursor}`));
  const sub = { ws, events: [], closed: null };
  ws.on('message', (data) => {
    const raw = Buffer.from(data);
    const [header, body] = decodeAll(raw);
    sub.events.push({ raw, header, body });
  });
  ws.on('close', (code, reason) => (sub.closed = { code, reason: reason.toString() }));
  ws.on('error', () => {});
  sub.open = once(ws, 'open');
  sub.seqs = () => sub.events.filter((e) => e.header.op === 1 && e.body.seq).map((e) => e.body.seq);
  sub.last = () => sub.seqs().at(-1) ?? 0;
  opened.push(sub);
  return sub;
}

/** The highest seq the database has assigned. */
async function dbHead(dbUrl) {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const r = await c.query('SELECT COALESCE(max(head), 0)::text AS h FROM repo_seq_state');
    return Number(r.rows[0].h);
  } finally {
    await c.end();
  }
}

/** Waits until sub has every event up to the database's head (after writers are done). */
async function catchUp(sub, dbUrl, what = 'subscriber') {
  const head = await waitFor(async () => {
    const h = await dbHead(dbUrl);
    return h > 0 && h;
  }, { what: 'a numbered event' });
  await waitFor(() => sub.last() >= head, { timeoutMs: 30000, what: `${what} to reach seq ${head}` });
}

const post = (text) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });

/** Seqs strictly increase and, with nothing deleted, each is its predecessor + 1. */
function assertContiguous(seqs, what) {
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], seqs[i - 1] + 1, `${what}: seq ${seqs[i]} follows ${seqs[i - 1]}`);
  }
}

/**
 * The inductive-firehose check on one #commit, with nothing but its own blocks: the commit
 * block is the CAR root and matches the event; inverting every op on the partial MST gives
 * prevData; since/prevData continue the chain of the repo's earlier events.
 */
async function invertCommit(evt, chain) {
  assert.equal(evt.rebase, false);
  assert.equal(evt.tooBig, false);
  assert.deepEqual(evt.blobs, []);
  assert.ok(evt.blocks.length <= 2_000_000 && evt.ops.length <= 200);
  const { root, blocks } = await readCarWithRoot(evt.blocks);
  assert.ok(root.equals(evt.commit), 'the CAR root is the commit');
  const commit = cborDecode(blocks.get(root));
  assert.equal(commit.did, evt.repo);
  assert.equal(commit.rev, evt.rev);
  assert.equal(commit.version, 3);
  const prev = chain.get(evt.repo);
  if (prev) {
    assert.equal(evt.since, prev.rev, 'since is the previous rev');
    assert.ok(evt.prevData?.equals(prev.data), 'prevData is the previous data');
  } else {
    assert.equal(evt.since, null, 'a first commit has since null');
  }
  let mst = MST.load(new MemoryBlockstore(blocks), commit.data);
  const rank = (op) => (op.action === 'delete' ? 0 : 1);
  const ops = [...evt.ops].sort((a, b) => rank(a) - rank(b) || (a.path < b.path ? -1 : 1));
  for (const op of ops) {
    const cur = await mst.get(op.path);
    if (op.action === 'create') {
      assert.ok(cur?.equals(op.cid) && op.prev === undefined && blocks.has(op.cid), op.path);
      mst = await mst.delete(op.path);
    } else if (op.action === 'update') {
      assert.ok(cur?.equals(op.cid) && op.prev && !op.prev.equals(op.cid) && blocks.has(op.cid));
      mst = await mst.update(op.path, op.prev);
    } else {
      assert.ok(cur === null && op.cid === null && op.prev, op.path);
      mst = await mst.add(op.path, op.prev);
    }
  }
  const inverted = await mst.getPointer();
  if (evt.prevData) assert.ok(inverted.equals(evt.prevData), 'inversion arrives at prevData');
  else assert.ok(inverted.equals(commit.data), 'a first commit changes nothing');
  chain.set(evt.repo, { rev: evt.rev, data: commit.data });
}

async function syncEvent(evt, chain) {
  const { root, blocks } = await readCarWithRoot(evt.blocks);
  assert.equal(blocks.size, 1, '#sync carries only the commit block');
  const commit = cborDecode(blocks.get(root));
  assert.equal(commit.did, evt.did);
  assert.equal(commit.rev, evt.rev);
  chain.set(evt.did, { rev: evt.rev, data: commit.data });
}

/** Checks every event of a stream; returns the per-repo chain state. */
async function checkStream(events) {
  const chain = new Map();
  for (const { header, body } of events) {
    if (header.t === '#commit') await invertCommit(body, chain);
    else if (header.t === '#sync') await syncEvent(body, chain);
  }
  return chain;
}

// The main stream: a live subscriber and a Firehose from before the first account.

const state = { accounts: [], expected: [], live: null };

test('Firehose authenticates every operation of every kind of write', async (t) => {
  const pds = env.pds;
  state.live = subscribe(pds);
  await state.live.open;
  const handled = [];
  const errors = [];
  const firehose = new Firehose({
    idResolver: new IdResolver({ plcUrl: env.plc.url, fetch: globalThis.fetch }), // loopback PLC: no SSRF guard
    service: pds.url.replace(/^http/, 'ws'),
    getCursor: () => 0, // the whole window: nothing is missed however late it connects
    handleEvent: (evt) => handled.push(evt),
    onError: (err) => errors.push(err),
  });
  firehose.start();
  t.after(() => firehose.destroy());
  await sleep(300); // the live subscriber is registered before the first event

  for (let i = 0; i < 3; i++) state.accounts.push(await createAccount(pds));
  const expect = (action, uri, cid) => state.expected.push({ action, uri, cid });
  for (const a of state.accounts) {
    const repo = a.agent.com.atproto.repo;
    const r1 = await repo.createRecord({ repo: a.did, collection: 'app.bsky.feed.post', record: post('one') });
    expect('create', r1.data.uri, r1.data.cid);
    const r2 = await repo.createRecord({ repo: a.did, collection: 'app.bsky.feed.post', record: post('two') });
    expect('create', r2.data.uri, r2.data.cid);
    const rkey = r1.data.uri.split('/').pop();
    const r3 = await repo.putRecord({ repo: a.did, collection: 'app.bsky.feed.post', rkey, record: post('one, edited') });
    expect('update', r3.data.uri, r3.data.cid);
    await repo.deleteRecord({ repo: a.did, collection: 'app.bsky.feed.post', rkey: r2.data.uri.split('/').pop() });
    expect('delete', r2.data.uri, null);
    const w = await repo.applyWrites({
      repo: a.did,
      validate: false, // rkeys that are not TIDs: a post's schema (key: tid) would refuse them
      writes: [
        { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', rkey: 'batch1', value: post('b1') },
        { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', rkey: 'batch2', value: post('b2') },
        { $type: 'com.atproto.repo.applyWrites#update', collection: 'app.bsky.feed.post', rkey, value: post('again') },
      ],
    });
    for (const res of w.data.results) expect(res.$type.endsWith('#updateResult') ? 'update' : 'create', res.uri, res.cid);
    await repo.deleteRecord({ repo: a.did, collection: 'app.bsky.feed.post', rkey: 'batch1' });
    expect('delete', `at://${a.did}/app.bsky.feed.post/batch1`, null);
  }

  const key = (action, uri, cid) => `${action} ${uri} ${cid ?? '-'}`;
  const want = new Set(state.expected.map((e) => key(e.action, e.uri, e.cid)));
  const got = () => new Set(handled.filter((e) => ['create', 'update', 'delete'].includes(e.event))
    .map((e) => key(e.event, e.uri.toString(), e.cid?.toString())));
  await waitFor(() => [...want].every((k) => got().has(k)), { timeoutMs: 30000, what: 'every operation, authenticated' });
  assert.deepEqual(errors.map(String), [], 'no validation, parse or handler errors');
  assert.equal(got().size, want.size, 'nothing but the writes made');
  for (const a of state.accounts) {
    const mine = handled.filter((e) => e.did === a.did);
    assert.ok(mine.some((e) => e.event === 'identity'), '#identity at creation');
    assert.ok(mine.some((e) => e.event === 'account' && e.active === true), '#account active');
    assert.ok(mine.some((e) => e.event === 'sync'), '#sync at creation');
  }
});

test('every #commit inverts with only its own blocks, continuing each repo chain', async () => {
  const pds = env.pds;
  await catchUp(state.live, pds.dbUrl, 'the live subscriber');
  const commits = state.live.events.filter((e) => e.header.t === '#commit');
  assert.ok(commits.length >= state.accounts.length * 7, `${commits.length} commits`);
  const chain = await checkStream(state.live.events);
  for (const a of state.accounts) {
    const latest = await pds.agent().com.atproto.sync.getLatestCommit({ did: a.did });
    assert.equal(chain.get(a.did).rev, latest.data.rev, 'the stream ends at the repo head');
  }
  // creation order per account: identity, account, commit (since null), sync
  const first = state.live.events.filter((e) => (e.body.did ?? e.body.repo) === state.accounts[0].did).slice(0, 4);
  assert.deepEqual(first.map((e) => e.header.t), ['#identity', '#account', '#commit', '#sync']);
});

test('replay from cursor 0 equals the live stream, byte for byte', async () => {
  const pds = env.pds;
  const replay = subscribe(pds, { cursor: 0 });
  await catchUp(replay, pds.dbUrl, 'the replay');
  assert.ok(state.live.events.length > 0);
  assert.deepEqual(replay.events.map((e) => e.raw.toString('hex')), state.live.events.map((e) => e.raw.toString('hex')));
  assertContiguous(replay.seqs(), 'replay');
  // a cursor in the middle replays exactly what follows it, then goes live
  const seqs = replay.seqs();
  const mid = seqs[Math.floor(seqs.length / 2)];
  const part = subscribe(pds, { cursor: mid });
  await catchUp(part, pds.dbUrl, 'the partial replay');
  assert.deepEqual(part.seqs(), seqs.filter((s) => s > mid));
  const a = state.accounts[0];
  const r = await a.agent.com.atproto.repo.createRecord({ repo: a.did, collection: 'app.bsky.feed.post', record: post('after replay') });
  await catchUp(part, pds.dbUrl, 'the partial replay, live');
  await catchUp(replay, pds.dbUrl, 'the replay, live');
  const last = part.events.at(-1).body;
  assert.equal(last.ops[0].path, r.data.uri.split('/').slice(-2).join('/'));
  assert.deepEqual(part.events.at(-1).raw, replay.events.at(-1).raw);
  assert.deepEqual(part.events.at(-1).raw, (await waitFor(() => state.live.events.at(-1).body.seq === last.seq && state.live.events.at(-1))).raw);
});

test('cursor errors: FutureCursor and a malformed cursor get an error frame, then close', async () => {
  const pds = env.pds;
  const head = await dbHead(pds.dbUrl);
  const future = subscribe(pds, { cursor: head + 1000 });
  await waitFor(() => future.closed, { what: 'the server to close' });
  assert.equal(future.events.length, 1);
  assert.deepEqual(future.events[0].header, { op: -1 });
  assert.equal(future.events[0].body.error, 'FutureCursor');
  assert.equal(future.closed.code, 1008);
  const bad = subscribe(pds, { cursor: 'abc' });
  await waitFor(() => bad.closed, { what: 'the server to close' });
  assert.equal(bad.events[0].body.error, 'InvalidRequest');
  // without the upgrade: plain HTTP 426
  const res = await fetch(`${pds.url}/xrpc/com.atproto.sync.subscribeRepos`);
  assert.equal(res.status, 426);
  assert.equal((await res.json()).error, 'InvalidRequest');
});

// Separate servers for the rest, sharing the PLC directory.

/** Secrets shared by processes that serve one database. */
async function sharedSecrets() {
  const key = await Secp256k1Keypair.create({ exportable: true });
  return {
    PDS_JWT_SECRET: randomHex(32),
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: Buffer.from(await key.export()).toString('hex'),
  };
}

test('a consumer that stops reading is dropped (ConsumerTooSlow) while another keeps up', async (t) => {
  const pds = await startPds({ plcUrl: env.plc.url, env: { PDS_MAX_SUBSCRIPTION_BUFFER: '8' } });
  t.after(() => pds.stop());
  const a = await createAccount(pds);
  const fast = subscribe(pds);
  await fast.open;
  // the stalled consumer: a raw socket that completes the handshake and then reads nothing
  const sock = net.connect(pds.port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write('GET /xrpc/com.atproto.sync.subscribeRepos HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n' +
    'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const [first] = await once(sock, 'data');
  assert.match(first.toString('latin1'), /^HTTP\/1\.1 101/);
  assert.match(first.toString('latin1'), /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  sock.pause();
  await sleep(300);
  // ~150 KB per event: kernel buffers (a few MB each way) fill, then the 8-event queue
  const big = 'x'.repeat(150_000);
  let n = 0;
  const dropped = () => fs.readFileSync(pds.logFile, 'utf8').includes('dropped (ConsumerTooSlow)');
  while (!dropped() && n < 400) {
    await a.agent.com.atproto.repo.createRecord({ repo: a.did, collection: 'com.example.big', record: { $type: 'com.example.big', big, n }, validate: false });
    n++;
  }
  assert.ok(dropped(), `dropped after ${n} writes`);
  await catchUp(fast, pds.dbUrl, 'the fast consumer');
  assert.equal(fast.closed, null, 'the fast consumer is still connected');
  assertContiguous(fast.seqs(), 'fast consumer');

  // the stalled one reads again: a prefix of the stream, then the error frame, then close
  const chunks = [first];
  sock.on('data', (d) => chunks.push(d));
  sock.resume();
  await once(sock, 'end');
  sock.destroy();
  let buf = Buffer.concat(chunks);
  buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
  const frames = [];
  while (buf.length >= 2) {
    let len = buf[1] & 0x7f;
    let off = 2;
    if (len === 126) [len, off] = [buf.readUInt16BE(2), 4];
    else if (len === 127) [len, off] = [Number(buf.readBigUInt64BE(2)), 10];
    if (buf.length < off + len) break;
    frames.push({ op: buf[0] & 0x0f, payload: buf.subarray(off, off + len) });
    buf = buf.subarray(off + len);
  }
  const data = frames.filter((f) => f.op === 2).map((f) => [...decodeAll(f.payload)]);
  const err = data.at(-1);
  assert.deepEqual(err[0], { op: -1 });
  assert.equal(err[1].error, 'ConsumerTooSlow');
  const seqs = data.slice(0, -1).map(([, body]) => body.seq);
  assert.ok(seqs.length > 0 && seqs.length < fast.seqs().length, `${seqs.length} events before the drop`);
  const from = fast.seqs().indexOf(seqs[0]); // each started live at its own moment
  assert.ok(from >= 0);
  assert.deepEqual(seqs, fast.seqs().slice(from, from + seqs.length), 'it got a gap-free run of the stream');
  assert.equal(frames.at(-1).op, 8, 'a close frame ends it');
  assert.equal(frames.at(-1).payload.readUInt16BE(0), 1008);
});

test('a cursor older than the window gets #info OutdatedCursor, then the window', async (t) => {
  const pds = await startPds({ plcUrl: env.plc.url, env: { PDS_REPO_BACKFILL_LIMIT_MS: '2000' } });
  t.after(() => pds.stop());
  const a = await createAccount(pds);
  await sleep(2500);
  const repo = a.agent.com.atproto.repo;
  await repo.createRecord({ repo: a.did, collection: 'app.bsky.feed.post', record: post('inside the window') });
  const sub = subscribe(pds, { cursor: 0 });
  await catchUp(sub, pds.dbUrl, 'the outdated subscriber');
  assert.deepEqual(sub.events[0].header, { t: '#info', op: 1 });
  assert.equal(sub.events[0].body.name, 'OutdatedCursor');
  const commits = sub.events.filter((e) => e.header.t === '#commit');
  assert.equal(commits.length, 1, 'only the event inside the window');
  assert.equal(commits[0].body.ops[0].action, 'create');
});

test('two processes on one database emit identical streams', async (t) => {
  const secrets = await sharedSecrets();
  const a = await startPds({ plcUrl: env.plc.url, env: secrets });
  const b = await startPds({ plcUrl: env.plc.url, env: { ...secrets, PDS_DATABASE_URL: a.dbUrl } });
  t.after(async () => {
    await b.stop();
    await a.stop();
  });
  const subA = subscribe(a);
  const subB = subscribe(b);
  await Promise.all([subA.open, subB.open]);
  await sleep(300);
  const users = [await createAccount(a), await createAccount(b)];
  // writes through both processes, concurrently
  await Promise.all(users.flatMap((u) => [a, b].map(async (p) => {
    const agent = p.agent();
    await agent.resumeSession(u.agent.session);
    for (let i = 0; i < 10; i++) {
      await agent.com.atproto.repo.createRecord({ repo: u.did, collection: 'app.bsky.feed.post', record: post(`via ${p.port} #${i}`) });
    }
  })));
  await catchUp(subA, a.dbUrl, 'process A');
  await catchUp(subB, a.dbUrl, 'process B');
  assert.ok(subA.events.length >= 2 * 4 + 40);
  assert.deepEqual(subA.events.map((e) => e.raw.toString('hex')), subB.events.map((e) => e.raw.toString('hex')));
  assertContiguous(subA.seqs(), 'two processes');
  await checkStream(subA.events);
});

test('kill -9 during concurrent writes: no acknowledged write lost, no gap or duplicate after restart', { timeout: 300000 }, async (t) => {
  const secrets = await sharedSecrets();
  const a = await startPds({ plcUrl: env.plc.url, env: secrets });
  let b = null;
  t.after(async () => {
    await b?.stop();
    await a.stop();
  });
  const users = [];
  for (let i = 0; i < 4; i++) users.push(await createAccount(a));
  const before = subscribe(a, { cursor: 0 });
  const acked = [];
  let killed = false;
  let errorsAfterKill = 0;
  const writer = async (u, w) => {
    for (let i = 0; !killed; i++) {
      try {
        const r = await u.agent.com.atproto.repo.createRecord({ repo: u.did, collection: 'app.bsky.feed.post', record: post(`w${w} #${i}`) });
        acked.push({ did: u.did, uri: r.data.uri, cid: r.data.cid });
      } catch (err) {
        if (!killed) throw err;
        errorsAfterKill++;
      }
    }
  };
  const writers = users.flatMap((u, i) => [writer(u, 2 * i), writer(u, 2 * i + 1)]);
  await waitFor(() => acked.length >= 150, { timeoutMs: 60000, what: 'writes before the kill' });
  a.proc.kill('SIGKILL');
  killed = true;
  await Promise.all(writers);
  await waitFor(() => a.exited, { what: 'the killed process to exit' });
  t.diagnostic(`${acked.length} writes acknowledged before kill -9; ${errorsAfterKill} cut off`);

  b = await startPds({ plcUrl: env.plc.url, env: { ...secrets, PDS_DATABASE_URL: a.dbUrl } });
  // every acknowledged write is in the repository
  for (const u of users) {
    const have = new Map();
    let cursor;
    do {
      const res = await b.agent().com.atproto.repo.listRecords({ repo: u.did, collection: 'app.bsky.feed.post', limit: 100, cursor });
      for (const r of res.data.records) have.set(r.uri, r.cid);
      cursor = res.data.cursor;
    } while (cursor);
    for (const w of acked.filter((x) => x.did === u.did)) assert.equal(have.get(w.uri), w.cid, `${w.uri} survived`);
  }
  // the stream after restart: contiguous, each acknowledged write exactly once, chains intact
  const after = subscribe(b, { cursor: 0 });
  await catchUp(after, a.dbUrl, 'the replay after restart');
  const seqs = after.seqs();
  assertContiguous(seqs, 'after restart');
  assert.equal(new Set(seqs).size, seqs.length);
  const creates = new Map();
  for (const e of after.events.filter((x) => x.header.t === '#commit')) {
    for (const op of e.body.ops) {
      const uri = `at://${e.body.repo}/${op.path}`;
      assert.ok(!creates.has(uri), `${uri} created once`);
      creates.set(uri, op.cid.toString());
    }
  }
  for (const w of acked) assert.equal(creates.get(w.uri), w.cid, `${w.uri} is in the stream`);
  const chain = await checkStream(after.events);
  for (const u of users) {
    const latest = await b.agent().com.atproto.sync.getLatestCommit({ did: u.did });
    assert.equal(chain.get(u.did).rev, latest.data.rev);
  }
  // what the first process streamed before dying is a prefix of the replay, byte for byte
  assert.ok(before.events.length > 0);
  const prefix = after.events.slice(0, before.events.length).map((e) => e.raw.toString('hex'));
  assert.deepEqual(before.events.map((e) => e.raw.toString('hex')), prefix);
  // and the stream goes on from where it was
  const u = users[0];
  const agent = b.agent();
  await agent.resumeSession(u.agent.session);
  await agent.com.atproto.repo.createRecord({ repo: u.did, collection: 'app.bsky.feed.post', record: post('after restart') });
  await catchUp(after, a.dbUrl, 'the live stream after restart');
  assert.equal(after.seqs().at(-1), seqs.at(-1) + 1);
});

test('close subscribers', () => {
  for (const s of opened) s.ws.terminate();
});

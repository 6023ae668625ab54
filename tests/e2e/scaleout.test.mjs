// Several processes, one database: two `pds serve` processes on one PostgreSQL behind a real
// haproxy (deploy/haproxy.cfg's settings, ports rewritten) serve the same accounts. Concurrent
// writes to one repository through both processes all land and the repo verifies; both
// processes' subscribeRepos carry the same events in the same order; createSession's limit
// counts attempts on both processes together; a session from one process works on the other.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import WebSocket from 'ws';
import { AtpAgent } from '@atproto/api';
import { Secp256k1Keypair } from '@atproto/crypto';
import { decodeAll } from '@atproto/lex-cbor';
import { verifyRepoCar } from '@atproto/repo';
import { createAccount, freePort, randomHex, repoRoot, sleep, startPds, useTestEnv, waitFor } from './lib/index.mjs';

const env = useTestEnv();
const post = (text) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });

/** Starts haproxy with deploy/haproxy.cfg, its bind and servers pointed at the test's ports. */
async function startHaproxy(backends) {
  const found = spawnSync('sh', ['-c', 'command -v haproxy || ls /usr/sbin/haproxy'], { encoding: 'utf8' });
  const bin = found.stdout.trim().split('\n')[0];
  assert.ok(found.status === 0 && bin, 'haproxy is not installed: run scripts/deps.sh test');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haproxy-e2e-'));
  let cfg = fs.readFileSync(path.join(repoRoot, 'deploy/haproxy.cfg'), 'utf8');
  cfg = cfg.replace(/^\s*log .*$/gm, '').replace(/^\s*option httplog$/m, '');
  cfg = cfg.replace('bind 127.0.0.1:2580', `bind 127.0.0.1:${port}`);
  cfg = cfg.replace(/^\s*server pds\d .*$/gm, '');
  cfg += backends.map((p, i) => `    server pds${i + 1} 127.0.0.1:${p} check\n`).join('');
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, cfg);
  const check = spawnSync(bin, ['-c', '-f', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, `haproxy -c: ${check.stdout}${check.stderr}`);
  const proc = spawn(bin, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  // both servers up in haproxy's view: two health answers from different backends
  await waitFor(async () => (await fetch(`${url}/xrpc/_health`)).ok, { timeoutMs: 15000, what: `haproxy ${stderr}` });
  await sleep(2500);
  return {
    url,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function subscribe(url) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/xrpc/com.atproto.sync.subscribeRepos');
  const sub = { ws, commits: [] };
  ws.on('message', (data) => {
    const [header, body] = decodeAll(Buffer.from(data));
    if (header.t === '#commit') sub.commits.push({ seq: body.seq, repo: body.repo, commit: body.commit.toString() });
  });
  ws.on('error', () => {});
  sub.open = new Promise((r) => ws.once('open', r));
  return sub;
}

test('two processes on one database behind haproxy', async (t) => {
  const key = await Secp256k1Keypair.create({ exportable: true });
  const secrets = {
    PDS_JWT_SECRET: randomHex(32),
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: Buffer.from(await key.export()).toString('hex'),
  };
  const a = await startPds({ plcUrl: env.plc.url, env: secrets });
  const b = await startPds({
    plcUrl: env.plc.url,
    env: { ...secrets, PDS_DATABASE_URL: a.dbUrl, PDS_BLOBSTORE_DISK_LOCATION: path.join(a.dataDir, 'blobs') },
  });
  let lb;
  const subs = [];
  t.after(async () => {
    for (const s of subs) s.ws.terminate();
    if (lb) await lb.stop();
    await b.stop();
    await a.stop();
  });
  lb = await startHaproxy([a.port, b.port]);
  const viaLb = { url: lb.url, agent: () => new AtpAgent({ service: lb.url }) };

  // accounts created through haproxy (round-robin: one per process)
  const users = [await createAccount(viaLb), await createAccount(viaLb)];
  for (const u of users) {
    for (const p of [a, b]) {
      const r = await fetch(`${p.url}/xrpc/com.atproto.repo.describeRepo?repo=${u.did}`);
      assert.equal(r.status, 200, `account ${u.did} visible on ${p.port}`);
    }
  }

  const subA = subscribe(a.url);
  const subB = subscribe(b.url);
  subs.push(subA, subB);
  await Promise.all([subA.open, subB.open]);
  await sleep(300);

  // 2 x 50 createRecord on one repository, each half straight to one process, both halves
  // at once with 8 in flight per process (more would meet overload protection's 503)
  const u = users[0];
  const N = 50;
  const perProcess = await Promise.all([a, b].map(async (p) => {
    const agent = new AtpAgent({ service: p.url });
    await agent.resumeSession(u.agent.session);
    const out = [];
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < N) {
        const i = next++;
        const r = await agent.com.atproto.repo.createRecord({ repo: u.did, collection: 'app.bsky.feed.post', record: post(`${p.port} #${i}`) });
        out.push(r.data.uri);
      }
    }));
    return out;
  }));
  const uris = perProcess.flat();
  assert.equal(new Set(uris).size, 2 * N, 'every write got its own record');

  // the record count is exact, read from each process
  for (const p of [a, b]) {
    let cursor, n = 0;
    do {
      const r = await new AtpAgent({ service: p.url }).com.atproto.repo.listRecords({ repo: u.did, collection: 'app.bsky.feed.post', limit: 100, cursor });
      n += r.data.records.length;
      cursor = r.data.records.length ? r.data.cursor : undefined;
    } while (cursor);
    assert.equal(n, 2 * N, `records listed on ${p.port}`);
  }

  // the repo verifies with the account's signing key and holds exactly those records
  const car = await new AtpAgent({ service: lb.url }).com.atproto.sync.getRepo({ did: u.did });
  const signingKey = (await (await fetch(`${env.plc.url}/${u.did}/data`)).json()).verificationMethods.atproto;
  const verified = await verifyRepoCar(new Uint8Array(car.data), u.did, signingKey);
  assert.equal(verified.creates.length, 2 * N, 'records in the verified repo');

  // both firehoses carry every commit, with the same seq -> commit CID
  await waitFor(() => subA.commits.length >= 2 * N && subB.commits.length >= 2 * N, { timeoutMs: 20000, what: 'firehose commits' });
  await sleep(500);
  assert.deepEqual(subA.commits, subB.commits, 'same events in the same order on both processes');
  const ours = subA.commits.filter((c) => c.repo === u.did);
  assert.equal(ours.length, 2 * N);
  for (let i = 1; i < subA.commits.length; i++) assert.ok(subA.commits[i].seq > subA.commits[i - 1].seq, 'seq increases');

  // a session made on one process works on the other
  const onA = new AtpAgent({ service: a.url });
  await onA.login({ identifier: users[1].handle, password: users[1].password });
  const onB = new AtpAgent({ service: b.url });
  await onB.resumeSession(onA.session);
  const me = await onB.com.atproto.server.getSession();
  assert.equal(me.data.did, users[1].did);

  // createSession: 30 per identifier per 5 minutes, counted across both processes
  const ip = '203.0.113.77';
  const tryLogin = (p) => fetch(`${p.url}/xrpc/com.atproto.server.createSession`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ identifier: users[1].handle, password: 'wrong-password' }),
  });
  for (let i = 0; i < 30; i++) {
    const r = await tryLogin(i % 2 ? b : a);
    assert.equal(r.status, 401, `attempt ${i + 1} is only refused for the password`);
  }
  for (const p of [a, b]) {
    const r = await tryLogin(p);
    assert.equal(r.status, 429, `attempt 31 on ${p.port} refused by the shared limit`);
  }
});

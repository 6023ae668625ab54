// Reads from a streaming replica (PDS_DATABASE_REPLICA_URLS): a primary cluster and a real hot
// standby made from it with pg_basebackup, both on loopback. Replay on the standby is paused
// to make what the replica serves visible: a post written after the pause is missing from
// anonymous reads (the replica answered them) and present for its owner and for a reader
// naming the rev (the primary answered); after replay resumes, anonymous reads see it. A
// replica further behind than PDS_DATABASE_REPLICA_MAX_LAG, or stopped, leaves its reads to
// the primary, and no client gets an error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { test, before, after, afterEach } from 'node:test';
import pg from 'pg';
import { AtpAgent } from '@atproto/api';
import { verifyRepoCar } from '@atproto/repo';
import { createAccount, freePort, repoRoot, sleep, startPds, startPlc, waitFor } from './lib/index.mjs';

const pgBin = ['15', '16', '17'].map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => fs.existsSync(`${d}/pg_ctl`));
const asOwner = (cmd, args) =>
  process.getuid() === 0
    ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', stdio: 'pipe' })
    : execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe' });

const post = (text) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });

let primaryMaxConn; // a standby needs at least the primary's
let primaryDir, standbyDir, primaryPort, standbyPort, plc, pds, laggy;
const dbName = 'pds_replica';
const primaryUrl = () => `postgres://postgres@127.0.0.1:${primaryPort}/${dbName}`;
const standbyUrl = () => `postgres://postgres@127.0.0.1:${standbyPort}/${dbName}`;

async function onStandby(sql) {
  const c = new pg.Client({ connectionString: standbyUrl() });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

function startStandby() {
  try {
    asOwner(`${pgBin}/pg_ctl`, ['-D', `${standbyDir}/data`, '-w', '-l', `${standbyDir}/postgres.log`,
      '-o', `-p ${standbyPort} -k ${standbyDir} -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=${primaryMaxConn}`, 'start']);
  } catch (e) {
    throw new Error(`the standby did not start:\n${fs.readFileSync(`${standbyDir}/postgres.log`, 'utf8').slice(-2000)}`);
  }
}
function stopStandby() {
  asOwner(`${pgBin}/pg_ctl`, ['-D', `${standbyDir}/data`, '-w', '-m', 'fast', 'stop']);
}

before(async () => {
  assert.ok(pgBin, 'PostgreSQL server binaries not found: run scripts/deps.sh test');
  primaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-e2e-primary-'));
  fs.chmodSync(primaryDir, 0o755);
  const out = execFileSync(path.join(repoRoot, 'scripts/pg-test-cluster.sh'), ['start', primaryDir], { encoding: 'utf8' });
  primaryPort = Number(out.match(/127\.0\.0\.1:(\d+)\//)[1]);
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${primaryPort}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  primaryMaxConn = Number((await admin.query('SHOW max_connections')).rows[0].max_connections);
  await admin.end();
  standbyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-e2e-standby-'));
  fs.chmodSync(standbyDir, 0o755);
  if (process.getuid() === 0) execFileSync('chown', ['postgres:', standbyDir]);
  standbyPort = await freePort();
  // the standby as an operator makes one: a base backup that writes its own recovery settings
  asOwner(`${pgBin}/pg_basebackup`, ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres',
    '-D', `${standbyDir}/data`, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
  startStandby();
  const inRecovery = await onStandby('SELECT pg_is_in_recovery() AS r');
  assert.equal(inRecovery[0].r, true, 'the standby is in recovery (a hot standby)');

  plc = await startPlc();
  // a replica may lag by ten minutes here, so that a paused replay keeps serving its reads
  pds = await startPds({
    plcUrl: plc.url,
    env: { PDS_DATABASE_URL: primaryUrl(), PDS_DATABASE_REPLICA_URLS: standbyUrl(), PDS_DATABASE_REPLICA_MAX_LAG: '600000' },
  });
});

afterEach((t) => {
  if (t.passed) return;
  for (const p of [pds, laggy].filter(Boolean)) process.stderr.write(`\n--- pds log (${p.port}) ---\n${p.logTail(60)}\n`);
});

after(async () => {
  await pds?.stop();
  await laggy?.stop();
  await plc?.stop();
  try {
    stopStandby();
  } catch {
    // stopped by a test already
  }
  execFileSync(path.join(repoRoot, 'scripts/pg-test-cluster.sh'), ['stop', primaryDir], { stdio: 'ignore' });
  fs.rmSync(primaryDir, { recursive: true, force: true });
  fs.rmSync(standbyDir, { recursive: true, force: true });
});

const anon = () => new AtpAgent({ service: pds.url });
async function signingKey(did) {
  return (await (await fetch(`${plc.url}/${did}/data`)).json()).verificationMethods.atproto;
}
async function metric(p, name) {
  const res = await fetch(`${p.url}/metrics`, { headers: { authorization: p.adminAuth() } });
  assert.equal(res.status, 200);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(' ')[1]);
}
async function getRecordStatus(agent, did, rkey, headers) {
  try {
    await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey }, { headers });
    return 200;
  } catch (e) {
    return e.status;
  }
}

test('public reads come from the replica; the writer and a reader naming the rev read the primary', async () => {
  assert.match(fs.readFileSync(pds.logFile, 'utf8'), /reading public repository data from 1 replica/);
  const alice = await createAccount(pds);
  const first = await alice.agent.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: post('before the pause') });
  const firstKey = first.data.uri.split('/').pop();
  // the replica replays it within moments, and serves it (once the server has found it fresh)
  await waitFor(async () => {
    const before = await metric(pds, 'pds_replica_reads_total');
    return (await getRecordStatus(anon(), alice.did, firstKey)) === 200 && (await metric(pds, 'pds_replica_reads_total')) > before;
  }, { timeoutMs: 10000, what: 'the first post served by the replica' });

  await onStandby('SELECT pg_wal_replay_pause()');
  await waitFor(async () => (await onStandby('SELECT pg_get_wal_replay_pause_state() AS s'))[0].s === 'paused', { timeoutMs: 5000, what: 'replay paused' });
  const second = await alice.agent.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: post('after the pause') });
  const secondKey = second.data.uri.split('/').pop();
  const rev = second.data.commit.rev;

  // anonymous: the replica answers, without the new post
  const servedBefore = await metric(pds, 'pds_replica_reads_total');
  assert.equal(await getRecordStatus(anon(), alice.did, secondKey), 400, 'the replica has not replayed the post');
  const listed = await anon().com.atproto.repo.listRecords({ repo: alice.did, collection: 'app.bsky.feed.post' });
  assert.deepEqual(listed.data.records.map((r) => r.uri), [first.data.uri]);
  const latest = await anon().com.atproto.sync.getLatestCommit({ did: alice.did });
  assert.notEqual(latest.data.rev, rev, 'the replica still has the older commit');
  const car = await anon().com.atproto.sync.getRepo({ did: alice.did });
  const verified = await verifyRepoCar(new Uint8Array(car.data), alice.did, await signingKey(alice.did));
  const paths = verified.creates.map((c) => `${c.collection}/${c.rkey}`);
  assert.ok(paths.includes(`app.bsky.feed.post/${firstKey}`), 'the replica\'s export verifies and has the first post');
  assert.ok(!paths.includes(`app.bsky.feed.post/${secondKey}`), 'and not the post written after the pause');

  assert.equal((await metric(pds, 'pds_replica_reads_total')) - servedBefore, 4, 'those four reads were the replica\'s');

  // the owner, signed in: the primary answers
  assert.equal(await getRecordStatus(alice.agent, alice.did, secondKey), 200);
  const own = await alice.agent.com.atproto.repo.listRecords({ repo: alice.did, collection: 'app.bsky.feed.post' });
  assert.equal(own.data.records.length, 2);
  // a reader naming the rev it saw: the primary answers
  assert.equal(await getRecordStatus(anon(), alice.did, secondKey, { 'atproto-repo-rev': rev }), 200);

  assert.equal((await metric(pds, 'pds_replica_reads_total')) - servedBefore, 4, 'none of those was the replica\'s');

  await onStandby('SELECT pg_wal_replay_resume()');
  await waitFor(async () => (await getRecordStatus(anon(), alice.did, secondKey)) === 200, { timeoutMs: 10000, what: 'the second post on the replica after replay resumed' });
});

test('a replica further behind than the allowed lag, or stopped, leaves its reads to the primary', async () => {
  // a second process on the same database that allows half a second of lag
  laggy = await startPds({
    plcUrl: plc.url,
    env: { PDS_DATABASE_URL: primaryUrl(), PDS_DATABASE_REPLICA_URLS: standbyUrl(), PDS_DATABASE_REPLICA_MAX_LAG: '500' },
  });
  const bob = await createAccount(laggy);
  await onStandby('SELECT pg_wal_replay_pause()');
  const written = await bob.agent.com.atproto.repo.createRecord({ repo: bob.did, collection: 'app.bsky.feed.post', record: post('while paused') });
  const rkey = written.data.uri.split('/').pop();
  const fallbacksBefore = await metric(laggy, 'pds_replica_fallbacks_total');
  await sleep(1500); // past the allowed lag: the replica is stale for that process
  const reader = new AtpAgent({ service: laggy.url });
  assert.equal(await getRecordStatus(reader, bob.did, rkey), 200, 'a stale replica: the primary answered');
  assert.ok((await metric(laggy, 'pds_replica_fallbacks_total')) > fallbacksBefore);
  // the first process allows ten minutes, so it still reads the paused replica
  assert.equal(await getRecordStatus(anon(), bob.did, rkey), 400);
  await onStandby('SELECT pg_wal_replay_resume()');

  // the standby stopped: every read still answers, from the primary
  stopStandby();
  for (const p of [pds, laggy]) {
    const agent = new AtpAgent({ service: p.url });
    for (let i = 0; i < 5; i++) {
      assert.equal(await getRecordStatus(agent, bob.did, rkey), 200, `read ${i} on port ${p.port} with the standby down`);
      const listed = await agent.com.atproto.repo.listRecords({ repo: bob.did, collection: 'app.bsky.feed.post' });
      assert.equal(listed.data.records.length, 1);
    }
  }
  assert.match(fs.readFileSync(pds.logFile, 'utf8'), /replica 1 of PDS_DATABASE_REPLICA_URLS: (not answering|behind)/);
  // and back: once the standby runs again, the replica serves again
  startStandby();
  const before = await metric(pds, 'pds_replica_reads_total');
  await waitFor(async () => {
    await getRecordStatus(anon(), bob.did, rkey);
    return (await metric(pds, 'pds_replica_reads_total')) > before;
  }, { timeoutMs: 15000, what: 'reads served by the restarted replica' });
});

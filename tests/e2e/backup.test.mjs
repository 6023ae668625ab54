// Backup that loses nothing: `pdsadmin backup` while 8 clients write (posts, some with
// images), `verify-backup` (and its refusal of a damaged copy), `restore` into a new data
// directory and an empty database, and a server started on it: every write acknowledged
// before the backup began is there, every repository exports and verifies with
// @atproto/repo, every blob matches its CID, and the firehose continues from the restored
// head.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { CID } from 'multiformats/cid';
import { verifyRepoCar } from '@atproto/repo';
import { createAccount, createTestDatabase, startPds, startPlc } from './lib/index.mjs';
import { readFirehose, runPdsadmin } from './lib/ops.mjs';

const CLIENTS = 8;
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c63f8cfc0f01f0005ff02ff' + 'a4b5b8f50000000049454e44ae426082',
  'hex',
);

let plc;
let pds;
let restored;
let tmp;
let envFile;
let backupDir;
let restoredDb;
let privateServer;
const clients = [];
const acked = []; // { did, uri, cid, at, blob? }
let stopWriting = false;
let backupStartedAt = 0;

async function writer(c, n) {
  let i = 0;
  while (!stopWriting) {
    i++;
    let blob;
    if (i % 5 === 0) {
      // a distinct image each time: its own blob
      const bytes = Buffer.concat([PNG, Buffer.from(`${n}-${i}`)]);
      blob = (await c.agent.uploadBlob(bytes, { encoding: 'image/png' })).data.blob;
    }
    const record = { $type: 'app.bsky.feed.post', text: `client ${n} post ${i}`, createdAt: new Date().toISOString() };
    if (blob) record.embed = { $type: 'app.bsky.embed.images', images: [{ image: blob, alt: '' }] };
    const res = await c.agent.com.atproto.repo.createRecord({ repo: c.did, collection: 'app.bsky.feed.post', record });
    acked.push({ did: c.did, uri: res.data.uri, cid: res.data.cid, at: Date.now(), blob: blob?.ref?.toString() });
  }
}

describe('backup and restore', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-backup-e2e-'));
    fs.chmodSync(tmp, 0o755); // a private cluster runs as the postgres user when we are root
    plc = await startPlc();
    pds = await startPds({ plcUrl: plc.url });
    for (let i = 0; i < CLIENTS; i++) clients.push(await createAccount(pds));
    // the server's env file, as an operator keeps it: backup takes it along
    const env = fs.readFileSync(`/proc/${pds.proc.pid}/environ`, 'utf8').split('\0').filter((l) => l.startsWith('PDS_'));
    envFile = path.join(tmp, 'pds.env');
    fs.writeFileSync(envFile, env.join('\n') + '\n', { mode: 0o600 });
    backupDir = path.join(tmp, 'backup');
  });
  after(async () => {
    stopWriting = true;
    await privateServer?.stop();
    await restored?.stop();
    await pds?.stop();
    await restoredDb?.drop();
    await plc?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('backup while 8 clients write; verify-backup passes and refuses a damaged copy', async () => {
    const writers = clients.map((c, n) => writer(c, n));
    await new Promise((r) => setTimeout(r, 1500));
    backupStartedAt = Date.now();
    const t0 = performance.now();
    const res = await runPdsadmin(['backup', backupDir], { env: { PDS_ENV_FILE: envFile } });
    const took = performance.now() - t0;
    const during = acked.filter((w) => w.at > backupStartedAt).length;
    await new Promise((r) => setTimeout(r, 500));
    stopWriting = true;
    await Promise.all(writers);
    assert.equal(res.code, 0, res.stderr);
    console.log(`# backup took ${took.toFixed(0)} ms; ${acked.length} writes acknowledged in all, ${during} while it ran`);
    assert.ok(during > 0, 'clients kept writing while the backup ran');
    assert.match(res.stdout, /Backup written to/);
    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.format, 'pds-backup/1');
    assert.ok(manifest.files.some((f) => f.path === 'database.dump'));
    assert.ok(manifest.files.some((f) => f.path === 'secrets/pds.env'));
    assert.ok(manifest.blobs.length >= CLIENTS, `blobs: ${manifest.blobs.length}`);
    assert.equal(fs.statSync(backupDir).mode & 0o777, 0o700);

    const ok = await runPdsadmin(['verify-backup', backupDir], { env: { PDS_ENV_FILE: envFile } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /is whole/);
    // one flipped byte in one blob is found and named
    const victim = path.join(backupDir, manifest.blobs[0].path);
    const original = fs.readFileSync(victim);
    const bad = Buffer.from(original);
    bad[bad.length - 1] ^= 1;
    fs.writeFileSync(victim, bad);
    const damaged = await runPdsadmin(['verify-backup', backupDir], { env: { PDS_ENV_FILE: envFile } });
    assert.equal(damaged.code, 1);
    assert.match(damaged.stderr, new RegExp(`${manifest.blobs[0].path.replace(/[.]/g, '\\.')} does not match its CID`));
    fs.writeFileSync(victim, original);
    // as is an edited manifest
    const mpath = path.join(backupDir, 'manifest.json');
    const mtext = fs.readFileSync(mpath, 'utf8');
    fs.writeFileSync(mpath, mtext.replace('"accounts": ', '"accounts": 1'));
    const edited = await runPdsadmin(['verify-backup', backupDir], { env: { PDS_ENV_FILE: envFile } });
    assert.equal(edited.code, 1);
    assert.match(edited.stderr, /does not match manifest\.sha256/);
    fs.writeFileSync(mpath, mtext);
  });

  test('restore into a new data directory; the server on it has everything acknowledged before the backup', async () => {
    restoredDb = await createTestDatabase('pds_restored');
    const dataDir = path.join(tmp, 'restored-data');
    const env = { PDS_DATABASE_URL: restoredDb.url, PDS_DATA_DIRECTORY: dataDir, PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs') };
    // a non-empty target is refused
    fs.mkdirSync(path.join(tmp, 'busy'));
    fs.writeFileSync(path.join(tmp, 'busy', 'x'), 'x');
    const busy = await runPdsadmin(['restore', backupDir], { env: { ...env, PDS_DATA_DIRECTORY: path.join(tmp, 'busy') } });
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /is not empty/);
    const res = await runPdsadmin(['restore', backupDir], { env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Restored/);
    // and a second restore into the now full database is refused
    const again = await runPdsadmin(['restore', backupDir], { env: { ...env, PDS_DATA_DIRECTORY: path.join(tmp, 'other') } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty/);

    await pds.stop();
    // the server's secrets from the backup itself
    const secrets = Object.fromEntries(
      fs.readFileSync(path.join(backupDir, 'secrets/pds.env'), 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    restored = await startPds({
      plcUrl: plc.url,
      env: {
        ...env,
        PDS_JWT_SECRET: secrets.PDS_JWT_SECRET,
        PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: secrets.PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX,
      },
    });

    const before = acked.filter((w) => w.at < backupStartedAt);
    assert.ok(before.length > 20, `writes before the backup: ${before.length}`);
    const agent = restored.agent();
    for (const w of before) {
      const [, , did, coll, rkey] = w.uri.split('/');
      const r = await agent.com.atproto.repo.getRecord({ repo: did, collection: coll, rkey });
      assert.equal(r.data.cid, w.cid, w.uri);
    }
    // every blob acknowledged before the backup is served and hashes to its CID
    for (const w of before.filter((x) => x.blob)) {
      const r = await agent.com.atproto.sync.getBlob({ did: w.did, cid: w.blob });
      const cid = CID.parse(w.blob);
      const digest = crypto.createHash('sha256').update(Buffer.from(r.data)).digest();
      assert.deepEqual(Buffer.from(cid.multihash.digest), digest, w.blob);
    }
    // the restored database's records all belong to verifiable repositories
    for (const c of clients) {
      const car = new Uint8Array((await agent.com.atproto.sync.getRepo({ did: c.did })).data);
      const key = (await (await fetch(`${plc.url}/${c.did}/data`)).json()).verificationMethods.atproto;
      const verified = await verifyRepoCar(car, c.did, key);
      const posts = verified.creates.filter((op) => op.collection === 'app.bsky.feed.post').length;
      const mine = before.filter((w) => w.did === c.did).length;
      assert.ok(posts >= mine, `${c.did}: ${posts} posts in the repository, ${mine} acknowledged before`);
    }
    // accounts can sign in with their passwords
    await restored.agent().login({ identifier: clients[0].handle, password: clients[0].password });
  });

  test('the firehose continues from the restored head', async () => {
    const db = new pg.Client({ connectionString: restoredDb.url });
    await db.connect();
    const head = BigInt((await db.query('SELECT max(seq) AS h FROM repo_seq')).rows[0].h);
    await db.end();
    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, 'manifest.json'), 'utf8'));
    // events committed but not yet numbered at the moment are numbered by the restored
    // server's sequencer, right after the snapshot's head and in order
    assert.equal(head, BigInt(manifest.snapshot.headSeq) + BigInt(manifest.snapshot.unsequencedEvents),
      'the restored head is the snapshot head plus the events it had not numbered yet');
    const agent = restored.agent();
    await agent.login({ identifier: clients[1].handle, password: clients[1].password });
    const events = readFirehose(restored, { cursor: head.toString(), until: (ev) => ev.some((e) => e.header.t === '#commit') });
    await new Promise((r) => setTimeout(r, 200));
    await agent.post({ text: 'after the restore' });
    const got = await events;
    const commit = got.find((e) => e.header.t === '#commit');
    assert.ok(BigInt(commit.body.seq) > head, 'new events are numbered after the restored head');
    assert.equal(commit.body.repo, clients[1].did);
  });

  test('restore into a new private cluster, and back up from a running one', async () => {
    const dataDir = path.join(tmp, 'private-data');
    // PDS_DATABASE_URL empty counts as unset: the private cluster under the data directory
    const env = { PDS_DATABASE_URL: '', PDS_DATA_DIRECTORY: dataDir, PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs') };
    const res = await runPdsadmin(['restore', backupDir], { env, timeoutMs: 120000 });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.ok(fs.existsSync(path.join(dataDir, 'postgres')), 'a cluster was made under the data directory');
    const secrets = Object.fromEntries(
      fs.readFileSync(path.join(backupDir, 'secrets/pds.env'), 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    privateServer = await startPds({
      plcUrl: plc.url,
      startTimeoutMs: 90000,
      env: {
        ...env,
        PDS_JWT_SECRET: secrets.PDS_JWT_SECRET,
        PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: secrets.PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX,
      },
    });
    const w = acked.find((x) => x.at < backupStartedAt);
    const [, , did, coll, rkey] = w.uri.split('/');
    const r = await privateServer.agent().com.atproto.repo.getRecord({ repo: did, collection: coll, rkey });
    assert.equal(r.data.cid, w.cid);
    // a backup of the private cluster, through its socket, while it runs
    const second = path.join(tmp, 'backup-of-private');
    const b = await runPdsadmin(['backup', second], { env });
    assert.equal(b.code, 0, b.stderr);
    const v = await runPdsadmin(['verify-backup', second], { env });
    assert.equal(v.code, 0, v.stderr);
    const m = JSON.parse(fs.readFileSync(path.join(second, 'manifest.json'), 'utf8'));
    assert.equal(m.snapshot.accounts, CLIENTS);
  });
});

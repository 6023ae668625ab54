// com.atproto.repo.importRepo end to end. Creating an account that keeps its DID on a second
// server needs createAccount with service auth (another issue), so the migration path is
// exercised honestly on one server: an account exports its repository (sync.getRepo), keeps
// writing, then imports the export, which must put the repository back exactly as exported
// (records, commit, a verifiable export, a #sync event), and importing it again changes
// nothing. The blob a re-imported record references but the server no longer has shows up
// in listMissingBlobs until it is uploaded again (migration step 5). Bad inputs change
// nothing: a truncated CAR, a CAR with a corrupted block, a commit re-signed with a key that
// is not the account's, and (on a second server) a repository of another DID.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { Secp256k1Keypair } from '@atproto/crypto';
import { cborToLex, readCar, blocksToCarFile, signCommit, verifyRepoCar } from '@atproto/repo';
import pg from 'pg';
import { createAccount, startPds, useTestEnv, waitFor } from './lib/index.mjs';

const env = useTestEnv({ pds: { env: { PDS_BLOB_SWEEP_INTERVAL: '200' } } });

async function dbQuery(sql, params) {
  const client = new pg.Client({ connectionString: env.pds.dbUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function signingKey(did) {
  const data = await (await fetch(`${env.plc.url}/${did}/data`)).json();
  return data.verificationMethods.atproto;
}

async function exportRepo(agent, did) {
  return new Uint8Array((await agent.com.atproto.sync.getRepo({ did })).data);
}

async function importRepo(agent, car) {
  return agent.com.atproto.repo.importRepo(car, { encoding: 'application/vnd.ipld.car' });
}

async function xrpcError(promise) {
  try {
    await promise;
  } catch (err) {
    return { status: err.status, error: err.error, message: err.message };
  }
  assert.fail('expected an XRPC error');
}

async function recordUris(agent, did, collection = 'app.bsky.feed.post') {
  const res = await agent.com.atproto.repo.listRecords({ repo: did, collection, limit: 100 });
  return res.data.records.map((r) => r.uri).sort();
}

async function state(agent, did) {
  const head = await agent.com.atproto.sync.getLatestCommit({ did });
  return { head: head.data, posts: await recordUris(agent, did) };
}

test('importing an earlier export restores it exactly; importing again is harmless', async () => {
  const { agent, did } = await createAccount(env.pds);
  for (let i = 0; i < 8; i++) await agent.post({ text: `post ${i}` });
  const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(2000)]);
  const blob = (await agent.uploadBlob(image, { encoding: 'image/png' })).data.blob;
  const withImage = await agent.post({
    text: 'image',
    embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: blob }] },
  });
  const exported = await exportRepo(agent, did);
  const before = await state(agent, did);

  // the repository moves on: a new post, and the image post (and so its blob) goes away
  await agent.post({ text: 'written after the export' });
  await agent.deletePost(withImage.uri);
  const cid = blob.ref.toString();
  await waitFor(async () => {
    const r = await fetch(`${env.pds.url}/xrpc/com.atproto.sync.getBlob?did=${did}&cid=${cid}`);
    return r.status === 400;
  }, { what: 'the blob being gone' });
  assert.notDeepEqual(await state(agent, did), before);

  const seqBefore = await dbQuery("SELECT count(*)::int AS n FROM repo_seq WHERE did = $1 AND event_type = 'sync'", [did]);
  await importRepo(agent, exported);
  assert.deepEqual(await state(agent, did), before, 'records and commit are the exported ones');
  const seqAfter = await dbQuery("SELECT count(*)::int AS n FROM repo_seq WHERE did = $1 AND event_type = 'sync'", [did]);
  assert.equal(seqAfter[0].n, seqBefore[0].n + 1, 'one #sync event');
  const verified = await verifyRepoCar(await exportRepo(agent, did), did, await signingKey(did));
  assert.equal(verified.creates.length, 9, 'the re-export verifies and holds the 9 posts');
  const [{ repo_bytes }] = await dbQuery('SELECT repo_bytes FROM account WHERE did = $1', [did]);
  const [{ sum }] = await dbQuery('SELECT sum(length(data))::bigint AS sum FROM repo_block WHERE did = $1', [did]);
  assert.equal(Number(repo_bytes), Number(sum), 'repo_bytes counts the stored blocks');

  // the image post is back, its blob is not: listMissingBlobs names it until it is uploaded
  const missing = await agent.com.atproto.repo.listMissingBlobs({});
  assert.deepEqual(missing.data.blobs, [{ cid, recordUri: withImage.uri }]);
  await agent.uploadBlob(image, { encoding: 'image/png' });
  assert.deepEqual((await agent.com.atproto.repo.listMissingBlobs({})).data.blobs, []);
  const got = await fetch(`${env.pds.url}/xrpc/com.atproto.sync.getBlob?did=${did}&cid=${cid}`);
  assert.equal(got.status, 200, 'an upload a record already references is permanent at once');
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(image));

  await importRepo(agent, exported);
  assert.deepEqual(await state(agent, did), before, 'a second import changes nothing');
  // and the account writes on from there, with a newer rev
  const next = await agent.post({ text: 'after the import' });
  const head = (await agent.com.atproto.sync.getLatestCommit({ did })).data;
  assert.ok(head.rev > before.head.rev);
  assert.ok((await recordUris(agent, did)).includes(next.uri));
});

test('an incremental CAR (getRepo since) is completed by the blocks already stored', async () => {
  const { agent, did } = await createAccount(env.pds);
  const first = [];
  for (let i = 0; i < 6; i++) first.push(await agent.post({ text: `early ${i}` }));
  const full = await exportRepo(agent, did);
  const s1 = await state(agent, did);
  for (let i = 0; i < 4; i++) await agent.post({ text: `late ${i}` });
  await agent.deletePost(first[2].uri);
  const s2 = await state(agent, did);
  const since = new Uint8Array((await agent.com.atproto.sync.getRepo({ did, since: s1.head.rev })).data);
  const { blocks } = await readCar(since);
  const { blocks: all } = await readCar(await exportRepo(agent, did));
  assert.ok(blocks.size < all.size, 'the incremental CAR lacks blocks unchanged since the first export');

  await importRepo(agent, full);
  assert.deepEqual(await state(agent, did), s1);
  await importRepo(agent, since);
  assert.deepEqual(await state(agent, did), s2);
  const verified = await verifyRepoCar(await exportRepo(agent, did), did, await signingKey(did));
  assert.equal(verified.creates.length, 9);
});

test('truncated, corrupted, foreign-signed and other-DID CARs are refused and change nothing', async () => {
  const { agent, did } = await createAccount(env.pds);
  for (let i = 0; i < 5; i++) await agent.post({ text: `kept ${i}` });
  const car = await exportRepo(agent, did);
  // Change the repository so that the exported commit's tree root is gone from the store:
  // an import may take blocks it lacks from the current repository (as the reference's
  // verifyDiff does), so a CAR of the old commit alone would be complete while its tree is
  // still stored. Deleting a record inside the tree rewrites the path from the root; adding
  // one can leave the old root whole, as a subtree of a taller new root (1 time in ~16).
  const uris = await recordUris(agent, did);
  await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: uris[2].split('/').pop() });
  const before = await state(agent, did);

  const truncated = car.subarray(0, Math.floor(car.length / 2));
  let err = await xrpcError(importRepo(agent, truncated));
  assert.equal(err.status, 400);
  assert.match(err.message, /CAR/);

  const corrupted = Uint8Array.from(car);
  corrupted[corrupted.length - 5] ^= 0xff; // inside the last block: its CID no longer matches
  err = await xrpcError(importRepo(agent, corrupted));
  assert.equal(err.status, 400);

  const { roots, blocks } = await readCar(car);
  const { sig, ...unsigned } = cborToLex(blocks.get(roots[0]));
  const forged = await signCommit(unsigned, await Secp256k1Keypair.create());
  const forgedRoot = await blocks.add(forged);
  err = await xrpcError(importRepo(agent, await blocksToCarFile(forgedRoot, blocks)));
  assert.equal(err.status, 400);
  assert.match(err.message, /not signed by the account's key/);

  const noRecords = await readCar(car);
  const commit = cborToLex(noRecords.blocks.get(noRecords.roots[0]));
  const onlyCommit = new (noRecords.blocks.constructor)();
  const root = await onlyCommit.add(commit);
  err = await xrpcError(importRepo(agent, await blocksToCarFile(root, onlyCommit)));
  assert.equal(err.status, 400);
  assert.match(err.message, /incomplete|missing/);

  assert.deepEqual(await state(agent, did), before, 'nothing changed');

  // another server: a fresh account there may not take this DID's repository
  const pds2 = await startPds({ plcUrl: env.plc.url });
  try {
    const other = await createAccount(pds2);
    err = await xrpcError(importRepo(other.agent, car));
    assert.equal(err.status, 400);
    assert.match(err.message, new RegExp(`commit is for ${did}`));
  } finally {
    await pds2.stop();
  }
});

test('importRepo needs a full-access session and accepted imports', async () => {
  const account = await createAccount(env.pds);
  const car = await exportRepo(account.agent, account.did);
  const anon = await fetch(`${env.pds.url}/xrpc/com.atproto.repo.importRepo`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ipld.car' },
    body: car,
  });
  assert.equal(anon.status, 401);
  const ap = await account.agent.com.atproto.server.createAppPassword({ name: 'imp' });
  const appAgent = (await import('./lib/index.mjs')).login(env.pds, account.handle, ap.data.password);
  const err = await xrpcError(importRepo(await appAgent, car));
  assert.equal(err.status, 400);
  assert.equal(err.error, 'InvalidToken');

  const closed = await startPds({ plcUrl: env.plc.url, env: { PDS_ACCEPTING_REPO_IMPORTS: 'false' } });
  try {
    const other = await createAccount(closed);
    const e = await xrpcError(importRepo(other.agent, await exportRepo(other.agent, other.did)));
    assert.equal(e.status, 400);
    assert.equal(e.message, 'Service is not accepting repo imports');
  } finally {
    await closed.stop();
  }
});

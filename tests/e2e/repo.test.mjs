// Repository writes and reads through @atproto/api, the exported repository verified with
// @atproto/repo (signature against the DID document's key, MST, every record), record
// proofs, Lexicon validation, and the errors of bad writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cborToLexRecord, readCar, verifyRepoCar, verifyRecords, verifyProofs } from '@atproto/repo';
import { createAccount, useTestEnv } from './lib/index.mjs';

// validation uses the schemas compiled into the server (validation.test.mjs has the rest)
const env = useTestEnv();

/** The #atproto did:key of did, from the PLC directory the server registered it in. */
async function signingKey(did) {
  const data = await (await fetch(`${env.plc.url}/${did}/data`)).json();
  return data.verificationMethods.atproto;
}

async function xrpcError(promise) {
  try {
    await promise;
  } catch (err) {
    return { status: err.status, error: err.error, message: err.message };
  }
  assert.fail('expected an XRPC error');
}

test('posts, profile, applyWrites and deletes are all in the verified export', async () => {
  const { agent, did } = await createAccount(env.pds);
  const posts = [];
  for (let i = 0; i < 12; i++) posts.push(await agent.post({ text: `post ${i}` }));
  await agent.com.atproto.repo.putRecord({
    repo: did,
    collection: 'app.bsky.actor.profile',
    rkey: 'self',
    record: { $type: 'app.bsky.actor.profile', displayName: 'Alice' },
  });
  const aw = await agent.com.atproto.repo.applyWrites({
    repo: did,
    writes: [
      { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: { $type: 'app.bsky.feed.post', text: 'batched', createdAt: new Date().toISOString() } },
      { $type: 'com.atproto.repo.applyWrites#update', collection: 'app.bsky.actor.profile', rkey: 'self', value: { $type: 'app.bsky.actor.profile', displayName: 'Alice B.' } },
      { $type: 'com.atproto.repo.applyWrites#delete', collection: 'app.bsky.feed.post', rkey: posts[0].uri.split('/').pop() },
    ],
  });
  assert.equal(aw.data.results.length, 3);
  assert.equal(aw.data.results[0].$type, 'com.atproto.repo.applyWrites#createResult');
  assert.equal(aw.data.results[2].$type, 'com.atproto.repo.applyWrites#deleteResult');
  await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: posts[1].uri.split('/').pop() });

  const car = await agent.com.atproto.sync.getRepo({ did });
  const bytes = new Uint8Array(car.data);
  const verified = await verifyRepoCar(bytes, did, await signingKey(did));
  const { blocks } = await readCar(bytes);
  const byPath = new Map(
    verified.creates.map((c) => [`${c.collection}/${c.rkey}`, { ...c, record: cborToLexRecord(blocks.get(c.cid)) }]),
  );
  assert.equal(byPath.size, 12 + 1 + 1 - 2, 'records in the export');
  assert.equal(byPath.get('app.bsky.actor.profile/self').record.displayName, 'Alice B.');
  assert.ok(!byPath.has(`app.bsky.feed.post/${posts[0].uri.split('/').pop()}`));

  // the export agrees with listRecords, record by record
  const listed = [];
  let cursor;
  do {
    const page = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 4, cursor });
    listed.push(...page.data.records);
    cursor = page.data.cursor;
  } while (cursor);
  assert.equal(listed.length, 11);
  for (const r of listed) {
    const c = byPath.get(`app.bsky.feed.post/${r.uri.split('/').pop()}`);
    assert.ok(c, `${r.uri} is in the export`);
    assert.equal(c.cid.toString(), r.cid);
    assert.deepEqual(c.record.text, r.value.text);
  }
  const rkeys = listed.map((r) => r.uri.split('/').pop());
  assert.deepEqual(rkeys, [...rkeys].sort().reverse(), 'newest first by default');
  const rev = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', reverse: true, limit: 100 });
  assert.deepEqual(rev.data.records.map((r) => r.uri.split('/').pop()), [...rkeys].sort());
});

test('getRecord, describeRepo, getLatestCommit and record proofs', async () => {
  const { agent, did, handle } = await createAccount(env.pds);
  const res = await agent.post({ text: 'proven' });
  const rkey = res.uri.split('/').pop();
  const got = await agent.com.atproto.repo.getRecord({ repo: handle, collection: 'app.bsky.feed.post', rkey });
  assert.equal(got.data.cid, res.cid);
  assert.equal(got.data.value.text, 'proven');
  assert.equal(got.data.uri, res.uri);

  const desc = await agent.com.atproto.repo.describeRepo({ repo: did });
  assert.equal(desc.data.did, did);
  assert.equal(desc.data.handle, handle);
  assert.equal(desc.data.handleIsCorrect, true);
  assert.deepEqual(desc.data.collections, ['app.bsky.feed.post']);

  const latest = await agent.com.atproto.sync.getLatestCommit({ did });
  const head = await fetch(`${env.pds.url}/xrpc/com.atproto.sync.getHead?did=${did}`);
  assert.equal((await head.json()).root, latest.data.cid, 'deprecated getHead names the commit');
  const checkout = await fetch(`${env.pds.url}/xrpc/com.atproto.sync.getCheckout?did=${did}`);
  await verifyRepoCar(new Uint8Array(await checkout.arrayBuffer()), did, await signingKey(did));
  const status = await agent.com.atproto.sync.getRepoStatus({ did });
  assert.equal(status.data.active, true);
  assert.equal(status.data.rev, latest.data.rev);

  const key = await signingKey(did);
  const proof = await agent.com.atproto.sync.getRecord({ did, collection: 'app.bsky.feed.post', rkey });
  const claims = await verifyRecords(new Uint8Array(proof.data), did, key);
  assert.equal(claims.length, 1);
  assert.equal(claims[0].record.text, 'proven');
  // absence is provable too
  const none = await agent.com.atproto.sync.getRecord({ did, collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz' });
  const checked = await verifyProofs(new Uint8Array(none.data), [{ collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz', cid: null }], did, key);
  assert.equal(checked.verified.length, 1);

  const missing = await xrpcError(agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz' }));
  assert.equal(missing.status, 400);
  assert.equal(missing.error, 'RecordNotFound');
});

test('getRepo since a revision holds only the newer blocks', async () => {
  const { agent, did } = await createAccount(env.pds);
  await agent.post({ text: 'before' });
  const mid = await agent.com.atproto.sync.getLatestCommit({ did });
  const after = await agent.post({ text: 'after' });
  const diff = await agent.com.atproto.sync.getRepo({ did, since: mid.data.rev });
  const full = await agent.com.atproto.sync.getRepo({ did });
  assert.ok(diff.data.length < full.data.length, 'the diff is smaller than the repo');
  const { blocks } = await readCar(new Uint8Array(diff.data));
  const cids = blocks.entries().map((b) => b.cid.toString());
  assert.ok(cids.includes(after.cid), 'the new record is in the diff');
});

test('swaps, duplicate creates, missing records and limits are refused cleanly', async () => {
  const { agent, did } = await createAccount(env.pds);
  const first = await agent.post({ text: 'one' });
  const rkey = first.uri.split('/').pop();
  const latest = await agent.com.atproto.sync.getLatestCommit({ did });
  const head = await fetch(`${env.pds.url}/xrpc/com.atproto.sync.getHead?did=${did}`);
  assert.equal((await head.json()).root, latest.data.cid, 'deprecated getHead names the commit');
  const checkout = await fetch(`${env.pds.url}/xrpc/com.atproto.sync.getCheckout?did=${did}`);
  await verifyRepoCar(new Uint8Array(await checkout.arrayBuffer()), did, await signingKey(did));

  let e = await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'x', createdAt: new Date().toISOString() }, swapCommit: first.cid }));
  assert.equal(e.error, 'InvalidSwap');
  e = await xrpcError(agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey, record: { $type: 'app.bsky.feed.post', text: 'y', createdAt: new Date().toISOString() }, swapRecord: null }));
  assert.equal(e.error, 'InvalidSwap');
  e = await xrpcError(agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey, swapRecord: latest.data.cid }));
  assert.equal(e.error, 'InvalidSwap');
  const ok = await agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey, record: { $type: 'app.bsky.feed.post', text: 'edited', createdAt: new Date().toISOString() }, swapRecord: first.cid, swapCommit: latest.data.cid });
  assert.ok(ok.data.commit);

  e = await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', rkey, record: { $type: 'app.bsky.feed.post', text: 'dup', createdAt: new Date().toISOString() } }));
  assert.equal(e.status, 400);
  e = await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'not an nsid', record: { text: 'x' } }));
  assert.equal(e.status, 400);
  assert.equal(e.error, 'InvalidRequest');
  e = await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: 'bad key!', record: { text: 'x' } }));
  assert.equal(e.error, 'InvalidRequest');
  const writes = Array.from({ length: 201 }, (_, i) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'com.example.thing', rkey: `k${i}`, value: { n: i } }));
  e = await xrpcError(agent.com.atproto.repo.applyWrites({ repo: did, writes }));
  assert.equal(e.status, 400);
  e = await xrpcError(agent.com.atproto.repo.applyWrites({ repo: did, writes: [{ $type: 'com.atproto.repo.applyWrites#delete', collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz' }] }));
  assert.equal(e.status, 400);
  // deleting a record that is not there is a no-op, as in the reference
  const noop = await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz' });
  assert.equal(noop.data.commit, undefined);
  // 200 writes is the limit, and allowed
  const many = await agent.com.atproto.repo.applyWrites({ repo: did, writes: writes.slice(0, 200) });
  assert.equal(many.data.results.length, 200);
});

test('writes need the owner: no token, a bad token, and another repo are refused', async () => {
  const a = await createAccount(env.pds);
  const b = await createAccount(env.pds);
  const body = JSON.stringify({ repo: a.did, collection: 'app.bsky.feed.post', record: { text: 'x' } });
  const url = `${env.pds.url}/xrpc/com.atproto.repo.createRecord`;
  let res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, 'AuthMissing');
  res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' }, body });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'InvalidToken');
  const e = await xrpcError(b.agent.com.atproto.repo.createRecord({ repo: a.did, collection: 'app.bsky.feed.post', record: { text: 'x' } }));
  assert.equal(e.status, 401);
  res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${a.session.accessJwt}` }, body: '{"repo":' });
  assert.equal(res.status, 400);
});

test('validate: official schemas are enforced, unknown collections pass as unknown', async () => {
  const { agent, did } = await createAccount(env.pds);
  const good = await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'valid', createdAt: new Date().toISOString() } });
  assert.equal(good.data.validationStatus, 'valid');
  let e = await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'x'.repeat(3001), createdAt: new Date().toISOString() } }));
  assert.equal(e.status, 400);
  e = await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'no date' } }));
  assert.equal(e.status, 400);
  const unknown = await agent.com.atproto.repo.createRecord({ repo: did, collection: 'com.example.thing', record: { anything: 1 } });
  assert.equal(unknown.data.validationStatus, 'unknown');
  e = await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'com.example.thing', validate: true, record: { anything: 1 } }));
  assert.equal(e.status, 400);
  const skipped = await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', validate: false, record: { $type: 'app.bsky.feed.post', text: 'no date, unchecked' } });
  assert.equal(skipped.data.validationStatus, undefined); // the reference reports none
});

// Records are validated against the official schemas that ship inside the server, with no
// configuration (no PDS_LEXICON_DIR): what the reference PDS refuses is refused with its
// 400 InvalidRequest, known collections answer validationStatus "valid", unknown ones
// "unknown", validate:true on an unknown one "Unknown lexicon type", validate:false none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccount, useTestEnv } from './lib/index.mjs';

const env = useTestEnv();
const now = () => new Date().toISOString();
const strongRef = {
  uri: 'at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3kabcdefghij2',
  cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
};

async function xrpcError(promise) {
  try {
    await promise;
  } catch (err) {
    return { status: err.status, error: err.error, message: err.message };
  }
  assert.fail('expected an XRPC error');
}

test('a default server refuses the records the reference refuses', async () => {
  const { agent, did } = await createAccount(env.pds);
  const create = (collection, record, extra = {}) =>
    agent.com.atproto.repo.createRecord({ repo: did, collection, record, ...extra });
  const bad = [
    ['app.bsky.feed.post', { $type: 'app.bsky.feed.post', text: 'a'.repeat(400 * 1024), createdAt: now() }],
    ['app.bsky.feed.post', { $type: 'app.bsky.feed.post', text: 'no createdAt' }],
    ['app.bsky.feed.post', { $type: 'app.bsky.feed.post', text: 5, createdAt: now() }],
    ['app.bsky.actor.profile', { $type: 'app.bsky.actor.profile', displayName: 'x'.repeat(10000) }, 'self'],
    ['app.bsky.feed.like', { $type: 'app.bsky.feed.like', subject: strongRef.uri, createdAt: now() }],
  ];
  for (const [collection, record, rkey] of bad) {
    const e = await xrpcError(create(collection, record, rkey ? { rkey } : {}));
    assert.equal(e.status, 400, `${collection}: ${e.message}`);
    assert.equal(e.error, 'InvalidRequest');
    assert.match(e.message, new RegExp(`^Invalid ${collection.replaceAll('.', '\\.')} record: `));
  }
  // putRecord and applyWrites go through the same check
  let e = await xrpcError(
    agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { displayName: 'x'.repeat(10000) } }),
  );
  assert.equal(e.error, 'InvalidRequest');
  e = await xrpcError(
    agent.com.atproto.repo.applyWrites({
      repo: did,
      writes: [{ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: { text: 5, createdAt: now() } }],
    }),
  );
  assert.equal(e.error, 'InvalidRequest');
  // a profile's key is literal:self
  e = await xrpcError(create('app.bsky.actor.profile', { displayName: 'Alice' }, { rkey: 'other' }));
  assert.match(e.message, /^Invalid record key for app\.bsky\.actor\.profile/);
  // nothing of it was stored
  const listed = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post' });
  assert.equal(listed.data.records.length, 0);
});

test('validationStatus as the reference answers it', async () => {
  const { agent, did } = await createAccount(env.pds);
  const create = (collection, record, extra = {}) =>
    agent.com.atproto.repo.createRecord({ repo: did, collection, record, ...extra });
  const post = { $type: 'app.bsky.feed.post', text: 'hello', createdAt: now() };
  assert.equal((await create('app.bsky.feed.post', post)).data.validationStatus, 'valid');
  assert.equal((await create('app.bsky.feed.post', post, { validate: true })).data.validationStatus, 'valid');
  assert.equal((await create('app.bsky.feed.like', { subject: strongRef, createdAt: now() })).data.validationStatus, 'valid');
  assert.equal((await create('com.example.thing', { anything: 1 })).data.validationStatus, 'unknown');
  const e = await xrpcError(create('com.example.thing', { anything: 1 }, { validate: true }));
  assert.equal(e.status, 400);
  assert.equal(e.error, 'InvalidRequest');
  assert.equal(e.message, 'Unknown lexicon type: com.example.thing');
  // validate:false stores what it is given and reports no status at all
  const res = await fetch(`${env.pds.url}/xrpc/com.atproto.repo.createRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.session.accessJwt}` },
    body: JSON.stringify({ repo: did, collection: 'app.bsky.feed.post', validate: false, record: { text: 5 } }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.ok(!('validationStatus' in body), JSON.stringify(body));
  // but a $type that is not the collection is refused whatever validate says
  const m = await xrpcError(create('app.bsky.feed.post', { $type: 'app.bsky.feed.like', text: 'x' }, { validate: false }));
  assert.equal(m.message, 'Invalid $type: expected app.bsky.feed.post, got app.bsky.feed.like');
  const ap = await agent.com.atproto.repo.applyWrites({
    repo: did,
    writes: [
      { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post },
      { $type: 'com.atproto.repo.applyWrites#create', collection: 'com.example.thing', value: { n: 1 } },
    ],
  });
  assert.deepEqual(ap.data.results.map((r) => r.validationStatus), ['valid', 'unknown']);
});

// Who may read a repository that is not active. One table: every public read (repo.getRecord,
// listRecords, describeRepo, every sync.* read, getBlob, listBlobs, the firehose replay)
// against every account state (active, deactivated, taken down, deleted, migrating in and
// not yet active), asked anonymously, by the account itself, by the admin, and (taken down)
// with the takendown-scope session a taken-down account gets at sign-in. Each expected
// answer is what the reference PDS answers, read from its code (packages/pds/src/api/com/
// atproto/{repo,sync}/*.ts, sync/util.ts assertRepoAvailability, account-manager
// getDidForActor, auth-verifier isUserOrAdmin, sequencer.ts sequenceAccountDeletion); no
// AppView is configured here (with one, repo.getRecord forwards: read-after-write.test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import pg from 'pg';
import { Secp256k1Keypair } from '@atproto/crypto';
import { decodeAll } from '@atproto/lex-cbor';
import { createServiceJwt } from '@atproto/xrpc-server';
import * as plc from '@did-plc/lib';
import { createAccount, randomHex, useTestEnv, waitFor } from './lib/index.mjs';

const env = useTestEnv();
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 7)]);
const STATES = ['active', 'deactivated', 'takendown', 'deleted', 'migrating'];
const acct = {}; // state -> { did, rkey, blob, commit, self (access JWT), tdSession? }

async function call(nsid, params, auth) {
  const url = new URL(`${env.pds.url}/xrpc/${nsid}`);
  for (const [k, v] of Object.entries(params)) {
    for (const x of [].concat(v)) url.searchParams.append(k, x);
  }
  const res = await fetch(url, { headers: auth ? { authorization: auth } : {} });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer());
  return { status: res.status, body };
}

async function admin(nsid, body) {
  const res = await fetch(`${env.pds.url}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: env.pds.adminAuth() },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${nsid}: ${await res.clone().text()}`);
}

/** An account with a post whose image embed makes its blob permanent. */
async function populated() {
  const a = await createAccount(env.pds);
  const up = await a.agent.uploadBlob(PNG, { encoding: 'image/png' });
  const rec = await a.agent.com.atproto.repo.createRecord({
    repo: a.did,
    collection: 'app.bsky.feed.post',
    record: {
      $type: 'app.bsky.feed.post',
      text: 'with an image',
      createdAt: new Date().toISOString(),
      embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: up.data.blob }] },
    },
  });
  const head = await a.agent.com.atproto.sync.getLatestCommit({ did: a.did });
  return {
    did: a.did,
    handle: a.handle,
    password: a.password,
    rkey: rec.data.uri.split('/').pop(),
    blob: up.data.blob.ref.toString(),
    commit: head.data.cid,
    self: `Bearer ${a.session.accessJwt}`,
    agent: a.agent,
  };
}

/** A did:plc that signs up here with service auth from its old key: created deactivated. */
async function migratingIn() {
  const plcClient = new plc.Client(env.plc.url);
  const rotation = await Secp256k1Keypair.create();
  const oldKey = await Secp256k1Keypair.create();
  const did = await plcClient.createDid({
    signingKey: oldKey.did(),
    handle: `mig${randomHex(3)}.elsewhere.example.com`,
    pds: 'https://old-pds.example.com',
    rotationKeys: [rotation.did()],
    signer: rotation,
  });
  const serviceDid = (await env.pds.agent().com.atproto.server.describeServer()).data.did;
  const jwt = await createServiceJwt({ iss: did, aud: serviceDid, lxm: 'com.atproto.server.createAccount', keypair: oldKey });
  const res = await env.pds.agent().com.atproto.server.createAccount(
    { did, handle: `mig${randomHex(4)}.test`, email: `m${randomHex(4)}@example.com`, password: `pw-${randomHex(6)}` },
    { headers: { authorization: `Bearer ${jwt}` } },
  );
  const self = `Bearer ${res.data.accessJwt}`;
  const head = await call('com.atproto.sync.getLatestCommit', { did }, self);
  assert.equal(head.status, 200, JSON.stringify(head.body));
  // its repository is the empty one createAccount made: no record, no permanent blob
  return { did, rkey: '3jzfcijpj2z2a', blob: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', commit: head.body.cid, self };
}

// once, by the first test that runs (the suite's PDS is up by then)
let ready;
const setup = () => (ready ??= prepare());
async function prepare() {
  for (const s of ['active', 'deactivated', 'takendown', 'deleted']) acct[s] = await populated();
  await acct.deactivated.agent.com.atproto.server.deactivateAccount({});
  await admin('com.atproto.admin.updateSubjectStatus', {
    subject: { $type: 'com.atproto.admin.defs#repoRef', did: acct.takendown.did },
    takedown: { applied: true, ref: 'availability-test' },
  });
  // a taken-down account may still sign in, with the takendown scope (to migrate out)
  const td = await fetch(`${env.pds.url}/xrpc/com.atproto.server.createSession`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identifier: acct.takendown.handle, password: acct.takendown.password, allowTakendown: true }),
  });
  assert.equal(td.status, 200, await td.clone().text());
  acct.takendown.tdSession = `Bearer ${(await td.json()).accessJwt}`;
  await admin('com.atproto.admin.deleteAccount', { did: acct.deleted.did });
  acct.migrating = await migratingIn();
}

// ---- what the reference answers ----

const OK = { status: 200 };
const err = (error, message) => ({ status: 400, error, ...(message ? { message } : {}) });
const unavailable = (state, did) =>
  ({
    active: OK,
    deactivated: err('RepoDeactivated', `Repo has been deactivated: ${did}`),
    migrating: err('RepoDeactivated', `Repo has been deactivated: ${did}`),
    takendown: err('RepoTakendown', `Repo has been takendown: ${did}`),
    deleted: err('RepoNotFound', `Could not find repo for DID: ${did}`),
  })[state];
const TOKEN_SCOPE = err('InvalidToken', 'Bad token scope');

// assertRepoAvailability(ctx, did, isUserOrAdmin(auth, did)); `takendownScope` for methods
// whose auth lists AuthScope.Takendown as `additional` (getRepo, getBlob, listBlobs).
function ownerRead(takendownScope, okWhenReadable = () => OK) {
  return (state, caller, a) => {
    if (caller === 'tdSession' && !takendownScope) return TOKEN_SCOPE;
    if (caller !== 'anon' && state !== 'deleted') return okWhenReadable(state);
    return unavailable(state, a.did);
  };
}
const always = (x) => () => x;

const READS = [
  {
    // getDidForActor skips inactive accounts; no AppView configured: InvalidRequest; no auth
    name: 'repo.getRecord',
    ask: (a) => ['com.atproto.repo.getRecord', { repo: a.did, collection: 'app.bsky.feed.post', rkey: a.rkey }],
    expect: (state) => (state === 'active' ? OK : err('InvalidRequest', 'Could not locate record')),
  },
  {
    name: 'repo.listRecords',
    ask: (a) => ['com.atproto.repo.listRecords', { repo: a.did, collection: 'app.bsky.feed.post' }],
    expect: (state, caller, a) => (state === 'active' ? OK : err('InvalidRequest', `Could not find repo: ${a.did}`)),
  },
  {
    // assertRepoAvailability(ctx, repo, false): not even the owner
    name: 'repo.describeRepo',
    ask: (a) => ['com.atproto.repo.describeRepo', { repo: a.did }],
    expect: (state, caller, a) => unavailable(state, a.did),
  },
  { name: 'sync.getRepo', ask: (a) => ['com.atproto.sync.getRepo', { did: a.did }], expect: ownerRead(true) },
  { name: 'sync.getCheckout', ask: (a) => ['com.atproto.sync.getCheckout', { did: a.did }], expect: ownerRead(false) },
  {
    name: 'sync.getRecord',
    ask: (a) => ['com.atproto.sync.getRecord', { did: a.did, collection: 'app.bsky.feed.post', rkey: a.rkey }],
    expect: ownerRead(false),
  },
  { name: 'sync.getBlocks', ask: (a) => ['com.atproto.sync.getBlocks', { did: a.did, cids: [a.commit] }], expect: ownerRead(false) },
  { name: 'sync.getLatestCommit', ask: (a) => ['com.atproto.sync.getLatestCommit', { did: a.did }], expect: ownerRead(false) },
  { name: 'sync.getHead', ask: (a) => ['com.atproto.sync.getHead', { did: a.did }], expect: ownerRead(false) },
  {
    // the migrating account has no permanent blob: past the availability check, not found
    name: 'sync.getBlob',
    ask: (a) => ['com.atproto.sync.getBlob', { did: a.did, cid: a.blob }],
    expect: ownerRead(true, (state) => (state === 'migrating' ? err('BlobNotFound') : OK)),
  },
  { name: 'sync.listBlobs', ask: (a) => ['com.atproto.sync.listBlobs', { did: a.did }], expect: ownerRead(true) },
  {
    // assertRepoAvailability(ctx, did, true): the status of any account that exists
    name: 'sync.getRepoStatus',
    ask: (a) => ['com.atproto.sync.getRepoStatus', { did: a.did }],
    expect: (state, caller, a) => (state === 'deleted' ? unavailable(state, a.did) : OK),
  },
];

const CALLERS = ['anon', 'self', 'admin', 'tdSession'];

function credential(state, caller) {
  if (caller === 'self') return acct[state].self;
  if (caller === 'admin') return env.pds.adminAuth();
  if (caller === 'tdSession') return acct[state].tdSession;
  return undefined;
}

test('every public read answers what the reference answers, for every account state and caller', async () => {
  await setup();
  const failures = [];
  let checked = 0;
  for (const read of READS) {
    for (const state of STATES) {
      for (const caller of CALLERS) {
        if (caller === 'tdSession' && state !== 'takendown') continue;
        const a = acct[state];
        const want = read.expect(state, caller, a);
        const [nsid, params] = read.ask(a);
        const got = await call(nsid, params, credential(state, caller));
        checked++;
        const ok =
          got.status === want.status &&
          (want.error === undefined || got.body?.error === want.error) &&
          (want.message === undefined || got.body?.message === want.message);
        if (!ok) {
          const body = Buffer.isBuffer(got.body) ? `<${got.body.length} bytes>` : JSON.stringify(got.body);
          failures.push(`${read.name} × ${state} × ${caller}: want ${JSON.stringify(want)}, got ${got.status} ${body}`);
        }
      }
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${checked} (read × state × caller) answers differ`);
  assert.equal(checked, READS.length * (STATES.length * 3 + 1));
});

test('what the reads that succeed return for inactive accounts', async () => {
  await setup();
  // getRepoStatus and listRepos report each state; a deleted account is not listed
  for (const [state, want] of [
    ['active', { active: true }],
    ['deactivated', { active: false, status: 'deactivated' }],
    ['takendown', { active: false, status: 'takendown' }],
    ['migrating', { active: false, status: 'deactivated' }],
  ]) {
    const r = await call('com.atproto.sync.getRepoStatus', { did: acct[state].did });
    assert.equal(r.body.active, want.active, state);
    assert.equal(r.body.status, want.status, state);
    assert.equal('rev' in r.body, want.active, `${state}: rev only when active`);
  }
  const listed = new Map();
  let cursor;
  do {
    const r = await call('com.atproto.sync.listRepos', { limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const repo of r.body.repos) listed.set(repo.did, repo);
    cursor = r.body.cursor;
  } while (cursor);
  assert.equal(listed.get(acct.active.did)?.active, true);
  assert.equal(listed.get(acct.deactivated.did)?.status, 'deactivated');
  assert.equal(listed.get(acct.takendown.did)?.status, 'takendown');
  assert.equal(listed.get(acct.migrating.did)?.status, 'deactivated');
  assert.ok(!listed.has(acct.deleted.did), 'a deleted account is not listed');
  // the owner's export of a deactivated repository holds its post
  const own = await call('com.atproto.sync.listBlobs', { did: acct.deactivated.did }, acct.deactivated.self);
  assert.deepEqual(own.body.cids, [acct.deactivated.blob]);
  const bytes = await call('com.atproto.sync.getBlob', { did: acct.takendown.did, cid: acct.takendown.blob }, acct.takendown.tdSession);
  assert.deepEqual(bytes.body, PNG);
});

/** Every event from cursor 0, by DID: [{type, body}]. */
async function replay() {
  const c = new pg.Client({ connectionString: env.pds.dbUrl });
  await c.connect();
  const head = Number((await c.query('SELECT COALESCE(max(head), 0)::text AS h FROM repo_seq_state')).rows[0].h);
  await c.end();
  const ws = new WebSocket(env.pds.url.replace(/^http/, 'ws') + '/xrpc/com.atproto.sync.subscribeRepos?cursor=0');
  const byDid = new Map();
  let last = 0;
  ws.on('message', (data) => {
    const [header, body] = decodeAll(Buffer.from(data));
    if (header.op !== 1) return;
    last = body.seq;
    const did = body.repo ?? body.did;
    if (!byDid.has(did)) byDid.set(did, []);
    byDid.get(did).push({ type: header.t, body });
  });
  await waitFor(() => last >= head, { timeoutMs: 20000, what: `replay to seq ${head}` });
  ws.close();
  return byDid;
}

test('the firehose replay: inactive accounts keep their events, a deleted one only its deletion', async () => {
  await setup();
  // the reference's outbox replays repo_seq as it is: deactivation and takedown add an
  // #account event and remove nothing; sequenceAccountDeletion deletes every earlier event
  // of the account; a migrating sign-up sequences nothing (createAccount.ts)
  const events = await replay();
  const types = (state) => (events.get(acct[state].did) ?? []).map((e) => e.type);
  const lastAccount = (state) => (events.get(acct[state].did) ?? []).filter((e) => e.type === '#account').at(-1)?.body;
  assert.ok(types('active').includes('#commit'));
  for (const [state, status] of [
    ['deactivated', 'deactivated'],
    ['takendown', 'takendown'],
  ]) {
    assert.ok(types(state).filter((t) => t === '#commit').length >= 2, `${state}: its commits are replayed`);
    assert.equal(lastAccount(state).active, false);
    assert.equal(lastAccount(state).status, status);
  }
  assert.deepEqual(types('deleted'), ['#account']);
  assert.equal(lastAccount('deleted').status, 'deleted');
  assert.deepEqual(types('migrating'), []);
});

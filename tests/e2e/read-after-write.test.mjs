// Read-after-write through the AppView proxy. A small AppView started here has indexed the
// user's repository only up to an old revision: it answers with that stale atproto-repo-rev
// and its stale views (an old post, the old display name). The PDS must merge what the user
// wrote since (new posts, replies, the new profile) into getTimeline, getAuthorFeed,
// getPostThread, getProfile(s) and getActorLikes as the reference does
// (packages/pds/src/read-after-write and api/app/bsky), with Atproto-Upstream-Lag, and leave
// answers alone when nothing is newer, when the rev is missing, fresh or older than every
// record, or when the answer is not the method's output. The service JWTs the AppView gets
// are decoded and their iss/aud/lxm checked (their signatures are verified in proxy.test).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, test } from 'node:test';
import { createAccount, freePort, useTestEnv } from './lib/index.mjs';

const port = await freePort();
const svcDid = `did:web:localhost%3A${port}`;
const svcUrl = `http://localhost:${port}`;
const CDN = 'https://cdn.example.com/img/%s/plain/%s/%s@jpeg';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 9)]);

// What the AppView knows and how it answers; the tests set these.
const av = {
  mode: 'stale', // 'stale' | 'fresh' | 'none' (no rev header) | 'ancient' | 'invalid'
  rev: { stale: null, fresh: null },
  alice: null, // { did, handle }
  bob: { did: 'did:plc:bobbobbobbobbobbobbobbob', handle: 'bob.example.com' },
  old: null, // alice's post as indexed: { uri, cid, record, indexedAt }
  seen: [], // { nsid, query, authorization, claims }
};

function claimsOf(authorization) {
  if (!authorization) return null;
  const [, p] = authorization.replace(/^Bearer /, '').split('.');
  return JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
}

const author = (who, displayName) => ({ did: who.did, handle: who.handle, ...(displayName ? { displayName } : {}) });
const oldPostView = () => ({
  uri: av.old.uri,
  cid: av.old.cid,
  author: author(av.alice, 'Old Name'),
  record: av.old.record,
  likeCount: 3,
  replyCount: 0,
  repostCount: 0,
  quoteCount: 0,
  indexedAt: av.old.indexedAt,
});
const bobPostView = () => ({
  uri: `at://${av.bob.did}/app.bsky.feed.post/3kbobbobbob22`,
  cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
  author: author(av.bob, 'Bob'),
  record: { $type: 'app.bsky.feed.post', text: 'bob says hi', createdAt: av.old.indexedAt },
  indexedAt: av.old.indexedAt,
});

function answer(nsid, q) {
  switch (nsid) {
    case 'app.bsky.feed.getTimeline':
      return { feed: [{ post: oldPostView() }, { post: bobPostView() }] };
    case 'app.bsky.feed.getAuthorFeed':
      return { feed: q.actor === av.bob.did ? [{ post: bobPostView() }] : [{ post: oldPostView() }] };
    case 'app.bsky.feed.getActorLikes':
      return { feed: [{ post: bobPostView() }, { post: oldPostView() }] };
    case 'app.bsky.actor.getProfile':
      return { ...author(av.alice, 'Old Name'), description: 'old bio', banner: 'https://cdn.example.com/old-banner', followersCount: 7 };
    case 'app.bsky.actor.getProfiles':
      return { profiles: [{ ...author(av.alice, 'Old Name'), description: 'old bio' }, { ...author(av.bob, 'Bob') }] };
    case 'app.bsky.feed.getPosts':
      return { posts: q.uris === av.old.uri ? [oldPostView()] : [] };
    case 'app.bsky.feed.getPostThread':
      if (q.uri === av.old.uri) return { thread: { $type: 'app.bsky.feed.defs#threadViewPost', post: oldPostView(), replies: [] } };
      return null; // not indexed yet
    default:
      return undefined;
  }
}

const appview = http.createServer((req, res) => {
  const url = new URL(req.url, svcUrl);
  if (url.pathname === '/.well-known/did.json') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: svcDid, service: [{ id: '#bsky_appview', type: 'BskyAppView', serviceEndpoint: svcUrl }] }));
    return;
  }
  const nsid = url.pathname.replace(/^\/xrpc\//, '');
  const q = Object.fromEntries(url.searchParams);
  av.seen.push({ nsid, query: q, authorization: req.headers.authorization, claims: claimsOf(req.headers.authorization) });
  const rev = { stale: av.rev.stale, fresh: av.rev.fresh, ancient: '2222222222222', invalid: av.rev.stale }[av.mode];
  const headers = { 'content-type': 'application/json; charset=utf-8', ...(rev ? { 'atproto-repo-rev': rev } : {}) };
  if (nsid === 'com.atproto.repo.getRecord') {
    res.writeHead(200, headers);
    res.end(JSON.stringify({ uri: `at://${q.repo}/${q.collection}/${q.rkey}`, value: { from: 'appview' } }));
    return;
  }
  let body = answer(nsid, q);
  if (body === null) {
    res.writeHead(400, headers);
    res.end(JSON.stringify({ error: 'NotFound', message: 'Post not found' }));
    return;
  }
  if (body === undefined) {
    res.writeHead(501, headers);
    res.end(JSON.stringify({ error: 'MethodNotImplemented', message: nsid }));
    return;
  }
  if (av.mode === 'invalid') body = { nothing: 'here' }; // not the method's output
  res.writeHead(200, headers);
  res.end(JSON.stringify(body));
});
await new Promise((r) => appview.listen(port, '127.0.0.1', r));
after(() => appview.close());

const env = useTestEnv({
  pds: {
    env: {
      PDS_BSKY_APP_VIEW_URL: svcUrl,
      PDS_BSKY_APP_VIEW_DID: svcDid,
      PDS_BSKY_APP_VIEW_CDN_URL_PATTERN: CDN,
    },
  },
});

let alice; // { agent, did, handle, ... }
const local = {}; // the posts written after the stale rev
let ready;
const setup = () => (ready ??= prepare());
async function prepare() {
  alice = await createAccount(env.pds);
  av.alice = { did: alice.did, handle: alice.handle };
  const agent = alice.agent;
  const oldRecord = { $type: 'app.bsky.feed.post', text: 'an old post', createdAt: new Date(Date.now() - 60000).toISOString() };
  const p0 = await agent.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: oldRecord });
  await agent.com.atproto.repo.putRecord({
    repo: alice.did,
    collection: 'app.bsky.actor.profile',
    rkey: 'self',
    record: { $type: 'app.bsky.actor.profile', displayName: 'Old Name', description: 'old bio' },
  });
  av.old = { uri: p0.data.uri, cid: p0.data.cid, record: oldRecord, indexedAt: new Date(Date.now() - 30000).toISOString() };
  av.rev.stale = (await agent.com.atproto.sync.getLatestCommit({ did: alice.did })).data.rev;
  // what the AppView has not seen: two posts (the second a reply to the old one), a quote of
  // the old post, a new profile with an avatar
  const ref = { uri: p0.data.uri, cid: p0.data.cid };
  const post = (extra) => ({ $type: 'app.bsky.feed.post', createdAt: new Date().toISOString(), ...extra });
  local.p1 = (await agent.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: post({ text: 'brand new' }) })).data;
  local.p2 = (await agent.com.atproto.repo.createRecord({
    repo: alice.did,
    collection: 'app.bsky.feed.post',
    record: post({ text: 'a reply to the old one', reply: { root: ref, parent: ref } }),
  })).data;
  local.p3 = (await agent.com.atproto.repo.createRecord({
    repo: alice.did,
    collection: 'app.bsky.feed.post',
    record: post({ text: 'quoting', embed: { $type: 'app.bsky.embed.record', record: ref } }),
  })).data;
  const up = await agent.uploadBlob(PNG, { encoding: 'image/png' });
  local.avatar = up.data.blob.ref.toString();
  await agent.com.atproto.repo.putRecord({
    repo: alice.did,
    collection: 'app.bsky.actor.profile',
    rkey: 'self',
    record: { $type: 'app.bsky.actor.profile', displayName: 'New Name', avatar: up.data.blob },
  });
  av.rev.fresh = (await agent.com.atproto.sync.getLatestCommit({ did: alice.did })).data.rev;
}

async function get(nsid, params, { auth = true } = {}) {
  const url = new URL(`${env.pds.url}/xrpc/${nsid}`);
  for (const [k, v] of Object.entries(params)) for (const x of [].concat(v)) url.searchParams.append(k, x);
  const res = await fetch(url, { headers: auth ? { authorization: `Bearer ${alice.agent.session.accessJwt}` } : {} });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

const avatarUrl = () => `https://cdn.example.com/img/avatar/plain/${alice.did}/${local.avatar}@jpeg`;

function assertMunged(r) {
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.headers.get('atproto-upstream-lag') ?? '', /^\d+$/, 'Atproto-Upstream-Lag');
  assert.equal(r.headers.get('atproto-repo-rev'), null, 'a merged answer carries no upstream rev (as the reference)');
}

function assertLocalPostView(view, written, text) {
  assert.equal(view.uri, written.uri);
  assert.equal(view.cid, written.cid);
  assert.equal(view.record.text, text);
  assert.deepEqual([view.likeCount, view.replyCount, view.repostCount, view.quoteCount], [0, 0, 0, 0]);
  assert.deepEqual(view.author, { did: alice.did, handle: alice.handle, displayName: 'New Name', avatar: avatarUrl() });
  assert.ok(!Number.isNaN(Date.parse(view.indexedAt)));
}

test('getTimeline: the posts written since the stale rev come first, newest first', async () => {
  await setup();
  av.mode = 'stale';
  av.seen.length = 0;
  const r = await get('app.bsky.feed.getTimeline', { limit: 30 });
  assertMunged(r);
  const uris = r.body.feed.map((i) => i.post.uri);
  assert.deepEqual(uris.slice(0, 3), [local.p3.uri, local.p2.uri, local.p1.uri]);
  assert.equal(uris[3], av.old.uri);
  assertLocalPostView(r.body.feed[2].post, local.p1, 'brand new');
  // the AppView's own items are untouched (its stale author too: the timeline munge adds only)
  assert.equal(r.body.feed[3].post.author.displayName, 'Old Name');
  assert.equal(r.body.feed[3].post.likeCount, 3);
  // the quote's embed is the AppView's view of the quoted post (getPosts, for alice)
  const quote = r.body.feed[0].post.embed;
  assert.equal(quote.$type, 'app.bsky.embed.record#view');
  assert.equal(quote.record.$type, 'app.bsky.embed.record#viewRecord');
  assert.equal(quote.record.uri, av.old.uri);
  assert.equal(quote.record.value.text, 'an old post');
  const calls = av.seen.map((s) => [s.nsid, s.claims?.iss, s.claims?.aud, s.claims?.lxm]);
  assert.deepEqual(calls, [
    ['app.bsky.feed.getTimeline', alice.did, svcDid, 'app.bsky.feed.getTimeline'],
    ['app.bsky.feed.getPosts', alice.did, svcDid, 'app.bsky.feed.getPosts'],
  ]);
  assert.equal(av.seen[0].query.limit, '30');
});

test('getAuthorFeed: the own feed gets the new posts and the new profile; another actor’s does not', async () => {
  await setup();
  av.mode = 'stale';
  let r = await get('app.bsky.feed.getAuthorFeed', { actor: alice.did });
  assertMunged(r);
  assert.deepEqual(r.body.feed.map((i) => i.post.uri), [local.p3.uri, local.p2.uri, local.p1.uri, av.old.uri]);
  assert.deepEqual(r.body.feed[3].post.author, { did: alice.did, handle: alice.handle, displayName: 'New Name', avatar: avatarUrl() });
  // another actor's feed: its content is left alone, but (as the reference's munge returning
  // the original still goes through formatMungedResponse) it is answered as a merged one
  r = await get('app.bsky.feed.getAuthorFeed', { actor: av.bob.did });
  assertMunged(r);
  assert.deepEqual(r.body, answer('app.bsky.feed.getAuthorFeed', { actor: av.bob.did }));
});

test('getActorLikes: the requester’s items get the new profile, nothing is added', async () => {
  await setup();
  av.mode = 'stale';
  const r = await get('app.bsky.feed.getActorLikes', { actor: alice.did });
  assertMunged(r);
  assert.equal(r.body.feed.length, 2);
  assert.equal(r.body.feed[0].post.author.displayName, 'Bob');
  assert.deepEqual(r.body.feed[1].post.author, { did: alice.did, handle: alice.handle, displayName: 'New Name', avatar: avatarUrl() });
});

test('getProfile and getProfiles: the requester’s profile from the new record', async () => {
  await setup();
  av.mode = 'stale';
  let r = await get('app.bsky.actor.getProfile', { actor: alice.handle });
  assertMunged(r);
  // displayName and avatar from the record; description and banner absent from it: removed
  assert.deepEqual(r.body, { did: alice.did, handle: alice.handle, displayName: 'New Name', avatar: avatarUrl(), followersCount: 7 });
  r = await get('app.bsky.actor.getProfiles', { actors: [alice.did, av.bob.did] });
  assertMunged(r);
  assert.deepEqual(r.body.profiles, [
    { did: alice.did, handle: alice.handle, displayName: 'New Name', avatar: avatarUrl() },
    { did: av.bob.did, handle: av.bob.handle, displayName: 'Bob' },
  ]);
});

test('getPostThread: a new reply joins the thread; a post the AppView lacks is built here', async () => {
  await setup();
  av.mode = 'stale';
  let r = await get('app.bsky.feed.getPostThread', { uri: av.old.uri });
  assertMunged(r);
  assert.equal(r.body.thread.post.uri, av.old.uri);
  assert.equal(r.body.thread.replies.length, 1);
  assert.equal(r.body.thread.replies[0].$type, 'app.bsky.feed.defs#threadViewPost');
  assertLocalPostView(r.body.thread.replies[0].post, local.p2, 'a reply to the old one');
  // NotFound upstream: the local post is the thread (by handle too)
  const rkey = local.p1.uri.split('/').pop();
  r = await get('app.bsky.feed.getPostThread', { uri: `at://${alice.handle}/app.bsky.feed.post/${rkey}` });
  assertMunged(r);
  assert.equal(r.body.thread.$type, 'app.bsky.feed.defs#threadViewPost');
  assertLocalPostView(r.body.thread.post, local.p1, 'brand new');
  // a local reply the AppView lacks gets its parents from the AppView (depth 0)
  av.seen.length = 0;
  r = await get('app.bsky.feed.getPostThread', { uri: local.p2.uri, parentHeight: 5 });
  assertMunged(r);
  assert.equal(r.body.thread.post.uri, local.p2.uri);
  assert.equal(r.body.thread.parent.post.uri, av.old.uri);
  assert.deepEqual(av.seen.at(-1).query, { uri: av.old.uri, depth: '0', parentHeight: '5' });
  // another account's post the AppView lacks stays not found
  r = await get('app.bsky.feed.getPostThread', { uri: `at://${av.bob.did}/app.bsky.feed.post/3kbobbobbob33` });
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'NotFound');
});

test('answers left alone: fresh rev, no rev, a rev older than every record, not the output', async () => {
  await setup();
  const upstream = answer('app.bsky.feed.getTimeline', {});
  for (const mode of ['fresh', 'none', 'ancient']) {
    av.mode = mode;
    const r = await get('app.bsky.feed.getTimeline', {});
    assert.equal(r.status, 200, mode);
    assert.deepEqual(r.body, upstream, mode);
    assert.equal(r.headers.get('atproto-upstream-lag'), null, mode);
    assert.equal(r.headers.get('atproto-repo-rev'), { fresh: av.rev.fresh, none: null, ancient: '2222222222222' }[mode]);
  }
  av.mode = 'invalid';
  const r = await get('app.bsky.feed.getTimeline', {});
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { nothing: 'here' });
  assert.equal(r.headers.get('atproto-repo-rev'), av.rev.stale);
  // these methods need a session, as the reference's
  assert.equal((await get('app.bsky.feed.getTimeline', {}, { auth: false })).status, 401);
  av.mode = 'stale';
});

test('repo.getRecord of a repository not active here goes to the AppView without credentials', async () => {
  await setup();
  const other = await createAccount(env.pds);
  const rec = await other.agent.com.atproto.repo.createRecord({
    repo: other.did,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text: 'soon deactivated', createdAt: new Date().toISOString() },
  });
  const rkey = rec.data.uri.split('/').pop();
  const q = { repo: other.did, collection: 'app.bsky.feed.post', rkey };
  let r = await get('com.atproto.repo.getRecord', q, { auth: false });
  assert.equal(r.body.value.text, 'soon deactivated', 'an active repo is read here');
  await other.agent.com.atproto.server.deactivateAccount({});
  av.seen.length = 0;
  r = await get('com.atproto.repo.getRecord', q, { auth: false });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.value, { from: 'appview' });
  assert.equal(av.seen.length, 1);
  assert.equal(av.seen[0].authorization, undefined);
  // and a repository this server never had
  r = await get('com.atproto.repo.getRecord', { repo: 'did:plc:unknownunknownunknownun', collection: 'app.bsky.feed.post', rkey }, { auth: false });
  assert.deepEqual(r.body.value, { from: 'appview' });
});

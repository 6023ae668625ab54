// The host's event budget and its standing at the relays, end to end: the budget the relays'
// formula gives and its growth as accounts are added, a max-min fair share that slows a
// greedy writer while light accounts keep posting, and, against a small fake relay on
// loopback, the relay's view of the host and its accounts (throttled, behind), the repair of
// those accounts with a #sync event and a crawl request, the warning near the relay's
// account limit, and all of it in the admin API and `pdsadmin status`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { randomHex, sleep, startPds, useTestEnv, waitFor } from './lib/index.mjs';
import { startFakeRelay } from './lib/fakerelay.mjs';
import { readFirehose, runPdsadmin } from './lib/ops.mjs';

const env = useTestEnv({ pds: { env: { PDS_HOST_BUDGET: 'on' } } });
const extra = [];
after(async () => {
  for (const p of extra) await p.stop();
});

let ipSeq = 0;
const freshIp = () => `192.0.${2 + Math.floor(++ipSeq / 250)}.${(ipSeq % 250) + 1}`;

async function adminGet(pds, path) {
  const r = await fetch(`${pds.url}${path}`, { headers: { authorization: pds.adminAuth() } });
  assert.equal(r.status, 200);
  return r.json();
}
const budget = async (pds) => (await adminGet(pds, '/xrpc/_rateLimits')).hostBudget;

/** A new account with a logged-in agent; created from an address of its own (createAccount
 * is limited per address). */
async function account(pds) {
  const id = randomHex(4);
  const res = await fetch(`${pds.url}/xrpc/com.atproto.server.createAccount`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': freshIp() },
    body: JSON.stringify({ handle: `h${id}.test`, email: `h${id}@example.test`, password: `pw-${id}` }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const agent = new AtpAgent({ service: pds.url });
  await agent.resumeSession({ ...body, active: true });
  return { agent, did: body.did, handle: body.handle };
}

const post = (acct, text) => acct.agent.com.atproto.repo.createRecord({
  repo: acct.did,
  collection: 'app.bsky.feed.post',
  record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
});

describe('host budget', () => {
  test('follows the relays formula and grows as accounts are added', async () => {
    const b = await budget(env.pds);
    assert.equal(b.enforced, true);
    assert.equal(b.accountLimitSource, 'active accounts');
    assert.equal(b.accountLimit, 100); // a new host's limit until it has more accounts
    assert.deepEqual(b.relayBudget, { perSecond: 50, perHour: 2600, perDay: 21000 });
    assert.deepEqual(b.target, { perSecond: 45, perHour: 2340, perDay: 18900 });
    const made = [];
    for (let i = 0; i < 105; i += 5) made.push(...(await Promise.all([0, 1, 2, 3, 4].map(() => account(env.pds)))));
    assert.equal(made.length, 105);
    await waitFor(async () => (await budget(env.pds)).activeAccounts === 105, { timeoutMs: 20000, what: 'the account count' });
    const grown = await budget(env.pds);
    assert.equal(grown.accountLimit, 105);
    assert.deepEqual(grown.relayBudget, { perSecond: 50, perHour: 2605, perDay: 21050 });
    assert.deepEqual(grown.target, { perSecond: 45, perHour: 2344, perDay: 18945 });
  });

  test('a configured account limit, or a trusted host, sets the budget instead', async () => {
    const big = await startPds({ plcUrl: env.plc.url, env: { PDS_HOST_BUDGET: 'on', PDS_RELAY_ACCOUNT_LIMIT: '10000' } });
    extra.push(big);
    const b = await budget(big);
    assert.equal(b.accountLimitSource, 'configured');
    assert.deepEqual(b.relayBudget, { perSecond: 60, perHour: 12500, perDay: 120000 });
    const trusted = await startPds({ plcUrl: env.plc.url, env: { PDS_HOST_BUDGET: 'on', PDS_RELAY_ACCOUNT_LIMIT: 'trusted' } });
    extra.push(trusted);
    const t = await budget(trusted);
    assert.equal(t.accountLimitSource, 'trusted');
    assert.deepEqual(t.relayBudget, { perSecond: 5000, perHour: 50000000, perDay: 500000000 });
  });

  test('a greedy writer is held to its fair share; light accounts keep posting', async () => {
    const greedy = await account(env.pds);
    const light = await Promise.all([0, 1, 2].map(() => account(env.pds)));
    const acked = [];
    const refusals = [];
    let stop = false;
    const flatOut = async () => {
      while (!stop) {
        try {
          const r = await post(greedy, `greedy ${acked.length}`);
          acked.push(r.data.uri);
        } catch (e) {
          assert.equal(e.status, 429, String(e));
          assert.equal(e.error, 'RateLimitExceeded');
          refusals.push(e.headers?.['retry-after']);
          await sleep(20);
        }
      }
    };
    const lightErrors = [];
    let lightPosts = 0;
    const gentle = async (acct) => {
      while (!stop) {
        try {
          await post(acct, 'light');
          lightPosts++;
        } catch (e) {
          lightErrors.push(`${e.status} ${e.error}`);
        }
        await sleep(4000);
      }
    };
    const runs = [flatOut(), flatOut(), ...light.map(gentle)];
    let held;
    await waitFor(async () => {
      held = await budget(env.pds);
      return refusals.length >= 5 && typeof held.fairSharePerSecond === 'number' &&
        held.slowedAccounts.some((a) => a.did === greedy.did);
    }, { timeoutMs: 30000, what: 'the greedy account to be held' });
    await sleep(4500); // one more round of light posts while the greedy one is held
    stop = true;
    await Promise.all(runs);
    assert.deepEqual(lightErrors, [], 'light accounts were refused');
    assert.ok(lightPosts >= 6, `${lightPosts} light posts`);
    assert.ok(refusals.every((r) => Number(r) >= 1), `Retry-After on every refusal: ${refusals}`);
    assert.ok(held.slowedAccounts.some((a) => a.did === greedy.did), JSON.stringify(held.slowedAccounts));
    assert.ok(!held.slowedAccounts.some((a) => light.some((l) => l.did === a.did)));
    assert.ok(typeof held.fairSharePerSecond === 'number' && held.fairSharePerSecond > 0);
    // every acknowledged write is there
    const listed = new Set();
    let cursor;
    do {
      const page = await greedy.agent.com.atproto.repo.listRecords({ repo: greedy.did, collection: 'app.bsky.feed.post', limit: 100, cursor });
      for (const r of page.data.records) listed.add(r.uri);
      cursor = page.data.cursor;
    } while (cursor);
    for (const uri of acked) assert.ok(listed.has(uri), `acknowledged ${uri} is missing`);
    const limits = await adminGet(env.pds, '/xrpc/_rateLimits');
    // each refusal counted: over its share, or (in a burst before the first share) the
    // host's second spent
    const counted = limits.limits.filter((l) => l.name === 'host-share' || l.name === 'host-budget');
    const refusedCount = counted.reduce((n, l) => n + l.refused, 0);
    assert.ok(refusedCount >= refusals.length, `${refusedCount} counted, ${refusals.length} seen: ${JSON.stringify(counted)}`);
  });
});

describe('relay standing', () => {
  let relay;
  let pds;
  const accts = {};
  const revOf = async (a) => (await a.agent.com.atproto.sync.getLatestCommit({ did: a.did })).data.rev;

  before(async () => {
    relay = await startFakeRelay();
    relay.hosts.set('localhost', { status: 'active', seq: 1, accountCount: 4, accountLimit: 4 });
    pds = await startPds({
      plcUrl: env.plc.url,
      env: { PDS_CRAWLERS: relay.url, PDS_RELAY_CHECK_INTERVAL: '1000', PDS_RELAY_REPO_CHECK_INTERVAL: '50' },
    });
    extra.push(pds);
  });
  after(() => relay?.stop());

  test('shows what the relay says, repairs accounts it throttled or left behind', async () => {
    for (const name of ['throttled', 'current', 'behind', 'unknown']) {
      accts[name] = await account(pds);
      await post(accts[name], `first from ${name}`);
    }
    const oldRev = {};
    for (const [name, a] of Object.entries(accts)) oldRev[name] = await revOf(a);
    for (const a of Object.values(accts)) await post(a, 'second');
    const rev = {};
    for (const [name, a] of Object.entries(accts)) rev[name] = await revOf(a);
    const start = (await adminGet(pds, '/xrpc/_status')).firehose.headSeq;
    // as the relay sees them: one past its account limit, one up to date, one a commit behind
    relay.repos.set(accts.throttled.did, { active: false, status: 'host-throttled', rev: oldRev.throttled });
    relay.repos.set(accts.current.did, { active: true, rev: rev.current });
    relay.repos.set(accts.behind.did, { active: true, rev: oldRev.behind });

    const isSync = (did) => (e) => e.header.t === '#sync' && e.body.did === did;
    const syncs = await readFirehose(pds, { cursor: start, until: (ev) => ev.some(isSync(accts.behind.did)), timeoutMs: 20000 });
    const s = syncs.find(isSync(accts.behind.did));
    assert.equal(s.body.rev, rev.behind);
    assert.ok(s.body.blocks.length > 0, 'the #sync carries the signed commit');
    await waitFor(() => relay.crawls.length >= 2, { timeoutMs: 10000, what: 'a crawl request after the repair' });

    const view = async () => (await adminGet(pds, '/xrpc/_rateLimits')).relays[0];
    await waitFor(async () => (await view()).accounts.throttled === 1 && (await view()).accounts.notFound >= 1, { what: 'the relay view' });
    const v = await view();
    assert.equal(v.url, relay.url);
    assert.equal(v.status, 'active');
    assert.equal(v.accountLimit, 4);
    assert.deepEqual(v.throttledAccounts, [accts.throttled.did]);
    assert.match(v.warning, /of the account limit 4/);
    assert.equal(v.accounts.repairs, 1);
    const b = (await adminGet(pds, '/xrpc/_rateLimits')).hostBudget;
    assert.equal(b.accountLimitSource, 'relay');
    assert.equal(b.accountLimit, 4);

    // the relay's operator raises the limit: the account is active there again, a commit behind
    const mark = (await adminGet(pds, '/xrpc/_status')).firehose.headSeq;
    relay.repos.set(accts.throttled.did, { active: true, rev: oldRev.throttled });
    const again = await readFirehose(pds, { cursor: mark, until: (ev) => ev.some(isSync(accts.throttled.did)), timeoutMs: 20000 });
    assert.equal(again.find(isSync(accts.throttled.did)).body.rev, rev.throttled);
    // the current and the unknown account are never repaired
    await sleep(1500);
    const all = await readFirehose(pds, { cursor: start, until: (ev) => ev.some(isSync(accts.throttled.did)), timeoutMs: 10000 });
    assert.ok(!all.some(isSync(accts.current.did)));
    assert.ok(!all.some(isSync(accts.unknown.did)));
    assert.equal(all.filter(isSync(accts.behind.did)).length, 1, 'one repair per account, not one per check');

    const st = await runPdsadmin(['status'], { env: { PDS_ADMIN_URL: pds.url, PDS_ADMIN_PASSWORD: pds.adminPassword } });
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^Rate limits: +on/m);
    assert.match(st.stdout, /^Host budget: +kept; account limit 4 \(relay\)/m);
    assert.match(st.stdout, new RegExp(`^Relay: +${relay.url.replace(/[.]/g, '\\.')}: active, account limit 4; \\d+ checked, 0 throttled, \\d+ behind, 1 not found, 2 repaired`, 'm'));
    assert.match(st.stdout, /WARNING: .*account limit 4/);
    const rl = await runPdsadmin(['rate-limits'], { env: { PDS_ADMIN_URL: pds.url, PDS_ADMIN_PASSWORD: pds.adminPassword } });
    assert.equal(rl.code, 0, rl.stderr);
    assert.match(rl.stdout, /^createSession-5m +30 +5m +\d+ +\d+$/m);
    assert.match(rl.stdout, /^global-ip +3000 +5m /m);
  });
});

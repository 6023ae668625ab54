// app.bsky.actor.getPreferences / putPreferences kept by the PDS, with the reference's rules:
// whole-namespace replacement, $type required and in app.bsky, personal details for full
// access only (hidden from, and kept through, app-password sessions), declaredAgePref
// derived from the birth date and never stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccount, login, useTestEnv } from './lib/index.mjs';

const env = useTestEnv();

const ADULT = { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true };
const FEEDS = {
  $type: 'app.bsky.actor.defs#savedFeedsPrefV2',
  items: [{ id: '3kabc', type: 'timeline', value: 'following', pinned: true }],
};
const PERSONAL = { $type: 'app.bsky.actor.defs#personalDetailsPref', birthDate: '2000-01-01T00:00:00.000Z' };
const AGE = 'app.bsky.actor.defs#declaredAgePref';

async function rawPut(agent, preferences) {
  const res = await fetch(`${env.pds.url}/xrpc/app.bsky.actor.putPreferences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agent.session.accessJwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({ preferences }),
  });
  return { status: res.status, body: res.status === 200 ? null : await res.json() };
}

async function appPasswordAgent(account) {
  const ap = await account.agent.com.atproto.server.createAppPassword({ name: 'prefs-test' });
  return login(env.pds, account.handle, ap.data.password);
}

test('preferences round trip, and a put replaces the whole namespace', async () => {
  const { agent } = await createAccount(env.pds);
  assert.deepEqual((await agent.app.bsky.actor.getPreferences()).data.preferences, []);
  await agent.app.bsky.actor.putPreferences({ preferences: [ADULT, FEEDS] });
  assert.deepEqual((await agent.app.bsky.actor.getPreferences()).data.preferences, [ADULT, FEEDS]);
  await agent.app.bsky.actor.putPreferences({ preferences: [FEEDS] });
  assert.deepEqual((await agent.app.bsky.actor.getPreferences()).data.preferences, [FEEDS]);
  await agent.app.bsky.actor.putPreferences({ preferences: [] });
  assert.deepEqual((await agent.app.bsky.actor.getPreferences()).data.preferences, []);
});

test('a preference needs a $type in the app.bsky namespace', async () => {
  const { agent } = await createAccount(env.pds);
  let r = await rawPut(agent, [{ enabled: true }]);
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'Preference is missing a $type');
  r = await rawPut(agent, [ADULT, { $type: 'com.example.pref', x: 1 }]);
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'Some preferences are not in the app.bsky namespace');
  r = await rawPut(agent, [{ $type: 'app.bskyfoo#x' }]);
  assert.equal(r.status, 400, 'a namespace prefix must end at a dot');
  assert.deepEqual((await agent.app.bsky.actor.getPreferences()).data.preferences, [], 'nothing stored');
  const anon = await fetch(`${env.pds.url}/xrpc/app.bsky.actor.getPreferences`);
  assert.equal(anon.status, 401);
});

test('personal details are full-access only; the declared age is derived and read-only', async () => {
  const account = await createAccount(env.pds);
  const { agent } = account;
  await agent.app.bsky.actor.putPreferences({
    preferences: [ADULT, PERSONAL, { $type: AGE, isOverAge13: false, isOverAge16: false, isOverAge18: false }],
  });
  const full = (await agent.app.bsky.actor.getPreferences()).data.preferences;
  assert.deepEqual(full, [ADULT, PERSONAL, { $type: AGE, isOverAge13: true, isOverAge16: true, isOverAge18: true }]);

  const appAgent = await appPasswordAgent(account);
  const limited = (await appAgent.app.bsky.actor.getPreferences()).data.preferences;
  assert.deepEqual(limited, [ADULT, { $type: AGE, isOverAge13: true, isOverAge16: true, isOverAge18: true }],
    'an app password sees the derived age but not the birth date');

  const denied = await rawPut(appAgent, [FEEDS, PERSONAL]);
  assert.equal(denied.status, 400);
  assert.equal(denied.body.message, 'Do not have authorization to set preferences: app.bsky.actor.defs#personalDetailsPref');

  await appAgent.app.bsky.actor.putPreferences({ preferences: [FEEDS] });
  const after = (await agent.app.bsky.actor.getPreferences()).data.preferences;
  assert.deepEqual(after, [PERSONAL, FEEDS, { $type: AGE, isOverAge13: true, isOverAge16: true, isOverAge18: true }],
    'the hidden personal details survive an app-password put');
});

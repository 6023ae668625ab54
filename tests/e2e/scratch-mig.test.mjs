import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPlc, startPds, createAccount, sleep, waitFor } from './lib/index.mjs';
import { startSmtp, tokenOf } from './lib/mail.mjs';
import { randomBytes } from 'node:crypto';
import { startReferencePds } from './lib/refpds.mjs';
import { AtpAgent } from '@atproto/api';

let plc, smtp, a, b, ref;
before(async () => {
  plc = await startPlc();
  smtp = await startSmtp();
  const env = (port) => ({ PDS_EMAIL_SMTP_URL: smtp.url, PDS_EMAIL_FROM_ADDRESS: 'pds@example.test', PDS_MIGRATION_REQUESTS_PER_SECOND: '0' });
  a = await startPds({ plcUrl: plc.url, env: env() });
  ref = await startReferencePds({ plcUrl: plc.url, smtpUrl: smtp.url });
  b = await startPds({ plcUrl: plc.url, env: { ...env(), PDS_SERVICE_DID: 'did:web:b.localhost', PDS_SERVICE_HANDLE_DOMAINS: '.b.test' } });
});
after(async () => { await a?.stop({keepFiles:true}); await b?.stop({keepFiles:true}); await ref?.stop(); await smtp?.stop(); await plc?.stop(); });

async function pageSession(pds, path) {
  const r = await fetch(pds.url + path);
  const html = await r.text();
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const csrf = html.match(/name="csrf-token" content="([^"]+)"/)[1];
  return async (p, body, headers = {}) => {
    const res = await fetch(pds.url + p, { method: body ? 'POST' : 'GET', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json', ...headers }, body: body ? JSON.stringify(body) : undefined });
    const t = await res.text();
    let j; try { j = JSON.parse(t); } catch { j = t; }
    return { status: res.status, body: j };
  };
}

async function inbound(src, handle, email, newHandle) {
  const u = await createAccount(src, { handle, email });
  for (let i = 0; i < 30; i++) await u.agent.post({ text: `post ${i}` });
  for (let i = 0; i < 3; i++) {
    const up = await u.agent.uploadBlob(randomBytes(50000), { encoding: 'image/png' });
    await u.agent.post({ text: 'img', embed: { $type: 'app.bsky.embed.images', images: [{ image: up.data.blob, alt: '' }] } });
  }
  const call = await pageSession(b, '/migrate');
  let r = await call('/migrate/api/lookup', { handle });
  console.log(r);
  r = await call('/migrate/api/in/start', { did: u.did, password: u.password });
  console.log(JSON.stringify(r.body).slice(0, 300));
  const { id, token } = r.body;
  const H = { 'x-migration-token': token };
  const job = async () => (await call(`/migrate/api/job?id=${id}`, undefined, H)).body;
  const st = await waitFor(async () => { const j = await job(); return ['confirm','failed'].includes(j.state) && j; }, { timeoutMs: 30000 });
  console.log(JSON.stringify(st.plan, null, 1), st.error);
  r = await call('/migrate/api/job/confirm', { id, handle: newHandle }, H);
  console.log(r.status, r.body.state, r.body.error);
  const st2 = await waitFor(async () => { const j = await job(); return ['awaiting_token','failed'].includes(j.state) && j; }, { timeoutMs: 60000 });
  console.log(st2.state, st2.error, JSON.stringify(st2.progress));
  r = await call('/migrate/api/job/request-token', { id }, H);
  console.log(r.status, r.body.error, r.body.message);
  const mail = await smtp.waitForMail(email, { after: 0 });
  r = await call('/migrate/api/job/plc', { id, token: tokenOf(mail) }, H);
  console.log(r.status, r.body.state);
  const st3 = await waitFor(async () => { const j = await job(); return ['done','failed'].includes(j.state) && j; }, { timeoutMs: 60000 });
  console.log(st3.state, st3.error, st3.steps.map(s=>s.name+':'+s.done).join(' '));
  assert.equal(st3.state, 'done');
}
test.skip('A -> B', () => inbound(a, 'mover.test', 'mover@example.test', 'mover.b.test'));
test.skip('ref -> B', () => inbound(ref, 'refmover.ref.test', 'refmover@example.test', 'refmover.b.test'));


test('A -> ref (outbound)', async () => {
  const u = await createAccount(a, { handle: 'leaver.test', email: 'leaver@example.test' });
  for (let i = 0; i < 10; i++) await u.agent.post({ text: `post ${i}` });
  const up = await u.agent.uploadBlob(randomBytes(40000), { encoding: 'image/jpeg' });
  await u.agent.post({ text: 'img', embed: { $type: 'app.bsky.embed.images', images: [{ image: up.data.blob, alt: '' }] } });
  await u.agent.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }] });
  const call = await pageSession(a, '/migrate/out');
  const sess = u.agent.session.accessJwt;
  let r = await call('/migrate/api/out/start', { url: ref.url, email: 'leaver@example.test', password: 'new-password-1' }, { authorization: `Bearer ${sess}` });
  console.log(r.status, JSON.stringify(r.body).slice(0, 200));
  const { id, token } = r.body;
  const H = { 'x-migration-token': token };
  const job = async () => (await call(`/migrate/api/job?id=${id}`, undefined, H)).body;
  let st = await waitFor(async () => { const j = await job(); return ['confirm','failed'].includes(j.state) && j; }, { timeoutMs: 30000 });
  console.log(st.state, st.error, JSON.stringify(st.plan?.checks));
  r = await call('/migrate/api/job/confirm', { id, handle: 'leaver.ref.test' }, H);
  console.log(r.status, r.body.state, r.body.error, r.body.message);
  st = await waitFor(async () => { const j = await job(); return ['awaiting_token','failed'].includes(j.state) && j; }, { timeoutMs: 60000 });
  console.log(st.state, st.error);
  r = await call('/migrate/api/job/request-token', { id }, H);
  console.log(r.status, r.body.error, r.body.message);
  const mail = await smtp.waitForMail('leaver@example.test', { after: 0 });
  r = await call('/migrate/api/job/plc', { id, token: tokenOf(mail) }, H);
  st = await waitFor(async () => { const j = await job(); return ['done','failed'].includes(j.state) && j; }, { timeoutMs: 60000 });
  console.log(st.state, st.error, st.steps.map(s=>s.name+':'+s.done).join(' '));
  assert.equal(st.state, 'done');
  const agent = new AtpAgent({ service: ref.url });
  await agent.login({ identifier: u.did, password: 'new-password-1' });
  const prefs = await agent.app.bsky.actor.getPreferences();
  console.log(JSON.stringify(prefs.data));
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPlc, startPds, createAccount, sleep, waitFor } from './lib/index.mjs';
import { startSmtp, tokenOf } from './lib/mail.mjs';
import { randomBytes } from 'node:crypto';

let plc, smtp, a, b;
before(async () => {
  plc = await startPlc();
  smtp = await startSmtp();
  const env = (port) => ({ PDS_EMAIL_SMTP_URL: smtp.url, PDS_EMAIL_FROM_ADDRESS: 'pds@example.test', PDS_MIGRATION_REQUESTS_PER_SECOND: '0' });
  a = await startPds({ plcUrl: plc.url, env: env() });
  b = await startPds({ plcUrl: plc.url, env: { ...env(), PDS_SERVICE_DID: 'did:web:b.localhost', PDS_SERVICE_HANDLE_DOMAINS: '.b.test' } });
});
after(async () => { await a?.stop({keepFiles:true}); await b?.stop({keepFiles:true}); await smtp?.stop(); await plc?.stop(); });

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

test('A -> B via API', async () => {
  const u = await createAccount(a, { handle: 'mover.test', email: 'mover@example.test' });
  for (let i = 0; i < 30; i++) await u.agent.post({ text: `post ${i}` });
  for (let i = 0; i < 3; i++) {
    const up = await u.agent.uploadBlob(randomBytes(50000), { encoding: 'image/png' });
    await u.agent.post({ text: 'img', embed: { $type: 'app.bsky.embed.images', images: [{ image: up.data.blob, alt: '' }] } });
  }
  const call = await pageSession(b, '/migrate');
  let r = await call('/migrate/api/lookup', { handle: 'mover.test' });
  console.log(r);
  r = await call('/migrate/api/in/start', { did: u.did, password: u.password });
  console.log(JSON.stringify(r.body).slice(0, 300));
  const { id, token } = r.body;
  const H = { 'x-migration-token': token };
  const job = async () => (await call(`/migrate/api/job?id=${id}`, undefined, H)).body;
  const st = await waitFor(async () => { const j = await job(); return ['confirm','failed'].includes(j.state) && j; }, { timeoutMs: 30000 });
  console.log(JSON.stringify(st.plan, null, 1), st.error);
  r = await call('/migrate/api/job/confirm', { id, handle: 'mover.b.test' }, H);
  console.log(r.status, r.body.state, r.body.error);
  const st2 = await waitFor(async () => { const j = await job(); return ['awaiting_token','failed'].includes(j.state) && j; }, { timeoutMs: 60000 });
  console.log(st2.state, st2.error, JSON.stringify(st2.progress));
  r = await call('/migrate/api/job/request-token', { id }, H);
  console.log(r.status, r.body.error, r.body.message);
  const mail = await smtp.waitForMail('mover@example.test', { after: 0 });
  r = await call('/migrate/api/job/plc', { id, token: tokenOf(mail) }, H);
  console.log(r.status, r.body.state);
  const st3 = await waitFor(async () => { const j = await job(); return ['done','failed'].includes(j.state) && j; }, { timeoutMs: 60000 });
  console.log(st3.state, st3.error, st3.steps.map(s=>s.name+':'+s.done).join(' '));
  assert.equal(st3.state, 'done');
});

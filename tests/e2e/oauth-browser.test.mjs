// The OAuth pages in a real browser (Debian's Chromium through playwright-core), driven as a
// person would, on a phone-sized screen and partly with the keyboard alone: sign-in with the
// emailed second factor, the account chooser, consent with an optional permission unticked,
// /account with its apps, browsers and two-factor enrolment (the QR code decoded), sign-in
// with a recovery code, and revoking the app. Screenshots land in build/screenshots/oauth/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import jsQR from 'jsqr';
import { Agent } from '@atproto/api';
import { buildAtprotoLoopbackClientMetadata } from '@atproto/oauth-client-node';
import { startPlc, startPds, createAccount, startBrowser, PHONE } from './lib/index.mjs';
import { startSmtpSink, readMail } from './lib/ops.mjs';
import { oauthClient } from './lib/oauth.mjs';

const SCOPE = 'atproto transition:generic transition:email';
let plc;
let pds;
let smtp;
let browser;
let db;
let alice;
let bob;
let client;

before(async () => {
  plc = await startPlc();
  smtp = await startSmtpSink();
  pds = await startPds({
    plcUrl: plc.url,
    env: {
      PDS_EMAIL_SMTP_URL: smtp.url,
      PDS_EMAIL_FROM_ADDRESS: 'pds@example.test',
      PDS_SERVICE_NAME: 'Example PDS',
      PDS_PRIMARY_COLOR: '#6b3fd4',
      PDS_PRIVACY_POLICY_URL: 'https://example.test/privacy',
    },
  });
  db = new pg.Client({ connectionString: pds.dbUrl });
  await db.connect();
  alice = await createAccount(pds);
  bob = await createAccount(pds);
  // bob signs in with an emailed code (the setting itself is tested by the email tests)
  await db.query('UPDATE account SET email_confirmed_at = now(), email_auth_factor = true WHERE did = $1', [bob.did]);
  client = oauthClient(pds, plc, {
    clientMetadata: buildAtprotoLoopbackClientMetadata({ scope: SCOPE, redirect_uris: ['http://127.0.0.1/callback'] }),
  });
  browser = await startBrowser('oauth');
});
after(async () => {
  await browser?.close();
  await db?.end();
  await pds?.stop();
  await smtp?.stop();
  await plc?.stop();
});

/** A phone-sized page whose redirects back to the app (127.0.0.1) are caught, not loaded. */
async function phonePage(context) {
  const page = await browser.newPage(context ? { context } : PHONE);
  const landed = new Promise((resolve) => {
    page.route('http://127.0.0.1/**', (route) => {
      resolve(new URL(route.request().url()));
      route.fulfill({ status: 200, contentType: 'text/html', body: '<p>back in the app</p>' });
    });
  });
  return { page, landed };
}

const totp = (secretB32, step = Math.floor(Date.now() / 30000)) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretB32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', key).update(msg).digest();
  const off = h[h.length - 1] & 15;
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1e6).padStart(6, '0');
};

let context; // one browser profile for the whole story: its device cookie is its sign-in

test('sign-in with the emailed code and consent with a permission unticked, by keyboard alone', async () => {
  context = await browser.browser.newContext(PHONE);
  const { page, landed } = await phonePage(context);
  const url = await client.authorize(bob.handle, { scope: SCOPE });
  await page.goto(url.href);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(await page.inputValue('#identifier'), bob.handle, 'the login hint fills the handle');
  await browser.shot(page, 'sign-in');
  // keyboard only: the password field has the focus, Enter submits
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  await page.keyboard.type(bob.password);
  await page.keyboard.press('Enter');
  await page.locator('#code-field:not([hidden])').waitFor();
  await browser.shot(page, 'sign-in-email-code');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'code');
  const mail = readMail(smtp.messages.at(-1).data);
  const code = /([A-Z2-7]{5}-[A-Z2-7]{5})/.exec(mail.text)[1];
  await page.keyboard.type(code);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /wants to use your account/ }).waitFor();
  await browser.shot(page, 'consent');
  const labels = await page.locator('#permissions .title').allTextContents();
  assert.deepEqual(labels, ['Know who you are', 'Act on your behalf, as an app password can', 'See your email address']);
  assert.equal(await page.locator('#perm-0').isDisabled(), true, 'atproto cannot be unticked');
  // Tab to the third permission (email), untick it with Space, Tab on to Allow, Enter
  await page.locator('#perm-1').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'perm-2');
  await page.keyboard.press('Space');
  assert.equal(await page.locator('#perm-2').isChecked(), false);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'allow');
  await browser.shot(page, 'consent-unticked');
  await page.keyboard.press('Enter');
  const back = await landed;
  assert.equal(back.searchParams.get('iss'), pds.url);
  const { session } = await client.callback(back.searchParams);
  assert.equal(session.did, bob.did);
  assert.deepEqual((await session.getTokenInfo()).scope.split(' ').sort(), ['atproto', 'transition:generic']);
  const me = await new Agent(session).com.atproto.server.getSession();
  assert.equal(me.data.email, undefined, 'the unticked permission was not granted');
  // the one failed request: the first sign-in answered 401 "code required" on purpose
  assert.deepEqual(page.problems, ['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)'],
    'no other console errors, no CSP violations');
  await page.close();
});

let aliceSession;

test('the account chooser lists the accounts signed in on this browser', async () => {
  const { page, landed } = await phonePage(context);
  const url = await client.authorize(alice.handle, { scope: SCOPE });
  // with a login hint for alice, bob is not offered: sign in to alice
  await page.goto(url.href);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.fill('#password', alice.password);
  await page.click('#signin-submit');
  await page.getByRole('heading', { name: /wants to use your account/ }).waitFor();
  await page.click('#allow');
  aliceSession = (await client.callback((await landed).searchParams)).session;
  await page.close();

  // without a hint (an app that starts from the server), both accounts are offered
  const second = await phonePage(context);
  const url2 = await client.authorize(pds.url, { scope: SCOPE });
  await second.page.goto(url2.href);
  await second.page.getByRole('heading', { name: 'Choose an account' }).waitFor();
  const who = await second.page.locator('#accounts .who').allTextContents();
  assert.deepEqual(who.sort(), [`@${alice.handle}`, `@${bob.handle}`].sort());
  await browser.shot(second.page, 'chooser');
  await second.page.getByRole('button', { name: new RegExp(`@${bob.handle}`) }).click();
  await second.page.getByRole('heading', { name: /wants to use your account/ }).waitFor();
  assert.equal(await second.page.textContent('#consent-account'), `@${bob.handle}`);
  await second.page.click('#deny');
  const denied = await second.landed;
  assert.equal(denied.searchParams.get('error'), 'access_denied');
  assert.deepEqual(second.page.problems, []);
  await second.page.close();
});

let recovery;

test('/account: apps with their permissions, browsers, two-factor on with a scanned QR code', async () => {
  const { page } = await phonePage(context);
  await page.goto(`${pds.url}/account`);
  await page.getByRole('heading', { name: 'Choose an account' }).waitFor();
  await page.getByRole('button', { name: new RegExp(`@${alice.handle}`) }).click();
  await page.locator('#step-account:not([hidden])').waitFor();
  assert.equal(await page.textContent('#account-title'), `@${alice.handle}`);
  assert.match(await page.textContent('#apps'), /localhost/);
  assert.match(await page.textContent('#apps'), /Act on your behalf/);
  assert.match(await page.textContent('#devices'), /This browser/);
  await browser.shot(page, 'account');

  await page.click('#totp-start');
  await page.locator('#totp-enrol:not([hidden])').waitFor();
  await page.waitForFunction(() => document.getElementById('totp-qr').complete && document.getElementById('totp-qr').naturalWidth > 0);
  const secret = (await page.textContent('#totp-secret')).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  // read the QR code back from the pixels the browser drew
  const img = await page.evaluate(() => {
    const el = document.getElementById('totp-qr');
    const c = document.createElement('canvas');
    c.width = 400;
    c.height = 400;
    const g = c.getContext('2d');
    g.drawImage(el, 0, 0, 400, 400);
    return Array.from(g.getImageData(0, 0, 400, 400).data);
  });
  const qr = jsQR(Uint8ClampedArray.from(img), 400, 400);
  assert.ok(qr, 'the QR code decodes');
  const otp = new URL(qr.data);
  assert.equal(otp.protocol, 'otpauth:');
  assert.equal(otp.searchParams.get('secret'), secret);
  assert.equal(otp.searchParams.get('digits'), '6');
  await browser.shot(page, 'totp-enrol');
  await page.fill('#totp-code', '000000');
  await page.click('#totp-enable-form button[type=submit]');
  await page.locator('#error.error').waitFor();
  assert.match(await page.textContent('#error'), /not right/);
  await page.fill('#totp-code', totp(secret));
  await page.click('#totp-enable-form button[type=submit]');
  await page.locator('#totp-recovery:not([hidden])').waitFor();
  recovery = await page.locator('#totp-codes li').allTextContents();
  assert.equal(recovery.length, 10);
  assert.match(await page.textContent('#totp-status'), /^On/);
  await browser.shot(page, 'totp-on');
  // the one failed request the page made was the wrong code, answered 400 on purpose
  assert.deepEqual(page.problems, ['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  await page.close();
});

test('a fresh browser signs in with the TOTP factor (a recovery code works once)', async () => {
  const fresh = await browser.browser.newContext(PHONE);
  const { page, landed } = await phonePage(fresh);
  const url = await client.authorize(alice.handle, { scope: SCOPE });
  await page.goto(url.href);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.fill('#password', alice.password);
  await page.click('#signin-submit');
  await page.locator('#code-field:not([hidden])').waitFor();
  assert.match(await page.textContent('#code-hint'), /authenticator app/);
  await page.fill('#code', '123456');
  await page.click('#signin-submit');
  await page.locator('#error.error').waitFor();
  assert.match(await page.textContent('#error'), /invalid/i);
  await browser.shot(page, 'sign-in-totp-wrong');
  await page.fill('#code', recovery[0]);
  await page.click('#signin-submit');
  await page.getByRole('heading', { name: /wants to use your account/ }).waitFor();
  await page.click('#allow');
  const back = await landed;
  assert.ok(back.searchParams.get('code'));
  // the recovery code is spent
  const again = await fetch(`${pds.url}/account/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(again.status, 403, 'no CSRF token: refused');
  const left = await db.query('SELECT count(*) FROM account_totp_recovery WHERE did = $1', [alice.did]);
  assert.equal(left.rows[0].count, '9');
  // createSession asks for the same second factor (authFactorToken)
  await assert.rejects(pds.agent().login({ identifier: alice.handle, password: alice.password }),
    (err) => err.error === 'AuthFactorTokenRequired');
  await assert.rejects(pds.agent().login({ identifier: alice.handle, password: alice.password, authFactorToken: recovery[0] }),
    (err) => err.error === 'InvalidToken', 'a spent recovery code');
  const legacy = pds.agent();
  await legacy.login({ identifier: alice.handle, password: alice.password, authFactorToken: recovery[1] });
  assert.equal(legacy.session.did, alice.did);
  await fresh.close();
});

test('/account revokes the app: its tokens stop working at once', async () => {
  const agent = new Agent(aliceSession);
  assert.ok((await agent.post({ text: 'before revocation', createdAt: new Date().toISOString() })).uri);
  const { page } = await phonePage(context);
  await page.goto(`${pds.url}/account`);
  await page.getByRole('button', { name: new RegExp(`@${alice.handle}`) }).click();
  await page.locator('#step-account:not([hidden])').waitFor();
  await page.getByRole('button', { name: 'Revoke access for localhost' }).click();
  await page.locator('#apps-empty:not([hidden])').waitFor();
  await browser.shot(page, 'account-revoked');
  await assert.rejects(agent.post({ text: 'after revocation', createdAt: new Date().toISOString() }));
  assert.equal((await db.query('SELECT count(*) FROM oauth_session WHERE did = $1', [alice.did])).rows[0].count, '0');
  await page.close();
});

test('an expired or unknown request shows an error page that says what went wrong', async () => {
  const { page } = await phonePage(context);
  const res = await page.goto(`${pds.url}/oauth/authorize?client_id=http%3A%2F%2Flocalhost&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Areq-0123456789abcdef0123456789abcdef`);
  assert.equal(res.status(), 400);
  assert.match(await page.textContent('main'), /expired or was already used/);
  await browser.shot(page, 'error');
  await page.close();
  await context.close();
});

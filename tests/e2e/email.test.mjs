// Email over SMTP against a real SMTP server on loopback (aiosmtpd): every flow is finished
// with the code read from the delivered mail. Confirmation, email change (with and without
// a required code), password reset, emailed sign-in codes (emailAuthFactor), and the token
// rules: wrong, expired and reused codes are refused.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AtpAgent } from '@atproto/api';
import pg from 'pg';
import { createAccount, randomHex, useTestEnv } from './lib/index.mjs';
import { startSmtp, tokenOf } from './lib/mail.mjs';

const FROM = 'PDS Test <noreply@pds.example.com>';
const smtp = await startSmtp();
after(() => smtp.stop());

async function rejects(fn, { status, error, message }) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the call succeeded but should have failed');
  if (status !== undefined) assert.equal(err.status, status, `status (${err.error}: ${err.message})`);
  if (error !== undefined) assert.equal(err.error, error, `error name (${err.message})`);
  if (message !== undefined) assert.match(err.message, message);
  return err;
}

describe('email', () => {
  const env = useTestEnv({
    pds: { env: { PDS_EMAIL_SMTP_URL: smtp.url, PDS_EMAIL_FROM_ADDRESS: FROM } },
  });

  async function sql(text, params) {
    const db = new pg.Client({ connectionString: env.pds.dbUrl });
    await db.connect();
    try {
      return await db.query(text, params);
    } finally {
      await db.end();
    }
  }

  /** A new account and the code of a confirmation mail it requested and used. */
  async function confirmed() {
    const acct = await createAccount(env.pds, { email: `c${randomHex(4)}@example.com` });
    const n = smtp.mailsTo(acct.email).length;
    await acct.agent.com.atproto.server.requestEmailConfirmation();
    const mail = await smtp.waitForMail(acct.email, { after: n });
    await acct.agent.com.atproto.server.confirmEmail({ email: acct.email, token: tokenOf(mail) });
    return acct;
  }

  test('requestEmailConfirmation mails a code (text and HTML); confirmEmail uses it once', async () => {
    const acct = await createAccount(env.pds, { email: `Mixed${randomHex(3)}@Example.com` });
    const lower = acct.email.toLowerCase();
    let s = await acct.agent.com.atproto.server.getSession();
    assert.equal(s.data.emailConfirmed, false);

    await acct.agent.com.atproto.server.requestEmailConfirmation();
    const mail = await smtp.waitForMail(lower);
    assert.deepEqual(mail.to, [lower]);
    assert.equal(mail.from, 'noreply@pds.example.com');
    assert.equal(mail.headers.from, FROM);
    assert.match(mail.headers['content-type'], /^multipart\/alternative; boundary=/);
    assert.match(mail.headers['message-id'], /^<[0-9a-f]+@pds\.example\.com>$/);
    assert.equal(mail.subject, 'Confirm your email address');
    const token = tokenOf(mail);
    assert.match(token, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    assert.ok(mail.html.includes(`<strong>${token}</strong>`), 'the HTML part carries the code');
    assert.match(mail.html, /^<!doctype html>/);

    await rejects(() => acct.agent.com.atproto.server.confirmEmail({ email: 'other@example.com', token }), {
      status: 400,
      error: 'InvalidEmail',
    });
    await rejects(() => acct.agent.com.atproto.server.confirmEmail({ email: lower, token: 'AAAAA-AAAAA' }), {
      status: 400,
      error: 'InvalidToken',
      message: /Token is invalid/,
    });
    // codes are case-insensitive, like the reference's
    await acct.agent.com.atproto.server.confirmEmail({ email: acct.email, token: token.toLowerCase() });
    s = await acct.agent.com.atproto.server.getSession();
    assert.equal(s.data.emailConfirmed, true);
    await rejects(() => acct.agent.com.atproto.server.confirmEmail({ email: lower, token }), {
      status: 400,
      error: 'InvalidToken',
    });
  });

  test('an expired code is refused as ExpiredToken (15 minutes)', async () => {
    const acct = await createAccount(env.pds, { email: `x${randomHex(4)}@example.com` });
    await acct.agent.com.atproto.server.requestEmailConfirmation();
    const token = tokenOf(await smtp.waitForMail(acct.email));
    await sql("UPDATE email_token SET requested_at = now() - interval '16 minutes' WHERE did = $1", [acct.did]);
    await rejects(() => acct.agent.com.atproto.server.confirmEmail({ email: acct.email, token }), {
      status: 400,
      error: 'ExpiredToken',
      message: /Token is expired/,
    });
    // a code requested again replaces the old one and works
    await acct.agent.com.atproto.server.requestEmailConfirmation();
    const fresh = tokenOf(await smtp.waitForMail(acct.email, { after: 1 }));
    await acct.agent.com.atproto.server.confirmEmail({ email: acct.email, token: fresh });
  });

  test('a new code replaces the previous one', async () => {
    const acct = await createAccount(env.pds, { email: `r${randomHex(4)}@example.com` });
    await acct.agent.com.atproto.server.requestEmailConfirmation();
    const first = tokenOf(await smtp.waitForMail(acct.email));
    await acct.agent.com.atproto.server.requestEmailConfirmation();
    const second = tokenOf(await smtp.waitForMail(acct.email, { after: 1 }));
    assert.notEqual(first, second);
    await rejects(() => acct.agent.com.atproto.server.confirmEmail({ email: acct.email, token: first }), {
      error: 'InvalidToken',
    });
    await acct.agent.com.atproto.server.confirmEmail({ email: acct.email, token: second });
  });

  test('updateEmail: no code while unconfirmed; TokenRequired once confirmed; codes die with the old address', async () => {
    const acct = await createAccount(env.pds, { email: `u${randomHex(4)}@example.com` });
    const upd = await acct.agent.com.atproto.server.requestEmailUpdate();
    assert.equal(upd.data.tokenRequired, false);
    assert.equal(smtp.mailsTo(acct.email).length, 0, 'no mail for an unconfirmed address');
    const second = `v${randomHex(4)}@example.com`;
    await acct.agent.com.atproto.server.updateEmail({ email: second });
    let s = await acct.agent.com.atproto.server.getSession();
    assert.equal(s.data.email, second);
    assert.equal(s.data.emailConfirmed, false);

    await acct.agent.com.atproto.server.requestEmailConfirmation();
    await acct.agent.com.atproto.server.confirmEmail({ email: second, token: tokenOf(await smtp.waitForMail(second)) });

    const again = await acct.agent.com.atproto.server.requestEmailUpdate();
    assert.equal(again.data.tokenRequired, true);
    const mail = await smtp.waitForMail(second, { after: 1 });
    assert.equal(mail.subject, 'Update your email address');
    const third = `w${randomHex(4)}@example.com`;
    await rejects(() => acct.agent.com.atproto.server.updateEmail({ email: third }), {
      status: 400,
      error: 'TokenRequired',
    });
    await rejects(() => acct.agent.com.atproto.server.updateEmail({ email: third, token: 'ZZZZZ-ZZZZZ' }), {
      error: 'InvalidToken',
    });
    // a taken address is refused and the code survives for another try
    const other = await createAccount(env.pds, { email: `o${randomHex(4)}@example.com` });
    await rejects(() => acct.agent.com.atproto.server.updateEmail({ email: other.email, token: tokenOf(mail) }), {
      status: 400,
      message: /already taken/,
    });
    await acct.agent.com.atproto.server.updateEmail({ email: third, token: tokenOf(mail) });
    s = await acct.agent.com.atproto.server.getSession();
    assert.equal(s.data.email, third);
    assert.equal(s.data.emailConfirmed, false);
    await rejects(() => acct.agent.com.atproto.server.updateEmail({ email: second, token: tokenOf(mail) }), {
      error: 'InvalidToken',
    });
    await rejects(() => acct.agent.com.atproto.server.updateEmail({ email: 'not-an-email' }), {
      status: 400,
      message: /not supported/,
    });
  });

  test('requestPasswordReset + resetPassword: new password works, sessions end, code used once', async () => {
    const acct = await createAccount(env.pds, { email: `p${randomHex(4)}@example.com` });
    const before = acct.session.refreshJwt;
    await rejects(
      () => env.pds.agent().com.atproto.server.requestPasswordReset({ email: `nobody${randomHex(3)}@example.com` }),
      { status: 400, message: /does not have an email/ },
    );
    await env.pds.agent().com.atproto.server.requestPasswordReset({ email: acct.email.toUpperCase() });
    const mail = await smtp.waitForMail(acct.email);
    assert.equal(mail.subject, 'Reset your password');
    assert.ok(mail.text.includes(`@${acct.handle}`), 'the mail names the account');
    const token = tokenOf(mail);
    await rejects(() => env.pds.agent().com.atproto.server.resetPassword({ token: 'AAAAA-BBBBB', password: 'x-new-1' }), {
      error: 'InvalidToken',
    });
    const password = `new-${randomHex(6)}`;
    await env.pds.agent().com.atproto.server.resetPassword({ token, password });
    await rejects(() => env.pds.agent().login({ identifier: acct.handle, password: acct.password }), {
      status: 401,
    });
    const fresh = new AtpAgent({ service: env.pds.url });
    await fresh.login({ identifier: acct.handle, password });
    // the old refresh token was revoked with the reset
    const res = await fetch(`${env.pds.url}/xrpc/com.atproto.server.refreshSession`, {
      method: 'POST',
      headers: { authorization: `Bearer ${before}` },
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, 'ExpiredToken');
    await rejects(() => env.pds.agent().com.atproto.server.resetPassword({ token, password: 'again-123' }), {
      error: 'InvalidToken',
    });
  });

  test('emailAuthFactor: createSession mails a code and needs it; app passwords skip it', async () => {
    const acct = await confirmed();
    // turning it on needs the update code of a confirmed address, and the address kept
    await acct.agent.com.atproto.server.requestEmailUpdate();
    const n = smtp.mailsTo(acct.email).length;
    const upd = tokenOf(smtp.mailsTo(acct.email)[n - 1]);
    await acct.agent.com.atproto.server.updateEmail({ email: acct.email, emailAuthFactor: true, token: upd });
    let s = await acct.agent.com.atproto.server.getSession();
    assert.equal(s.data.emailAuthFactor, true);
    assert.equal(s.data.emailConfirmed, true, 'the same address stays confirmed');

    const agent = env.pds.agent();
    await rejects(() => agent.login({ identifier: acct.handle, password: acct.password }), {
      status: 401,
      error: 'AuthFactorTokenRequired',
      message: /sign in code has been sent/,
    });
    const mail = await smtp.waitForMail(acct.email, { after: n });
    assert.equal(mail.subject, 'Your sign-in code');
    const code = tokenOf(mail);
    await rejects(() => agent.login({ identifier: acct.handle, password: acct.password, authFactorToken: 'QQQQQ-QQQQQ' }), {
      status: 400,
      error: 'InvalidToken',
    });
    // a wrong password with the right code is still a wrong password
    await rejects(() => agent.login({ identifier: acct.handle, password: 'wrong', authFactorToken: code }), {
      status: 401,
      error: 'AuthenticationRequired',
    });
    const ok = await agent.login({ identifier: acct.handle, password: acct.password, authFactorToken: code });
    assert.equal(ok.data.did, acct.did);
    assert.equal(ok.data.emailAuthFactor, true);
    await rejects(
      () => env.pds.agent().login({ identifier: acct.handle, password: acct.password, authFactorToken: code }),
      { error: 'InvalidToken' },
    );

    const app = await acct.agent.com.atproto.server.createAppPassword({ name: 'phone' });
    const viaApp = await env.pds.agent().login({ identifier: acct.handle, password: app.data.password });
    assert.equal(viaApp.data.did, acct.did);

    // and off again (the address is confirmed, so the change needs a code)
    await acct.agent.com.atproto.server.requestEmailUpdate();
    const off = tokenOf(await smtp.waitForMail(acct.email, { after: n + 1 }));
    await acct.agent.com.atproto.server.updateEmail({ email: acct.email, emailAuthFactor: false, token: off });
    s = await acct.agent.com.atproto.server.getSession();
    assert.equal(s.data.emailAuthFactor, false);
    await env.pds.agent().login({ identifier: acct.handle, password: acct.password });
  });

  test('emailAuthFactor cannot be turned on for an unconfirmed address', async () => {
    const acct = await createAccount(env.pds, { email: `f${randomHex(4)}@example.com` });
    await rejects(() => acct.agent.com.atproto.server.updateEmail({ email: acct.email, emailAuthFactor: true }), {
      status: 400,
      message: /Confirm the email address/,
    });
  });

  test('email endpoints need a session; every mail has a text part, an HTML part and a Date', async () => {
    const res = await fetch(`${env.pds.url}/xrpc/com.atproto.server.requestEmailConfirmation`, { method: 'POST' });
    assert.equal(res.status, 401);
    const all = smtp.messages();
    assert.ok(all.length > 0);
    for (const m of all) {
      assert.ok(m.text.length > 0 && m.html.length > 0, 'every mail has both parts');
      assert.match(m.headers.date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    }
  });
});

// A server that offers STARTTLS with a certificate nobody trusts: libcurl must upgrade (it is
// offered) and verify, so the mail is not sent at all, rather than sent in the clear.
const tlsSmtp = await startSmtp({ selfSignedTls: true });
after(() => tlsSmtp.stop());

describe('email over STARTTLS', () => {
  const env = useTestEnv({
    pds: { env: { PDS_EMAIL_SMTP_URL: tlsSmtp.url, PDS_EMAIL_FROM_ADDRESS: FROM } },
  });

  test('an unverifiable certificate gets no mail: STARTTLS is used and checked', async () => {
    const acct = await createAccount(env.pds, { email: `t${randomHex(4)}@example.com` });
    await rejects(() => acct.agent.com.atproto.server.requestEmailConfirmation(), {
      status: 500,
      error: 'InternalServerError',
    });
    assert.equal(tlsSmtp.messages().length, 0);
    assert.match(env.pds.logTail(50), /could not send mail: .*(SSL|certificate)/i);
  });
});

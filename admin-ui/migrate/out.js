// out.js - /migrate/out: sign in to this server (com.atproto.server.createSession from this
// page; the session stays in this tab), name the new host and the account there, then
// follow the job (migrate.js). A move already under way is taken up where it stands.
import { api, ApiError, say, $, busy } from '/static/common/app.js';
import { showJob, savedJob, saveJob } from '/static/migrate/migrate.js';

const SESSION = 'pds-migration-out-session';
let session = null;
try {
  session = JSON.parse(sessionStorage.getItem(SESSION) || 'null');
} catch {
  session = null;
}

function show(section) {
  for (const id of ['signin', 'dest', 'job']) $(id).hidden = id !== section;
}

const bearer = () => ({ Authorization: `Bearer ${session.accessJwt}` });

function signInAgain() {
  sessionStorage.removeItem(SESSION);
  session = null;
  show('signin');
  say($('notice'), 'Sign in again to continue where the move stopped.', 'info');
}

function follow(ref) {
  saveJob('out', ref);
  show('job');
  showJob(ref, { direction: 'out', signInAgain });
}

async function afterSignIn() {
  try {
    const res = await api('/migrate/api/out/resume', {}, { headers: bearer() });
    if (res.job && res.job.state !== 'done' && res.job.state !== 'cancelled' && res.job.state !== 'failed') {
      return follow({ id: res.id, token: res.token });
    }
    if (res.job && res.job.state === 'failed') return follow({ id: res.id, token: res.token });
  } catch (err) {
    return say($('notice'), err.message);
  }
  $('dest-email').value = session.email || '';
  show('dest');
  $('dest-url').focus();
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  busy(e.target, async () => {
    say($('notice'), '');
    const code = $('code').value.trim();
    try {
      const s = await api('/xrpc/com.atproto.server.createSession', {
        identifier: $('handle').value.trim(),
        password: $('password').value,
        ...(code ? { authFactorToken: code } : {}),
      });
      $('password').value = '';
      session = { accessJwt: s.accessJwt, did: s.did, handle: s.handle, email: s.email };
      sessionStorage.setItem(SESSION, JSON.stringify(session));
      await afterSignIn();
    } catch (err) {
      if (err instanceof ApiError && err.error === 'AuthFactorTokenRequired') {
        $('code-row').hidden = false;
        $('code').focus();
        return say($('notice'), 'We have emailed you a sign-in code. Type it below.', 'info');
      }
      say($('notice'), err.status === 401 ? 'The handle or password is not right.' : err.message);
    }
  });
});

$('dest-form').addEventListener('submit', (e) => {
  e.preventDefault();
  busy(e.target, async () => {
    say($('notice'), '');
    try {
      const res = await api('/migrate/api/out/start', {
        url: $('dest-url').value.trim(),
        email: $('dest-email').value.trim(),
        password: $('dest-password').value,
      }, { headers: bearer() });
      $('dest-password').value = '';
      follow({ id: res.id, token: res.token });
    } catch (err) {
      if (err instanceof ApiError && (err.error === 'ExpiredToken' || err.error === 'InvalidToken')) return signInAgain();
      say($('notice'), err.message);
    }
  });
});

const saved = savedJob('out');
if (saved) follow(saved);
else if (session) afterSignIn();

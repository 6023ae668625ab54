// in.js - /migrate: find the account, sign in to its current host (with the emailed
// sign-in code if that host asks for one), then follow the job (migrate.js). A job already
// under way for the account is taken up where it stands.
import { api, ApiError, say, $, busy } from '/static/common/app.js';
import { showJob, savedJob, saveJob } from '/static/migrate/migrate.js';

let found = null; // { did, handle, pds }

function show(section) {
  for (const id of ['find', 'signin', 'job']) $(id).hidden = id !== section;
}

function signInAgain() {
  show(found ? 'signin' : 'find');
  say($('notice'), 'Sign in to your current host again to continue where the move stopped.', 'info');
}

function follow(ref) {
  saveJob('in', ref);
  show('job');
  showJob(ref, { direction: 'in', signInAgain });
}

$('find-form').addEventListener('submit', (e) => {
  e.preventDefault();
  busy(e.target, async () => {
    say($('notice'), '');
    try {
      found = await api('/migrate/api/lookup', { handle: $('handle').value.trim() });
    } catch (err) {
      return say($('notice'), err.message);
    }
    if (found.here) {
      say($('notice'), 'This account is already hosted here. Sign in to continue an unfinished move.', 'info');
    }
    $('signin-handle').textContent = found.handle || found.did;
    $('signin-host').textContent = found.pds;
    show('signin');
    $('password').focus();
  });
});

$('signin-back').addEventListener('click', () => {
  found = null;
  show('find');
});

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  busy(e.target, async () => {
    say($('notice'), '');
    const code = $('code').value.trim();
    try {
      const res = await api('/migrate/api/in/start', {
        did: found.did,
        password: $('password').value,
        ...(code ? { authFactorToken: code } : {}),
      });
      $('password').value = '';
      follow({ id: res.id, token: res.token });
    } catch (err) {
      if (err instanceof ApiError && err.error === 'AuthFactorTokenRequired') {
        $('code-row').hidden = false;
        $('code').focus();
        return say($('notice'), err.message, 'info');
      }
      say($('notice'), err.message);
    }
  });
});

const saved = savedJob('in');
if (saved) follow(saved);

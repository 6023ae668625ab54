// account.js - one account: its details and the actions on it.
import { api, $, say, busy } from '/static/common/app.js';
import { setup, fail, fill, row, badge, bytes, num, when } from '/static/admin/admin.js';

setup();

const did = new URLSearchParams(location.search).get('did');
let account = null;

function status(a) {
  if (a.takedownRef) return 'takendown';
  if (a.deactivatedAt) return 'deactivated';
  return 'active';
}

function show(a) {
  account = a;
  $('detail').hidden = false;
  document.title = `${a.handle} · ${document.title}`;
  $('a-handle').textContent = a.handle;
  $('a-did').textContent = a.did;
  const s = status(a);
  $('a-status').replaceChildren(badge(s));
  if (a.takedownRef) $('a-status').append(` ref ${a.takedownRef}`);
  $('a-email').textContent = a.email ? `${a.email} (${a.emailConfirmedAt ? `confirmed ${when(a.emailConfirmedAt)}` : 'not confirmed'}${a.emailAuthFactor ? ', sign-in codes on' : ''})` : 'none';
  $('a-created').textContent = when(a.indexedAt);
  $('a-repo').textContent = `${bytes(a.repoBytes)}, rev ${a.rev || '—'}`;
  $('a-blobs').textContent = `${num(a.blobs.count)} blobs, ${bytes(a.blobs.bytes)}${a.blobs.pending ? ` (${a.blobs.pending} not yet used by a record)` : ''}`;
  $('a-invites').textContent = a.invitesDisabled ? 'disabled' : 'enabled';
  $('act-takedown').hidden = s === 'takendown';
  $('act-untakedown').hidden = s !== 'takendown';
  $('act-deactivate').hidden = !!a.deactivatedAt;
  $('act-activate').hidden = !a.deactivatedAt;
  $('act-disable-invites').hidden = !!a.invitesDisabled;
  $('act-enable-invites').hidden = !a.invitesDisabled;
  fill('collections', a.collections.map((c) => row(c.collection, num(c.records))), 'No records.');
  fill('sessions', a.sessions.map((t) => row(t.appPassword ? `app password “${t.appPassword}”` : 'password', when(t.expiresAt))), 'No live sessions.');
  fill('app-passwords', a.appPasswords.map((p) => row(p.name, p.privileged ? 'yes' : 'no', when(p.createdAt))), 'No app passwords.');
  fill('account-invites', a.invites.map((c) => row(c.code, String(c.available), String(c.uses.length), c.disabled ? 'yes' : 'no')), 'No invite codes.');
}

async function reload() {
  try {
    show(await api(`/admin/api/account?did=${encodeURIComponent(did)}`));
  } catch (err) {
    fail(err);
  }
}

const messages = {
  takedown: 'Taken down: the account can no longer sign in, and its data is not served.',
  untakedown: 'Takedown lifted.',
  deactivate: 'Deactivated.',
  activate: 'Reactivated.',
  'disable-invites': 'Invites disabled.',
  'enable-invites': 'Invites enabled.',
};

async function act(action, value) {
  try {
    const res = await api('/admin/api/account/action', { did, action, ...(value !== undefined ? { value } : {}) });
    if (action === 'reset-password') say($('notice'), `New password (shown once; give it to the account holder): ${res.password}`, 'success');
    else if (action === 'send-reset-email') say($('notice'), `A password-reset email was sent to ${res.sentTo}.`, 'success');
    else if (action === 'change-handle') say($('notice'), `Handle changed to ${res.handle}.`, 'success');
    else say($('notice'), messages[action] || 'Done.', 'success');
    await reload();
  } catch (err) {
    fail(err);
  }
}

for (const action of ['takedown', 'untakedown', 'deactivate', 'activate', 'reset-password', 'send-reset-email', 'disable-invites', 'enable-invites']) {
  $(`act-${action}`).addEventListener('click', (e) => busy(e.target.closest('div'), () => act(action)));
}
$('handle-form').addEventListener('submit', (e) => {
  e.preventDefault();
  busy(e.target, () => act('change-handle', $('new-handle').value.trim()));
});
$('delete-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const typed = $('delete-confirm').value.trim();
  if (typed !== account?.handle && typed !== did) {
    say($('notice'), `Type the handle ${account?.handle} exactly to delete the account.`, 'error');
    return;
  }
  try {
    await api('/admin/api/account/action', { did, action: 'delete', value: typed });
    say($('notice'), `Deleted ${typed}.`, 'success');
    $('detail').hidden = true;
  } catch (err) {
    fail(err);
  }
});

if (did) reload();
else say($('notice'), 'No account given: open one from the accounts page.', 'error');

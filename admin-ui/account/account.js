// account.js - /account: sign in (or choose an account signed in on this browser), then see
// and take back what the account has given: apps and their permissions, browsers signed in,
// app passwords; and turn two-factor sign-in (TOTP) on or off.
import { api, csrfToken, say, $, el, busy } from '/static/common/app.js';
import { setupSignIn, prefillSignIn, showStep, brand } from '/static/oauth/signin.js';

const STEPS = ['step-loading', 'step-chooser', 'step-signin', 'step-account'];
const errorEl = $('error');
let accounts = [];
let current = null;

function label(a) {
  return a.handle ? `@${a.handle}` : a.did;
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function showChooser() {
  const list = $('accounts');
  list.replaceChildren();
  for (const a of accounts) {
    const b = el('button', null, { type: 'button', class: 'account-button' });
    b.append(el('span', label(a), { class: 'who' }), el('span', a.did, { class: 'sub' }));
    b.addEventListener('click', () => open(a));
    const li = el('li', null);
    li.append(b);
    list.append(li);
  }
  showStep(STEPS, 'step-chooser');
}

function showSignIn() {
  showStep(STEPS, 'step-signin');
  $('signin-back').hidden = !accounts.length;
  prefillSignIn('');
}

function item(parts, buttonText, onClick) {
  const li = el('li', null);
  for (const p of parts) li.append(p);
  if (buttonText) {
    const b = el('button', buttonText, { type: 'button', class: 'secondary' });
    b.addEventListener('click', () => onClick(b));
    const row = el('div', null, { class: 'item-actions' });
    row.append(b);
    li.append(row);
  }
  return li;
}

async function act(button, path, body, done) {
  say(errorEl, '');
  button.disabled = true;
  try {
    await api(path, { did: current.did, ...body });
    await done();
  } catch (err) {
    button.disabled = false;
    if (err.error === 'LoginRequired') return showSignIn();
    say(errorEl, err.message);
  }
}

function renderApps(apps) {
  const list = $('apps');
  list.replaceChildren();
  $('apps-empty').hidden = apps.length > 0;
  for (const a of apps) {
    const perms = el('ul', null, { class: 'permissions-summary' });
    for (const p of a.permissions) perms.append(el('li', p.title));
    list.append(
      item(
        [el('strong', a.host), el('div', a.clientId, { class: 'mono muted' }),
          el('div', `Allowed ${when(a.createdAt)} · ${a.activeSessions} active session(s)`, { class: 'muted' }), perms],
        `Revoke access for ${a.host}`,
        (b) => act(b, '/account/revoke-app', { clientId: a.clientId }, load),
      ),
    );
  }
}

function renderDevices(devices) {
  const list = $('devices');
  list.replaceChildren();
  for (const d of devices) {
    list.append(
      item(
        [el('strong', d.current ? 'This browser' : d.userAgent || 'A browser'),
          el('div', `${d.current && d.userAgent ? `${d.userAgent} · ` : ''}${d.ipAddress || ''}`, { class: 'muted' }),
          el('div', `Signed in ${when(d.signedInAt)} · last used ${when(d.lastUsedAt)}`, { class: 'muted' })],
        d.current ? null : 'Sign this browser out',
        (b) => act(b, '/account/revoke-device', { device: d.device }, load),
      ),
    );
  }
}

function renderAppPasswords(list) {
  const ul = $('app-passwords');
  ul.replaceChildren();
  $('app-passwords-empty').hidden = list.length > 0;
  for (const p of list) {
    ul.append(
      item(
        [el('strong', p.name), el('div', `${p.privileged ? 'Privileged · ' : ''}created ${when(p.createdAt)}`, { class: 'muted' })],
        `Revoke ${p.name}`,
        (b) => act(b, '/account/revoke-app-password', { name: p.name }, load),
      ),
    );
  }
}

function renderTotp(enabled) {
  $('totp-status').textContent = enabled
    ? 'On: signing in asks for a code from your authenticator app.'
    : 'Off: signing in needs only your password (and the email code, if you turned that on).';
  $('totp-start').hidden = enabled;
  $('totp-disable-form').hidden = !enabled;
  $('totp-enrol').hidden = true;
}

async function load() {
  try {
    const data = await api(`/account/data?did=${encodeURIComponent(current.did)}`);
    current.handle = data.handle;
    $('account-title').textContent = label(data);
    $('account-did').textContent = data.did;
    renderApps(data.apps);
    renderDevices(data.devices);
    renderAppPasswords(data.appPasswords);
    renderTotp(data.totp.enabled);
    return true;
  } catch (err) {
    if (err.error === 'LoginRequired') {
      showSignIn();
      prefillSignIn(current.handle || current.did);
      return false;
    }
    say(errorEl, err.message);
    return false;
  }
}

async function open(account) {
  current = account;
  say(errorEl, '');
  if (await load()) showStep(STEPS, 'step-account');
}

$('totp-start').addEventListener('click', async () => {
  try {
    const t = await api('/account/totp/start', { did: current.did });
    $('totp-secret').textContent = t.secret;
    $('totp-qr').src = `/account/totp/qr.svg?did=${encodeURIComponent(current.did)}&csrf_token=${encodeURIComponent(csrfToken())}&t=${Date.now()}`;
    $('totp-enrol').hidden = false;
    $('totp-start').hidden = true;
    $('totp-recovery').hidden = true;
    $('totp-code').focus();
  } catch (err) {
    say(errorEl, err.message);
  }
});
$('totp-cancel').addEventListener('click', () => renderTotp(false));
$('totp-enable-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const r = await busy(ev.target, () => api('/account/totp/enable', { did: current.did, code: $('totp-code').value.trim() }));
    $('totp-code').value = '';
    renderTotp(true);
    const ul = $('totp-codes');
    ul.replaceChildren(...r.recoveryCodes.map((c) => el('li', c)));
    $('totp-recovery').hidden = false;
    say(errorEl, 'Two-factor sign-in is on.', 'success');
  } catch (err) {
    say(errorEl, err.message);
  }
});
$('totp-disable-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    await busy(ev.target, () => api('/account/totp/disable', { did: current.did, code: $('totp-off-code').value.trim() }));
    $('totp-off-code').value = '';
    $('totp-recovery').hidden = true;
    renderTotp(false);
    say(errorEl, 'Two-factor sign-in is off.', 'success');
  } catch (err) {
    say(errorEl, err.message);
  }
});
$('sign-out').addEventListener('click', async () => {
  try {
    await api('/account/sign-out', { did: current.did });
    accounts = accounts.filter((a) => a.did !== current.did);
    current = null;
    if (accounts.length) showChooser();
    else showSignIn();
  } catch (err) {
    say(errorEl, err.message);
  }
});
$('switch').addEventListener('click', () => (accounts.length ? showChooser() : showSignIn()));
$('other-account').addEventListener('click', showSignIn);
$('signin-back').addEventListener('click', showChooser);

setupSignIn({
  errorEl,
  onSignedIn(account) {
    if (!accounts.some((a) => a.did === account.did)) accounts.unshift(account);
    open(account);
  },
});

brand();
api('/account/sessions')
  .then((data) => {
    accounts = data.accounts;
    if (accounts.length === 1) open(accounts[0]);
    else if (accounts.length) showChooser();
    else showSignIn();
  })
  .catch((err) => {
    showStep(STEPS, 'none');
    say(errorEl, err.message);
  });

// authorize.js - the OAuth authorize page: choose an account signed in on this browser (or
// sign in), then consent to the permissions the app asks for, unticking any but the first.
// What to show comes from /oauth/authorize/info; the answer goes to accept or reject, which
// return the address to send the browser back to the app.
import { api, say, $, el, busy } from '/static/common/app.js';
import { setupSignIn, prefillSignIn, showStep, brand } from '/static/oauth/signin.js';

const STEPS = ['step-loading', 'step-chooser', 'step-signin', 'step-consent'];
const requestUri = document.querySelector('meta[name="request-uri"]').content;
const errorEl = $('error');
let info = null;
let chosen = null;

function fail(err) {
  showStep(STEPS, 'none');
  say(errorEl, err.message || String(err));
  errorEl.focus();
}

function label(a) {
  return a.handle ? `@${a.handle}` : a.did;
}

function showChooser() {
  const list = $('accounts');
  list.replaceChildren();
  const hint = info.loginHint;
  for (const a of info.accounts) {
    if (hint && hint !== a.did && hint !== a.handle) continue;
    const b = el('button', null, { type: 'button', class: 'account-button' });
    b.append(el('span', label(a), { class: 'who' }));
    b.append(el('span', a.loginRequired ? 'Sign in again to continue' : a.did, { class: 'sub' }));
    b.addEventListener('click', () => {
      if (a.loginRequired || a.deactivated) {
        showStep(STEPS, 'step-signin');
        $('signin-back').hidden = false;
        prefillSignIn(a.handle || a.did);
        if (a.deactivated) say(errorEl, 'This account is deactivated.');
      } else {
        chosen = a;
        showConsent();
      }
    });
    const li = el('li', null);
    li.append(b);
    list.append(li);
  }
  if (!list.children.length) return false;
  showStep(STEPS, 'step-chooser');
  return true;
}

function showSignIn() {
  showStep(STEPS, 'step-signin');
  $('signin-back').hidden = !info.accounts.length;
  prefillSignIn(info.loginHint || '');
}

function showConsent() {
  say(errorEl, '');
  const c = info.client;
  $('consent-client').textContent = c.trusted && c.name ? c.name : c.host;
  // names and logos are the client's own claims: shown only for clients this server trusts
  const logo = $('client-logo');
  logo.hidden = !(c.trusted && c.logoUri);
  if (!logo.hidden) logo.src = c.logoUri;
  $('consent-account').textContent = label(chosen);
  $('client-note').textContent = c.loopback
    ? 'This is a development app running on your own computer.'
    : c.trusted
      ? `${c.name || c.host} is an app this server trusts (${c.clientId}).`
      : `The app is identified by its address, ${c.clientId}. Only continue if you started this from an app you trust.`;
  const list = $('permissions');
  list.replaceChildren();
  info.permissions.forEach((p, i) => {
    const id = `perm-${i}`;
    const box = el('input', null, { type: 'checkbox', id, 'data-scope': p.scope });
    box.checked = true;
    if (p.required) {
      box.disabled = true;
      box.setAttribute('aria-describedby', `${id}-req`);
    }
    const text = el('span', null);
    text.append(el('span', p.title, { class: 'title' }));
    text.append(el('span', p.detail, { class: 'detail' }));
    if (p.required) text.append(el('span', 'Always shared.', { class: 'detail', id: `${id}-req` }));
    text.append(el('span', p.scope, { class: 'scope' }));
    const lab = el('label', null, { for: id });
    lab.append(box, text);
    const li = el('li', null);
    li.append(lab);
    list.append(li);
  });
  // transition:chat.bsky works only with transition:generic: untick it along
  const generic = list.querySelector('input[data-scope="transition:generic"]');
  const chat = list.querySelector('input[data-scope="transition:chat.bsky"]');
  if (generic && chat) generic.addEventListener('change', () => { if (!generic.checked) chat.checked = false; });
  showStep(STEPS, 'step-consent');
}

async function answer(path, body) {
  const form = $('consent-form');
  try {
    const res = await busy(form, () => api(path, body));
    window.location.assign(res.redirect);
  } catch (err) {
    if (err.error === 'LoginRequired') {
      showSignIn();
      prefillSignIn(chosen.handle || chosen.did);
    }
    say(errorEl, err.message);
  }
}

$('consent-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const scope = [...$('permissions').querySelectorAll('input[type=checkbox]')]
    .filter((b) => b.checked)
    .map((b) => b.dataset.scope);
  answer('/oauth/authorize/accept', { request_uri: requestUri, did: chosen.did, scope });
});
$('deny').addEventListener('click', () => answer('/oauth/authorize/reject', { request_uri: requestUri }));
$('switch-account').addEventListener('click', () => {
  chosen = null;
  if (!showChooser()) showSignIn();
});
$('other-account').addEventListener('click', showSignIn);
$('signin-back').addEventListener('click', () => {
  say(errorEl, '');
  if (!showChooser()) showSignIn();
});

setupSignIn({
  errorEl,
  onSignedIn(account) {
    if (info.loginHint && info.loginHint !== account.did && info.loginHint !== account.handle) {
      say(errorEl, `The app asked for ${info.loginHint}: sign in to that account.`);
      return;
    }
    chosen = account;
    const known = info.accounts.find((a) => a.did === account.did);
    if (known) known.loginRequired = false;
    else info.accounts.unshift({ ...account, loginRequired: false });
    showConsent();
  },
});

brand();
api(`/oauth/authorize/info?request_uri=${encodeURIComponent(requestUri)}`)
  .then((data) => {
    info = data;
    if (info.prompt === 'login' || !showChooser()) showSignIn();
  })
  .catch(fail);

// signin.js - the sign-in form both the authorize page and /account use: handle or email and
// password, then (when the account has a second factor) the emailed code or a code from an
// authenticator app. Signs this browser in (POST /account/sign-in) and resolves with
// {did, handle}.
import { api, ApiError, say, $, busy } from '/static/common/app.js';

/**
 * Wires the form with ids signin-form, identifier, password, code-field, code, code-hint.
 * onSignedIn(account) runs after a successful sign-in; errorEl shows problems.
 */
export function setupSignIn({ errorEl, onSignedIn }) {
  const form = $('signin-form');
  const codeField = $('code-field');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say(errorEl, '');
    const identifier = $('identifier').value.trim();
    const password = $('password').value;
    const code = $('code').value.trim();
    if (!identifier || !password) {
      say(errorEl, 'Enter your handle or email and your password.');
      (identifier ? $('password') : $('identifier')).focus();
      return;
    }
    try {
      const account = await busy(form, () =>
        api('/account/sign-in', { identifier, password, code: code || undefined }),
      );
      $('password').value = '';
      $('code').value = '';
      codeField.hidden = true;
      onSignedIn(account);
    } catch (err) {
      if (err instanceof ApiError && err.error === 'AuthFactorTokenRequired') {
        const totp = err.data?.factor === 'totp';
        codeField.hidden = false;
        $('code-hint').textContent = totp
          ? '(from your authenticator app, or a recovery code)'
          : '(sent to your email address)';
        $('code').setAttribute('inputmode', totp ? 'numeric' : 'text');
        say(errorEl, err.message, 'info');
        $('code').focus();
        return;
      }
      say(errorEl, err.message);
      (codeField.hidden ? $('password') : $('code')).focus();
    }
  });
}

/** Fills the identifier (an account chosen, or the app's login hint) and focuses the next field. */
export function prefillSignIn(identifier) {
  $('identifier').value = identifier || '';
  $('code-field').hidden = true;
  $('code').value = '';
  (identifier ? $('password') : $('identifier')).focus();
}

/** Shows the section with this id among those given, hides the rest, focuses its heading. */
export function showStep(ids, id) {
  for (const s of ids) document.getElementById(s).hidden = s !== id;
  const h = document.querySelector(`#${id} h1`);
  if (h) h.focus();
}

/** Branding helpers: the logo and footer links come as data attributes (may be empty). */
export function brand() {
  const logo = document.getElementById('logo');
  if (logo && logo.dataset.src) {
    logo.src = logo.dataset.src;
    logo.hidden = false;
  }
  for (const a of document.querySelectorAll('#links a[data-href]')) {
    if (a.dataset.href) a.href = a.dataset.href;
    else a.remove();
  }
}

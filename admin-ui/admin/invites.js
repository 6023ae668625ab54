// invites.js - creating, listing and disabling invite codes.
import { api, $, el, say, busy } from '/static/common/app.js';
import { setup, fail, row, badge, when } from '/static/admin/admin.js';

setup();

let cursor = null;
const body = () => $('codes').querySelector('tbody');

function codeRow(c) {
  const state = c.disabled ? badge('disabled', 'bad') : c.available - c.uses.length > 0 || c.available === 0 ? badge('usable', 'active') : badge('used up', 'warn');
  const cell = c.disabled ? '' : el('button', 'Disable', { class: 'secondary small', type: 'button', 'data-code': c.code });
  return row(el('span', c.code, { class: 'mono' }), String(c.available), String(c.uses.length), c.forAccount, when(c.createdAt), state, cell);
}

async function load(more) {
  try {
    const params = new URLSearchParams({ limit: '50' });
    if (more && cursor) params.set('cursor', cursor);
    const d = await api(`/admin/api/invites?${params}`);
    if (!more) body().replaceChildren();
    body().append(...d.codes.map(codeRow));
    cursor = d.cursor || null;
    $('more').hidden = !cursor;
  } catch (err) {
    fail(err);
  }
}

$('create').addEventListener('submit', (e) => {
  e.preventDefault();
  busy(e.target, async () => {
    try {
      const forAccount = $('for-account').value.trim();
      const d = await api('/admin/api/invites/create', { useCount: Number($('uses').value), ...(forAccount ? { forAccount } : {}) });
      say($('created'), `Created ${d.code}`, 'success');
      $('created').dataset.code = d.code;
      await load(false);
    } catch (err) {
      fail(err);
    }
  });
});
body().addEventListener('click', async (e) => {
  const code = e.target.dataset?.code;
  if (!code) return;
  try {
    await api('/admin/api/invites/disable', { codes: [code] });
    say($('notice'), `Disabled ${code}.`, 'success');
    await load(false);
  } catch (err) {
    fail(err);
  }
});
$('more').addEventListener('click', () => load(true));
load(false);

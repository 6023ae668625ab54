// config.js - every setting, secrets redacted by the server.
import { api, $, el } from '/static/common/app.js';
import { setup, fail, fill, row } from '/static/admin/admin.js';

setup();

let settings = [];

function show() {
  const f = $('filter').value.trim().toLowerCase();
  const rows = settings
    .filter((s) => !f || s.name.toLowerCase().includes(f) || s.meaning.toLowerCase().includes(f))
    .map((s) => row(el('span', s.name, { class: 'mono' }), s.value === null ? el('span', 'unset', { class: 'muted' }) : s.value, s.section, s.meaning));
  fill('settings', rows, 'No setting matches.');
}

api('/admin/api/config')
  .then((d) => {
    settings = d.settings;
    show();
  })
  .catch(fail);
$('filter').addEventListener('input', show);

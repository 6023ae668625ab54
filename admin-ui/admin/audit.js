// audit.js - the audit log, newest first.
import { api, $ } from '/static/common/app.js';
import { setup, fail, row, when, badge } from '/static/admin/admin.js';

setup();

let before = null;

async function load() {
  try {
    const d = await api(`/admin/api/audit${before ? `?before=${before}` : ''}`);
    $('entries').querySelector('tbody').append(...d.entries.map((e) => row(when(e.at), e.actor, e.ip || '', e.action, e.subject || '', e.outcome === 'ok' ? badge('ok', 'active') : badge(e.outcome, 'bad'))));
    before = d.before || null;
    $('more').hidden = !before;
  } catch (err) {
    fail(err);
  }
}

$('more').addEventListener('click', load);
load();

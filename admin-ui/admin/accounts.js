// accounts.js - searching accounts by part of a handle, email or DID, a page at a time.
import { api, $, el } from '/static/common/app.js';
import { setup, fail, fill, row, badge, when } from '/static/admin/admin.js';

setup();

const PAGE = 25;
const stack = []; // cursors of the pages before this one
let cursor = null;
let next = null;

async function load() {
  const q = $('q').value.trim();
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (q) params.set('q', q);
  if (cursor) params.set('cursor', cursor);
  try {
    const d = await api(`/admin/api/accounts?${params}`);
    next = d.cursor || null;
    const rows = d.accounts.map((a) => {
      const link = el('a', a.handle, { href: `/admin/account?did=${encodeURIComponent(a.did)}` });
      return row(link, a.email || '', el('span', a.did, { class: 'mono' }), badge(a.status), when(a.createdAt));
    });
    fill('results', rows, q ? 'No account matches.' : 'No accounts yet.');
    $('next').disabled = !next;
    $('prev').disabled = stack.length === 0;
    $('page-info').textContent = `page ${stack.length + 1}`;
  } catch (err) {
    fail(err);
  }
}

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  stack.length = 0;
  cursor = null;
  load();
});
$('next').addEventListener('click', () => {
  stack.push(cursor);
  cursor = next;
  load();
});
$('prev').addEventListener('click', () => {
  cursor = stack.pop() ?? null;
  load();
});
const initial = new URLSearchParams(location.search).get('q');
if (initial) $('q').value = initial;
load();

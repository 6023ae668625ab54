// admin.js - what every console page shares: the navigation, signing out, and formatting.
import { api, $, el, say } from '/static/common/app.js';

const PAGES = [
  ['/admin', 'Dashboard'],
  ['/admin/accounts', 'Accounts'],
  ['/admin/invites', 'Invites'],
  ['/admin/reports', 'Reports'],
  ['/admin/relays', 'Relays'],
  ['/admin/config', 'Configuration'],
  ['/admin/audit', 'Audit log'],
];

/** Builds the navigation and wires the sign-out button. */
export function setup() {
  const nav = $('nav');
  const here = location.pathname.replace(/\/$/, '') || '/admin';
  for (const [href, name] of PAGES) {
    const a = el('a', name, { href });
    if (here === href || (href === '/admin/accounts' && here === '/admin/account')) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
  $('signout').addEventListener('click', async () => {
    try {
      await api('/admin/api/sign-out', {});
    } finally {
      location.href = '/admin/sign-in';
    }
  });
}

/** Shows an error from api() on the page's notice; a lost session goes to sign-in. */
export function fail(err) {
  if (err.status === 401) {
    location.href = '/admin/sign-in';
    return;
  }
  say($('notice'), err.message || String(err), 'error');
}

export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n) || 0;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function num(n) {
  return Number(n).toLocaleString('en-US');
}

export function when(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

/** A table row of cells (strings or elements). */
export function row(...cells) {
  const tr = el('tr');
  for (const c of cells) {
    const td = el('td');
    if (c instanceof Node) td.append(c);
    else td.textContent = c ?? '';
    tr.append(td);
  }
  return tr;
}

export function badge(text, kind = text) {
  return el('span', text, { class: `badge ${kind}` });
}

/** Fills table#id's body with rows, or one row saying empty. */
export function fill(id, rows, empty) {
  const body = $(id).querySelector('tbody');
  body.replaceChildren(...rows);
  if (!rows.length) {
    const cols = $(id).querySelectorAll('thead th').length;
    body.append(el('tr'));
    body.lastChild.append(el('td', empty, { colspan: String(cols), class: 'muted' }));
  }
}

/** Relay rows (dashboard and relays page). */
export function relayRows(data, withCrawl) {
  return data.relays.map((r) => {
    const v = r.view || {};
    let note = r.error ? `${r.error}${r.message ? `: ${r.message}` : ''}` : '';
    if (!r.error && typeof v.seq === 'number') {
      const behind = data.headSeq - v.seq;
      note = behind > 0 ? `${num(behind)} events behind our head (${num(data.headSeq)})` : 'up to date';
    }
    if (v.accountLimit !== undefined) note += ` · account limit ${v.accountLimit}`;
    const status = r.error ? badge('unreachable', 'bad') : badge(v.status || 'unknown', v.status === 'active' ? 'active' : 'warn');
    const cells = [r.url, status, v.seq ?? '', v.accountCount ?? '', note];
    if (withCrawl) {
      const b = el('button', 'Request crawl', { class: 'secondary small', type: 'button', 'data-url': r.url });
      cells.push(b);
    }
    return row(...cells);
  });
}

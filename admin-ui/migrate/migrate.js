// migrate.js - the job view both migration pages share: the plan before anything changes,
// live progress (records, blobs by count and bytes with the time left, the step list), the
// verification result, the recovery-key offer and the emailed code, and the end. The server
// does the work; this page only shows the job (polled every second) and passes the user's
// choices on. A recovery key is made here with WebCrypto: only its public half (a did:key)
// is ever sent to the server.
import { api, ApiError, say, $, el, busy } from '/static/common/app.js';

const POLL_MS = 1000;

const STEP_LABELS = {
  preflight: 'Check sizes, limits and what the new host needs',
  create_account: 'Create the account at the new host (switched off until the end)',
  import_repo: 'Copy the repository and check its signature',
  blobs: 'Copy images and other files, each checked against its fingerprint',
  preferences: 'Copy private preferences',
  verify: 'Check that every record and file is there and matches',
  plc_sign: 'The old host signs the change of identity (with the emailed code)',
  plc_submit: 'Submit the change to the identity directory',
  did_verify: 'Check that the identity names the new host and its key',
  activate: 'Switch the account on at the new host',
  deactivate_old: 'Switch it off at the old host',
};

/** Bytes in words. */
export function bytes(n) {
  if (!Number.isFinite(n)) return '?';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i += 1;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function duration(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 60) return `about ${Math.max(1, Math.round(s))} s left`;
  if (s < 3600) return `about ${Math.round(s / 60)} min left`;
  return `about ${(s / 3600).toFixed(1)} h left`;
}

/** Where the tab keeps its job: lost when the tab closes, so a new tab signs in again. */
const KEY = (dir) => `pds-migration-${dir}`;
export function savedJob(dir) {
  try {
    return JSON.parse(sessionStorage.getItem(KEY(dir)) || 'null');
  } catch {
    return null;
  }
}
export function saveJob(dir, ref) {
  if (ref) sessionStorage.setItem(KEY(dir), JSON.stringify({ id: ref.id, token: ref.token }));
  else sessionStorage.removeItem(KEY(dir));
}

// ---- a recovery key made in the browser (did:key of P-256) ----

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytesIn) {
  let n = 0n;
  for (const b of bytesIn) n = n * 256n + BigInt(b);
  let s = '';
  while (n > 0n) {
    s = B58[Number(n % 58n)] + s;
    n /= 58n;
  }
  for (const b of bytesIn) {
    if (b !== 0) break;
    s = '1' + s;
  }
  return s;
}
function fromB64url(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
const hex = (u8) => [...u8].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A new P-256 key pair: { didKey, privateHex, privateMultibase }. */
export async function makeRecoveryKey() {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)); // 0x04 ‖ X ‖ Y
  const compressed = new Uint8Array(33);
  compressed[0] = raw[64] & 1 ? 0x03 : 0x02;
  compressed.set(raw.slice(1, 33), 1);
  const pub = new Uint8Array([0x80, 0x24, ...compressed]); // multicodec p256-pub (0x1200)
  const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  const d = fromB64url(jwk.d);
  const priv = new Uint8Array([0x86, 0x26, ...d]); // multicodec p256-priv (0x1306)
  return { didKey: `did:key:z${base58(pub)}`, privateHex: hex(d), privateMultibase: `z${base58(priv)}` };
}

// ---- the view ----

function bar(id, label) {
  const wrap = el('div', null, { class: 'bar' });
  const text = el('p', label, { id: `${id}-text`, class: 'bar-label' });
  const p = el('progress', null, { id, max: '1', value: '0' });
  wrap.append(text, p);
  return wrap;
}

function buildView(root) {
  root.replaceChildren();
  const plan = el('div', null, { id: 'plan', hidden: '' });
  plan.append(
    el('h2', 'Before anything changes'),
    el('ul', null, { id: 'checks', class: 'plain checks' }),
    el('div', null, { id: 'handle-choice' }),
    el('div', null, { id: 'invite-row' }),
    el('h2', 'What will happen'),
    el('ol', null, { id: 'plan-steps', class: 'plan-steps' }),
    el('div', null, { class: 'actions', id: 'plan-actions' }),
  );
  const progress = el('div', null, { id: 'progress', hidden: '' });
  progress.append(
    el('h2', 'Moving your account', { id: 'progress-title' }),
    bar('bar-records', 'Records'),
    bar('bar-blobs', 'Files'),
    bar('bar-blob-bytes', 'Bytes'),
    el('p', '', { id: 'failure', class: 'notice error', role: 'alert' }),
    el('ul', null, { id: 'blob-errors', class: 'plain mono' }),
    el('div', null, { class: 'actions', id: 'failure-actions' }),
    el('h2', 'Steps'),
    el('ol', null, { id: 'steps', class: 'steps' }),
  );
  const token = el('div', null, { id: 'token', hidden: '' });
  const done = el('div', null, { id: 'done', hidden: '' });
  root.append(plan, token, progress, done);
}

function renderChecks(job) {
  const ul = $('checks');
  ul.replaceChildren();
  for (const c of job.plan?.checks ?? []) {
    const li = el('li', null, { class: `check ${c.level}`, 'data-check': c.id });
    li.append(el('span', c.level === 'ok' ? '✓' : c.level === 'warn' ? '!' : '✗', { class: 'mark', 'aria-hidden': 'true' }),
      el('span', c.text));
    ul.append(li);
  }
  const summary = el('li', null, { class: 'check ok' });
  summary.append(el('span', '•', { class: 'mark', 'aria-hidden': 'true' }),
    el('span', `${job.plan.records} records, ${job.plan.blobs} files (${bytes(job.plan.blobBytes)}), repository ${bytes(job.plan.carBytes)}.`));
  ul.append(summary);
}

function renderPlan(ctx, job) {
  renderChecks(job);
  const plan = job.plan;
  const hc = $('handle-choice');
  if (!hc.dataset.built) {
    hc.dataset.built = '1';
    hc.append(el('h2', 'Your handle at the new host'));
    if (plan.handleIsCustom) {
      const keep = el('label', null, { class: 'choice' });
      const r = el('input', null, { type: 'radio', name: 'handle-mode', value: 'keep', id: 'handle-keep', checked: '' });
      keep.append(r, el('span', ` Keep ${plan.handle} (your own domain)`));
      hc.append(keep);
    }
    const pick = el('label', null, { class: 'choice' });
    const r2 = el('input', null, { type: 'radio', name: 'handle-mode', value: 'new', id: 'handle-new' });
    if (!plan.handleIsCustom) r2.checked = true;
    pick.append(r2, el('span', ' A name under the new host:'));
    const row = el('div', null, { class: 'handle-row' });
    const sugg = String(plan.suggestedHandle && !plan.handleIsCustom ? plan.suggestedHandle : plan.handle || '');
    const front = sugg.split('.')[0] || '';
    const input = el('input', null, { type: 'text', id: 'handle-name', value: front, autocapitalize: 'none', spellcheck: 'false', 'aria-label': 'Name' });
    const sel = el('select', null, { id: 'handle-domain', 'aria-label': 'Domain' });
    for (const d of plan.domains ?? []) sel.append(el('option', d, { value: d }));
    row.append(input, sel);
    hc.append(pick, row);
    input.addEventListener('focus', () => (r2.checked = true));
  }
  const ir = $('invite-row');
  if (plan.inviteRequired && !ir.dataset.built) {
    ir.dataset.built = '1';
    ir.append(el('label', 'Invite code for the new host', { for: 'invite' }),
      el('input', null, { id: 'invite', type: 'text', autocapitalize: 'none', spellcheck: 'false' }));
  }
  const ol = $('plan-steps');
  if (!ol.children.length) {
    const oldHost = ctx.direction === 'in' ? job.oldHost : 'This server';
    for (const s of job.steps.filter((x) => x.name !== 'preflight')) {
      if (s.name === 'plc_sign') {
        ol.append(el('li', 'Offer you a recovery key that only you hold (optional)'),
          el('li', `${oldHost} emails you a code, and you type it here`));
      }
      ol.append(el('li', STEP_LABELS[s.name] || s.name));
    }
    ol.after(el('p', 'Nothing is switched off anywhere before the check of step 5 has passed. Until your identity moves you can cancel, and your current account stays as it is.', { class: 'muted', id: 'plan-note' }));
  }
  const acts = $('plan-actions');
  if (!plan.ok && !document.getElementById('plan-blocked')) {
    acts.before(el('p', 'A check marked ✗ did not pass, so this move cannot start. Nothing has changed anywhere.', { class: 'notice error', id: 'plan-blocked', role: 'alert' }));
  }
  if (!acts.children.length) {
    const go = el('button', 'Start the move', { type: 'button', id: 'start' });
    go.disabled = !plan.ok;
    go.addEventListener('click', () => ctx.confirm());
    const cancel = el('button', 'Cancel', { type: 'button', class: 'secondary', id: 'cancel-plan' });
    cancel.addEventListener('click', () => ctx.cancel());
    acts.append(go, cancel);
  }
}

function setBar(id, value, max, text) {
  const p = $(id);
  p.max = Math.max(1, max);
  p.value = Math.min(value, Math.max(1, max));
  $(`${id}-text`).textContent = text;
}

function renderProgress(ctx, job) {
  const pr = job.progress || {};
  const plan = job.plan || {};
  const recTotal = pr.recordsTotal ?? plan.records ?? 0;
  const recDone = pr.recordsImported ?? 0;
  setBar('bar-records', recDone, recTotal, `Records: ${recDone} of ${recTotal}` +
    (pr.repoBytesDownloaded && !recDone ? ` (downloading, ${bytes(pr.repoBytesDownloaded)})` : ''));
  const b = job.blobs || {};
  const total = b.total || plan.blobs || 0;
  setBar('bar-blobs', b.done || 0, total, `Files: ${b.done || 0} of ${total}`);
  const left = pr.blobs && pr.blobs.secondsLeft !== undefined && (b.done || 0) < total ? `, ${duration(pr.blobs.secondsLeft)}` : '';
  setBar('bar-blob-bytes', b.doneBytes || 0, b.totalBytes || plan.blobBytes || 0,
    `Bytes: ${bytes(b.doneBytes || 0)} of ${bytes(b.totalBytes || plan.blobBytes || 0)}${left}`);
  const ol = $('steps');
  ol.replaceChildren();
  const at = job.state === 'running' ? pr.step || job.step : job.step;
  for (const s of job.steps) {
    const current = !s.done && at === s.name && job.state !== 'done';
    const cls = s.done ? 'done' : current ? (job.state === 'failed' ? 'failed' : 'current') : 'todo';
    const li = el('li', null, { class: `step ${cls}`, 'data-step': s.name });
    li.append(el('span', s.done ? '✓' : current ? (job.state === 'failed' ? '✗' : '…') : '', { class: 'mark', 'aria-hidden': 'true' }),
      el('span', STEP_LABELS[s.name] || s.name));
    ol.append(li);
  }
  const failed = job.state === 'failed' || job.state === 'cancelled' || (job.state === 'running' && job.errorCode === 'Retrying');
  say($('failure'), failed ? job.error : '', job.state === 'running' ? 'warning' : 'error');
  const be = $('blob-errors');
  be.replaceChildren();
  if (job.state === 'failed') {
    for (const e of job.blobErrors ?? []) be.append(el('li', `${e.cid}: ${e.error}`));
    // what the check found missing at the new host
    if (job.errorCode === 'BlobsMissing') for (const cid of pr.verify?.missing ?? []) be.append(el('li', `${cid}: missing at the new host`));
  }
  const acts = $('failure-actions');
  acts.replaceChildren();
  if (job.state === 'failed') {
    const code = job.errorCode;
    if (code === 'BlobsMissing' || code === 'BlobsFailed') acts.append(ctx.button('Retry copying the files', () => ctx.retry('blobs'), 'retry-blobs'));
    if (code === 'RecordsMissing') acts.append(ctx.button('Retry copying the repository', () => ctx.retry('import_repo'), 'retry-repo'));
    if (code === 'SignInAgain') acts.append(ctx.button('Sign in again', () => ctx.signInAgain(), 'sign-in-again'));
    else acts.append(ctx.button('Retry', () => ctx.retry(), 'retry'));
    if (!job.steps.find((s) => s.name === 'plc_submit')?.done) acts.append(ctx.button('Cancel the move', () => ctx.cancel(), 'cancel', 'secondary'));
  }
}

function renderToken(ctx, job) {
  const box = $('token');
  if (!box.dataset.built) {
    box.dataset.built = '1';
    const oldHost = ctx.direction === 'in' ? job.oldHost : 'this server';
    box.append(
      el('h2', 'Everything is copied and checked'),
      el('p', `Records and files match the old host. The last step moves your identity (your DID) to ${ctx.direction === 'in' ? 'this server' : job.newHost}. Until then nothing has changed at ${oldHost}.`),
      el('h3', 'A recovery key that only you hold (optional)'),
      el('p', 'It lets you take your identity back even if a host misbehaves: it is listed first among the keys that may change your identity, and it is made here in your browser. This server only ever sees its public half. If you add one, keep it safe: anyone with it can take over your identity.', { class: 'muted' }),
    );
    const addRow = el('label', null, { class: 'choice' });
    const add = el('input', null, { type: 'checkbox', id: 'rk-add' });
    addRow.append(add, el('span', ' Add a recovery key that only I hold'));
    const keyBox = el('div', null, { id: 'rk-box', hidden: '' });
    keyBox.append(
      el('p', null, { id: 'rk-did', class: 'mono' }),
      el('label', 'Your private recovery key (copy it, or download the file)', { for: 'rk-private' }),
      el('textarea', null, { id: 'rk-private', readonly: '', rows: '2', class: 'mono' }),
      el('p', null, { class: 'actions' }),
    );
    const dl = el('a', 'Download the key file', { id: 'rk-download', class: 'button secondary', download: 'atproto-recovery-key.json', href: '#' });
    keyBox.lastChild.append(dl);
    const savedRow = el('label', null, { class: 'choice' });
    savedRow.append(el('input', null, { type: 'checkbox', id: 'rk-saved' }), el('span', ' I have saved my recovery key somewhere safe'));
    keyBox.append(savedRow);
    add.addEventListener('change', async () => {
      keyBox.hidden = !add.checked;
      if (add.checked && !ctx.recoveryKey) {
        ctx.recoveryKey = await makeRecoveryKey();
        $('rk-did').textContent = `Public key: ${ctx.recoveryKey.didKey}`;
        $('rk-private').value = ctx.recoveryKey.privateHex;
        const file = JSON.stringify({
          note: 'atproto PLC rotation key (P-256). Keep it secret.',
          did: job.did, publicKey: ctx.recoveryKey.didKey,
          privateKeyHex: ctx.recoveryKey.privateHex, privateKeyMultibase: ctx.recoveryKey.privateMultibase,
        }, null, 2);
        dl.href = URL.createObjectURL(new Blob([file], { type: 'application/json' }));
      }
    });
    const reqRow = el('div', null, { class: 'actions' });
    reqRow.append(ctx.button('Email me the code', () => ctx.requestToken(), 'request-token', 'secondary'));
    const form = el('form', null, { id: 'token-form' });
    form.append(
      el('label', `The code from the email ${ctx.direction === 'in' ? `sent by ${job.oldHost}` : 'we sent you'}`, { for: 'plc-token' }),
      el('input', null, { id: 'plc-token', type: 'text', autocomplete: 'one-time-code', spellcheck: 'false', autocapitalize: 'characters' }),
      el('div', null, { class: 'actions' }),
    );
    form.lastChild.append(el('button', 'Move my identity', { type: 'submit', id: 'plc-submit' }),
      ctx.button('Cancel the move', () => ctx.cancel(), 'cancel-token', 'secondary'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      ctx.submitToken(form);
    });
    box.append(addRow, keyBox, el('h3', 'The code'), reqRow, el('p', '', { id: 'token-sent', class: 'notice info' }), form);
  }
  if (job.errorCode === 'WrongToken') say($('notice'), job.error);
  if (job.progress?.tokenRequested && !$('token-sent').textContent) {
    say($('token-sent'), `A code is on its way to ${job.email}.`, 'info');
  }
}

function renderDone(ctx, job) {
  const box = $('done');
  box.replaceChildren();
  if (job.state === 'done') {
    const where = ctx.direction === 'in' ? 'this server' : job.newHost;
    box.append(el('p', `Done. Your account ${job.newHandle || ''} now lives at ${where}, and it is switched off at ${ctx.direction === 'in' ? job.oldHost : 'this server'}.`, { class: 'notice success', id: 'done-message' }),
      el('p', ctx.direction === 'in' ? 'Sign in to your app again with your handle and the same password.' : `Sign in to your app with your handle and the password you chose for ${job.newHost}.`));
  } else {
    box.append(el('p', job.error || 'The move was cancelled.', { class: 'notice info', id: 'done-message' }));
  }
}

function render(ctx, job) {
  ctx.job = job;
  const st = job.state;
  $('plan').hidden = st !== 'confirm';
  $('token').hidden = st !== 'awaiting_token';
  $('progress').hidden = st === 'confirm' || st === 'awaiting_token' || st === 'cancelled';
  $('done').hidden = st !== 'done' && st !== 'cancelled';
  if (st === 'preflight') $('progress-title').textContent = 'Checking your account…';
  else if (st === 'done') $('progress-title').textContent = 'Your account has moved';
  else $('progress-title').textContent = 'Moving your account';
  if (st === 'confirm') renderPlan(ctx, job);
  if (st === 'awaiting_token') renderToken(ctx, job);
  if (st !== 'confirm' && st !== 'cancelled') renderProgress(ctx, job);
  if (st === 'done' || st === 'cancelled') renderDone(ctx, job);
  document.body.dataset.state = st;
}

/**
 * Shows job ref {id, token} in #job and keeps it up to date. opts: { direction,
 * signInAgain() }.
 */
export function showJob(ref, { direction, signInAgain }) {
  const root = $('job');
  root.hidden = false;
  buildView(root);
  const headers = { 'X-Migration-Token': ref.token };
  const notice = $('notice');
  let timer = null;
  const ctx = {
    direction,
    job: null,
    recoveryKey: null,
    button(text, fn, id, cls) {
      const b = el('button', text, { type: 'button', id, ...(cls ? { class: cls } : {}) });
      b.addEventListener('click', async () => {
        b.disabled = true;
        try {
          await fn();
        } finally {
          b.disabled = false;
        }
      });
      return b;
    },
    async call(path, body = {}) {
      try {
        const job = await api(path, { id: ref.id, ...body }, { headers });
        say(notice, '');
        if (job) render(ctx, job);
        return job;
      } catch (err) {
        if (err instanceof ApiError && err.error === 'SignInAgain' && err.status === 401) {
          saveJob(direction, null);
          signInAgain?.();
        }
        say(notice, err.message);
        return null;
      }
    },
    async confirm() {
      const keep = document.getElementById('handle-keep');
      const handle = keep?.checked ? ctx.job.plan.handle : `${$('handle-name').value.trim().toLowerCase()}${$('handle-domain').value}`;
      const invite = document.getElementById('invite')?.value.trim();
      await ctx.call('/migrate/api/job/confirm', { handle, ...(invite ? { inviteCode: invite } : {}) });
    },
    async cancel() {
      if (!window.confirm('Cancel the move? Your current account stays as it is.')) return;
      await ctx.call('/migrate/api/job/cancel');
    },
    async retry(from) {
      await ctx.call('/migrate/api/job/retry', from ? { from } : {});
    },
    async requestToken() {
      const job = await ctx.call('/migrate/api/job/request-token');
      if (job) say($('token-sent'), `A code is on its way to ${job.email}. It arrives within a few minutes.`, 'info');
    },
    async submitToken(form) {
      const token = $('plc-token').value.trim();
      if (!token) return say(notice, 'Type the code from the email.');
      let rotationKey;
      if ($('rk-add').checked) {
        if (!ctx.recoveryKey) return say(notice, 'The recovery key is still being made; try again.');
        if (!$('rk-saved').checked) return say(notice, 'Save your recovery key first, and tick the box that says so.');
        rotationKey = ctx.recoveryKey.didKey;
      }
      await busy(form, () => ctx.call('/migrate/api/job/plc', { token, ...(rotationKey ? { rotationKey } : {}) }));
    },
    signInAgain() {
      saveJob(direction, null);
      clearTimeout(timer);
      signInAgain?.();
    },
  };
  async function poll() {
    try {
      const job = await api(`/migrate/api/job?id=${encodeURIComponent(ref.id)}`, undefined, { headers });
      if (notice.dataset.lost) {
        delete notice.dataset.lost;
        say(notice, '');
      }
      render(ctx, job);
      if (job.state === 'done' || job.state === 'cancelled') {
        saveJob(direction, null);
        return;
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        ctx.signInAgain();
        return;
      }
      notice.dataset.lost = '1';
      say(notice, 'Lost contact with this server; the move goes on without this page. Retrying…', 'warning');
    }
    timer = setTimeout(poll, POLL_MS);
  }
  poll();
  return ctx;
}

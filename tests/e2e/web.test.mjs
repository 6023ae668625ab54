// The web layer under every page: embedded assets under /static/ with ETag revalidation,
// templates never served raw, the branding stylesheet from PDS_*_COLOR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startPlc, startPds } from './lib/index.mjs';

/** GET with the path sent exactly as given (fetch would normalise dot segments). */
function rawGet(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
}

let plc;
let pds;

before(async () => {
  plc = await startPlc();
  pds = await startPds({ plcUrl: plc.url, env: { PDS_PRIMARY_COLOR: '#0a7aff', PDS_ERROR_COLOR: 'rgb(200, 0, 0)' } });
});
after(async () => {
  await pds?.stop();
  await plc?.stop();
});

test('assets are served with their type and an ETag, and revalidate to 304', async () => {
  const r = await fetch(`${pds.url}/static/common/style.css`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/css/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const etag = r.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  assert.match(await r.text(), /--primary/);
  const again = await fetch(`${pds.url}/static/common/style.css`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  const js = await fetch(`${pds.url}/static/common/app.js`);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
});

test('templates, missing files and escapes from /static/ are 404', async () => {
  for (const p of ['/static/common/error.html', '/static/nope.css', '/static/common/../common/style.css',
    '/static/common/%2e%2e/common/style.css', '/static/']) {
    assert.equal(await rawGet(pds.port, p), 404, p);
  }
});

test('brand.css carries the configured colours', async () => {
  const r = await fetch(`${pds.url}/static/brand.css`);
  assert.equal(r.status, 200);
  const css = await r.text();
  assert.match(css, /--primary: #0a7aff;/);
  assert.match(css, /--error: rgb\(200, 0, 0\);/);
  assert.doesNotMatch(css, /--warning/);
});

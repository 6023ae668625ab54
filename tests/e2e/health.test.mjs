// The server's unauthenticated basics: health, describeServer, XRPC errors and CORS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useTestEnv } from './lib/index.mjs';

const env = useTestEnv();

test('_health answers 200 with a version string', async () => {
  const res = await fetch(`${env.pds.url}/xrpc/_health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  const body = await res.json();
  assert.equal(typeof body.version, 'string');
  assert.ok(body.version.length > 0, 'version is not empty');
  assert.equal(body.error, undefined);
});

test('describeServer through AtpAgent returns did and availableUserDomains', async () => {
  const agent = env.pds.agent();
  const res = await agent.com.atproto.server.describeServer();
  assert.equal(res.success, true);
  const d = res.data;
  assert.equal(typeof d.did, 'string');
  assert.match(d.did, /^did:[a-z]+:\S+$/);
  assert.ok(Array.isArray(d.availableUserDomains), 'availableUserDomains is an array');
  assert.deepEqual(d.availableUserDomains, ['.test']);
  // PDS_INVITE_REQUIRED=false: the server must not claim invites are needed.
  assert.notEqual(d.inviteCodeRequired, true);
});

test('describeServer refuses POST with the XRPC error shape', async () => {
  const res = await fetch(`${env.pds.url}/xrpc/com.atproto.server.describeServer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.ok(res.status >= 400 && res.status < 500, `status ${res.status} is a client error`);
  const body = await res.json();
  assert.equal(typeof body.error, 'string');
});

test('an unknown NSID answers with the XRPC error shape', async () => {
  const res = await fetch(`${env.pds.url}/xrpc/com.example.e2e.doesNotExist`);
  assert.ok([400, 404, 501].includes(res.status), `unexpected status ${res.status}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  const body = await res.json();
  assert.equal(typeof body.error, 'string');
  assert.match(body.error, /^[A-Za-z][A-Za-z0-9]*$/, 'error is a spaceless token');
  if (body.message !== undefined) assert.equal(typeof body.message, 'string');
});

test('CORS preflight allows a browser client with an Authorization header', async () => {
  const origin = 'http://app.example.test';
  const res = await fetch(`${env.pds.url}/xrpc/com.atproto.server.describeServer`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization,content-type,atproto-proxy',
    },
  });
  assert.ok(res.status === 200 || res.status === 204, `preflight status ${res.status}`);
  const allowOrigin = res.headers.get('access-control-allow-origin');
  assert.ok(allowOrigin === '*' || allowOrigin === origin, `allow-origin ${allowOrigin}`);
  const methods = (res.headers.get('access-control-allow-methods') ?? '').toUpperCase();
  assert.ok(methods === '*' || methods.split(/\s*,\s*/).includes('GET'), `allow-methods ${methods}`);
  // A wildcard does not cover Authorization (Fetch standard), so it must be named.
  const allowHeaders = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
  for (const h of ['authorization', 'content-type', 'atproto-proxy']) {
    assert.ok(allowHeaders.includes(h), `allow-headers ${allowHeaders.join(',')} lacks ${h}`);
  }
});

test('a simple cross-origin GET carries Access-Control-Allow-Origin', async () => {
  const origin = 'http://app.example.test';
  const res = await fetch(`${env.pds.url}/xrpc/com.atproto.server.describeServer`, { headers: { origin } });
  assert.equal(res.status, 200);
  const allowOrigin = res.headers.get('access-control-allow-origin');
  assert.ok(allowOrigin === '*' || allowOrigin === origin, `allow-origin ${allowOrigin}`);
});

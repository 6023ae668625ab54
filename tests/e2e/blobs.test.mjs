// Blobs end to end: uploadBlob through @atproto/api, a post embedding the image, getBlob's
// bytes, safety headers and ranges; temporary uploads (invisible until referenced, expired
// by the sweeper), blobs deleted with their last record, the sharded disk layout, the
// upload limit (413), a missing Content-Type, listBlobs, and the per-account storage quota.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { createAccount, useTestEnv, waitFor } from './lib/index.mjs';

const UPLOAD_LIMIT = 1 << 20;
const QUOTA = 3 << 20;
const GRACE_MS = 2000;
const env = useTestEnv({
  pds: {
    env: {
      PDS_BLOB_UPLOAD_LIMIT: String(UPLOAD_LIMIT),
      PDS_ACCOUNT_STORAGE_QUOTA: String(QUOTA),
      PDS_BLOB_TEMP_GRACE: String(GRACE_MS),
      PDS_BLOB_SWEEP_INTERVAL: '250',
    },
  },
});

const PNG_MAGIC = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

function pngLike(n) {
  return Buffer.concat([PNG_MAGIC, crypto.randomBytes(n - PNG_MAGIC.length)]);
}

/** The raw CID (bafkrei...) of bytes, computed here independently of the server. */
function rawCid(bytes) {
  const digest = crypto.createHash('sha256').update(bytes).digest();
  const cid = Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), digest]);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = 'b';
  for (const byte of cid) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Where the disk store keeps a blob: <root>/<2 hex of sha256(did)>/<did>/<cid[-8:-6]>/<cid>. */
function blobPath(did, cid) {
  const shard = crypto.createHash('sha256').update(did).digest('hex').slice(0, 2);
  return path.join(env.pds.dataDir, 'blobs', shard, did, cid.slice(-8, -6), cid);
}

async function getBlob(did, cid, headers = {}) {
  return fetch(`${env.pds.url}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(did)}&cid=${cid}`, { headers });
}

async function xrpcError(promise) {
  try {
    await promise;
  } catch (err) {
    return { status: err.status, error: err.error, message: err.message };
  }
  assert.fail('expected an XRPC error');
}

async function postWithImage(agent, blob, text = 'with an image') {
  return agent.post({
    text,
    embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'noise', image: blob }] },
  });
}

async function dbQuery(sql, params) {
  const client = new pg.Client({ connectionString: env.pds.dbUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

test('an uploaded image is served with its bytes, type, safety headers and ranges', async () => {
  const { agent, did } = await createAccount(env.pds);
  const bytes = pngLike(70000);
  const up = await agent.uploadBlob(bytes, { encoding: 'image/png' });
  const cid = rawCid(bytes);
  assert.equal(up.data.blob.ref.toString(), cid);
  assert.equal(up.data.blob.mimeType, 'image/png');
  assert.equal(up.data.blob.size, bytes.length);

  // temporary until a record references it: not served, not listed
  let res = await getBlob(did, cid);
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'BlobNotFound');

  await postWithImage(agent, up.data.blob);
  res = await getBlob(did, cid);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(res.headers.get('content-length'), String(bytes.length));
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; sandbox");
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="${cid}"`);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'getBlob bytes equal the upload');
  assert.ok(fs.existsSync(blobPath(did, cid)), 'bytes are in the sharded disk layout');

  res = await getBlob(did, cid, { Range: 'bytes=100-199' });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(100, 200)));
  res = await getBlob(did, cid, { Range: 'bytes=-10' });
  assert.equal(res.status, 206);
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(bytes.length - 10)));
  res = await getBlob(did, cid, { Range: `bytes=${bytes.length}-` });
  assert.equal(res.status, 416);
  assert.equal(res.headers.get('content-range'), `bytes */${bytes.length}`);
  await res.arrayBuffer();

  const listed = await agent.com.atproto.sync.listBlobs({ did });
  assert.deepEqual(listed.data.cids, [cid]);
  const head = await agent.com.atproto.sync.getLatestCommit({ did });
  const later = await agent.com.atproto.sync.listBlobs({ did, since: head.data.rev });
  assert.deepEqual(later.data.cids, [], 'nothing written after the latest rev');
});

test('a recognised signature wins over the declared type; the declared type stands otherwise', async () => {
  const { agent } = await createAccount(env.pds);
  const jpeg = Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), crypto.randomBytes(100)]);
  const a = await agent.uploadBlob(jpeg, { encoding: 'text/plain' });
  assert.equal(a.data.blob.mimeType, 'image/jpeg');
  const text = Buffer.from('just some text, no magic number');
  const b = await agent.uploadBlob(text, { encoding: 'text/plain' });
  assert.equal(b.data.blob.mimeType, 'text/plain');
});

test('deleting the last record referencing a blob removes it, bytes included (sweeper)', async () => {
  const { agent, did } = await createAccount(env.pds);
  const bytes = pngLike(5000);
  const cid = rawCid(bytes);
  const up = await agent.uploadBlob(bytes, { encoding: 'image/png' });
  const p1 = await postWithImage(agent, up.data.blob, 'first');
  const p2 = await postWithImage(agent, up.data.blob, 'second');
  await agent.deletePost(p1.uri);
  assert.equal((await getBlob(did, cid)).status, 200, 'still referenced by the second post');
  await agent.deletePost(p2.uri);
  const res = await getBlob(did, cid);
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'BlobNotFound');
  await waitFor(() => !fs.existsSync(blobPath(did, cid)), { what: 'the sweeper deleting the bytes', timeoutMs: 10000 });
  assert.deepEqual((await agent.com.atproto.sync.listBlobs({ did })).data.cids, []);
  const rows = await dbQuery('SELECT blob_bytes FROM account WHERE did = $1', [did]);
  assert.equal(Number(rows[0].blob_bytes), 0, 'blob bytes accounted back to zero');
});

test('an upload no record references expires after the grace period', async () => {
  const { agent, did } = await createAccount(env.pds);
  const bytes = pngLike(3000);
  const cid = rawCid(bytes);
  const up = await agent.uploadBlob(bytes, { encoding: 'image/png' });
  assert.ok(fs.existsSync(blobPath(did, cid)));
  await waitFor(() => !fs.existsSync(blobPath(did, cid)), { what: 'the sweeper expiring the upload', timeoutMs: GRACE_MS + 10000 });
  const err = await xrpcError(postWithImage(agent, up.data.blob));
  assert.equal(err.status, 400);
  assert.equal(err.error, 'BlobNotFound');
});

test('uploads past PDS_BLOB_UPLOAD_LIMIT get 413; a missing Content-Type is refused', async () => {
  const { agent } = await createAccount(env.pds);
  const described = await env.pds.agent().com.atproto.server.describeServer();
  assert.equal(described.data.blobUploadLimit, UPLOAD_LIMIT, 'describeServer advertises the limit');
  const ok = await agent.uploadBlob(crypto.randomBytes(UPLOAD_LIMIT), { encoding: 'application/octet-stream' });
  assert.equal(ok.data.blob.size, UPLOAD_LIMIT);
  const err = await xrpcError(agent.uploadBlob(crypto.randomBytes(UPLOAD_LIMIT + 1), { encoding: 'application/octet-stream' }));
  assert.equal(err.status, 413);
  assert.equal(err.error, 'PayloadTooLarge');

  const res = await fetch(`${env.pds.url}/xrpc/com.atproto.repo.uploadBlob`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agent.session.accessJwt}` },
    body: new Uint8Array([1, 2, 3]),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error, 'InvalidRequest');
  assert.match(body.message, /Content-Type/);

  const anon = await fetch(`${env.pds.url}/xrpc/com.atproto.repo.uploadBlob`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: new Uint8Array([1, 2, 3]),
  });
  assert.equal(anon.status, 401);
});

test('the storage quota refuses uploads and record writes past it, never deletes', async () => {
  const { agent, did } = await createAccount(env.pds);
  const first = await agent.post({ text: 'before the quota is full' });
  const [{ used }] = await dbQuery(
    `SELECT a.repo_bytes + a.blob_bytes + coalesce((SELECT sum(size) FROM blob b
       WHERE b.did = a.did AND b.temp_key IS NOT NULL), 0) AS used FROM account a WHERE did = $1`,
    [did],
  );
  let left = QUOTA - Number(used);
  // fill to just under the quota with uploads (each at most the upload limit)
  while (left > 64) {
    const n = Math.min(UPLOAD_LIMIT, left - 32);
    await agent.uploadBlob(crypto.randomBytes(n), { encoding: 'application/octet-stream' });
    left -= n;
  }
  const over = await xrpcError(agent.uploadBlob(crypto.randomBytes(100), { encoding: 'application/octet-stream' }));
  assert.equal(over.status, 400);
  assert.equal(over.error, 'StorageQuotaExceeded');
  const write = await xrpcError(agent.post({ text: 'this post does not fit any more' }));
  assert.equal(write.error, 'StorageQuotaExceeded');
  await agent.deletePost(first.uri); // deletes always work
});

// ---- the S3 backend against a real S3-compatible server on loopback ----
// s3rver (npm) speaks S3 but does not check SigV4 signatures, so a small front proxy here
// checks every request's signature (recomputed in JS, independently of the server's C code,
// whose signer is also tested against AWS's published examples) and the PUT payload hash
// before passing it on. Skipped when s3rver is not installed.
const S3_KEY = 'S3RVER';
const S3_SECRET = 'S3RVER';

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data).digest();
}

function sigv4Valid(req, body) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/
    .exec(req.headers.authorization || '');
  if (!m || m[1] !== S3_KEY) return false;
  const [, , date, region, signed, sig] = m;
  const names = signed.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date') || !names.includes('x-amz-content-sha256')) return false;
  const hash = req.headers['x-amz-content-sha256'];
  if (hash !== crypto.createHash('sha256').update(body).digest('hex')) return false;
  const [pathPart, query = ''] = req.url.split('?');
  const canonHeaders = names.map((n) => `${n}:${String(req.headers[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, pathPart, query, canonHeaders, signed, hash].join('\n');
  const sts = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], `${date}/${region}/s3/aws4_request`,
    crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
  let k = hmac(`AWS4${S3_SECRET}`, date);
  for (const part of [region, 's3', 'aws4_request']) k = hmac(k, part);
  return hmac(k, sts).toString('hex') === sig;
}

test('the S3 blob store: signed uploads, reads, ranges and deletes against s3rver', async (t) => {
  let S3rver;
  try {
    S3rver = (await import('s3rver')).default;
  } catch {
    t.skip('s3rver is not installed (npm install --no-save s3rver in tests/e2e)');
    return;
  }
  const { freePort, startPds } = await import('./lib/index.mjs');
  const http = await import('node:http');
  const os = await import('node:os');
  const s3dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-s3rver-'));
  const s3port = await freePort();
  const s3 = new S3rver({ port: s3port, address: '127.0.0.1', directory: s3dir, silent: true,
    configureBuckets: [{ name: 'pds-blobs' }] });
  await s3.run();
  const seen = { ok: [], bad: 0, lastGet: null };
  const front = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (!sigv4Valid(req, body)) {
      seen.bad++;
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
      return;
    }
    seen.ok.push(`${req.method} ${req.url}`);
    if (req.method === 'GET') seen.lastGet = { url: req.url, headers: { ...req.headers } };
    const up = http.request({ host: '127.0.0.1', port: s3port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.end(body);
  });
  const frontPort = await freePort();
  await new Promise((r) => front.listen(frontPort, '127.0.0.1', r));
  const pds = await startPds({
    plcUrl: env.plc.url,
    env: {
      PDS_BLOBSTORE_DISK_LOCATION: '',
      PDS_BLOBSTORE_S3_BUCKET: 'pds-blobs',
      PDS_BLOBSTORE_S3_REGION: 'eu-central-1',
      PDS_BLOBSTORE_S3_ENDPOINT: `http://127.0.0.1:${frontPort}`,
      PDS_BLOBSTORE_S3_FORCE_PATH_STYLE: 'true',
      PDS_BLOBSTORE_S3_ACCESS_KEY_ID: S3_KEY,
      PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY: S3_SECRET,
      PDS_BLOB_SWEEP_INTERVAL: '200',
    },
  });
  try {
    const { agent, did } = await createAccount(pds);
    const bytes = pngLike(300000);
    const cid = rawCid(bytes);
    const up = await agent.uploadBlob(bytes, { encoding: 'image/png' });
    const post = await postWithImage(agent, up.data.blob);
    const url = `${pds.url}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(did)}&cid=${cid}`;
    let res = await fetch(url);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'bytes round-trip through S3');
    res = await fetch(url, { headers: { Range: 'bytes=1000-1999' } });
    assert.equal(res.status, 206);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(1000, 2000)));
    const key = `/pds-blobs/blocks/${encodeURIComponent(did)}/${cid}`;
    assert.ok(seen.ok.includes(`PUT ${key}`), `a signed PUT of ${key}: ${seen.ok.join(', ')}`);
    const direct = await fetch(`http://127.0.0.1:${s3port}${key}`, { method: 'HEAD' });
    assert.equal(direct.status, 200, 'the object is in the bucket');

    await agent.deletePost(post.uri);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${s3port}${key}`, { method: 'HEAD' })).status === 404,
      { what: 'the sweeper deleting the object', timeoutMs: 10000 });
    assert.ok(seen.ok.includes(`DELETE ${key}`));
    assert.equal(seen.bad, 0, 'every request carried a valid SigV4 signature');
    // negative control: the same signed headers on another key must not pass the check
    const replay = await fetch(`http://127.0.0.1:${frontPort}${seen.lastGet.url}x`, { headers: seen.lastGet.headers });
    assert.equal(replay.status, 403);
    assert.equal(seen.bad, 1);
  } finally {
    await pds.stop();
    front.close();
    await s3.close();
    fs.rmSync(s3dir, { recursive: true, force: true });
  }
});

// `pdsadmin doctor` against a correct local setup of a host named pds.test: DNS (dnsmasq
// answering the name and a wildcard for handles), TLS (a proxy with a certificate from a
// test CA), the PLC directory, a relay that knows the host, a mail server that takes the
// test mail, an account whose DID document is right. Every check passes; then each broken
// piece in turn (wrong DNS, SMTP down, PLC down) is named, with what to do about it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, createAccount, startPds, startPlc } from './lib/index.mjs';
import { startDns } from './lib/dns.mjs';
import { startSmtp } from './lib/mail.mjs';
import { runPdsadmin } from './lib/ops.mjs';

const HOST = 'pds.test';

/** A CA and a certificate for HOST and *.HOST signed by it (openssl). */
function makeCerts(dir) {
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=doctor test CA');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr',
    '-subj', `/CN=${HOST}`);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=DNS:${HOST},DNS:*.${HOST}\n`);
  run('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.pem',
    '-days', '60', '-extfile', 'ext.cnf');
}

/** The TLS proxy in front of the server, as Caddy would be. */
async function startTlsProxy(dir, target) {
  const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'tls.key')), cert: fs.readFileSync(path.join(dir, 'tls.pem')) }, (req, res) => {
    const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, stop: () => new Promise((r) => server.close(r)) };
}

async function startRelay() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://relay');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/xrpc/com.atproto.sync.getHostStatus' && url.searchParams.get('hostname') === HOST) {
      res.end(JSON.stringify({ hostname: HOST, seq: 1, accountCount: 1, status: 'active' }));
    } else {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: 'HostNotFound', message: 'unknown host' }));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => server.close(r)) };
}

let tmp;
let plc;
let pds;
let dns;
let smtp;
let tls;
let relay;
let envFile;

async function doctor() {
  const res = await runPdsadmin(['doctor', '--mail-to', 'ops@example.com', '--https-port', String(tls.port),
    '--ca-file', path.join(tmp, 'ca.pem')], { env: { PDS_ENV_FILE: envFile } });
  const checks = Object.fromEntries(
    [...res.stdout.matchAll(/^\[(ok  |warn|skip|FAIL)\] (\S+)\s+(.*)$/gm)].map((m) => [m[2], { status: m[1].trim(), message: m[3] }]),
  );
  return { ...res, checks };
}

describe('pdsadmin doctor', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-doctor-e2e-'));
    makeCerts(tmp);
    dns = await startDns({}, { addresses: { [HOST]: '127.0.0.1' } });
    smtp = await startSmtp();
    relay = await startRelay();
    plc = await startPlc();
    pds = await startPds({
      plcUrl: plc.url,
      env: {
        PDS_HOSTNAME: HOST,
        PDS_SERVICE_HANDLE_DOMAINS: `.${HOST}`,
        PDS_EMAIL_SMTP_URL: smtp.url,
        PDS_EMAIL_FROM_ADDRESS: `pds@${HOST}`,
        PDS_CRAWLERS: relay.url,
      },
    });
    tls = await startTlsProxy(tmp, pds.port);
    await createAccount(pds, { handle: `alice.${HOST}` });
    envFile = path.join(tmp, 'pds.env');
    fs.writeFileSync(envFile, [
      `PDS_HOSTNAME=${HOST}`,
      `PDS_ADMIN_URL=${pds.url}`,
      `PDS_ADMIN_PASSWORD=${ADMIN_PASSWORD}`,
      `PDS_DID_PLC_URL=${plc.url}`,
      `PDS_SERVICE_HANDLE_DOMAINS=.${HOST}`,
      `PDS_HANDLE_DNS_SERVER=${dns.server}`,
      `PDS_CRAWLERS=${relay.url}`,
    ].join('\n') + '\n');
  });
  after(async () => {
    await tls?.stop();
    await pds?.stop();
    await plc?.stop();
    await relay?.stop();
    await smtp?.stop();
    await dns?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a correct setup passes every check', async () => {
    const r = await doctor();
    if (process.env.PDS_E2E_SHOW) console.log(r.stdout.replace(/^/gm, '# '));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /All checks passed\./);
    for (const name of ['server', 'database', 'blob-store', 'disk-data', 'email', 'did-documents', 'dns-hostname',
      'dns-handles', 'tls', 'plc', 'relay', 'clock-server', 'clock-plc']) {
      assert.ok(r.checks[name], `${name} ran: ${r.stdout}`);
      assert.notEqual(r.checks[name].status, 'FAIL', `${name}: ${r.checks[name].message}`);
    }
    assert.equal(r.checks.tls.status, 'ok');
    assert.match(r.checks.tls.message, /valid certificate, expiring in (59|60) days/);
    assert.match(r.checks['dns-handles'].message, /handles under \.pds\.test resolve here/);
    assert.equal(r.checks.email.status, 'ok');
    assert.ok(smtp.mailsTo('ops@example.com').length >= 1, 'the test mail arrived');
  });

  test('wrong DNS: handles that do not resolve here are named, with the fix', async () => {
    await dns.setRecords({}, { hosts: { [HOST]: '127.0.0.1' } }); // the name, but no wildcard
    try {
      const r = await doctor();
      assert.equal(r.code, 1);
      assert.equal(r.checks['dns-hostname'].status, 'ok');
      assert.equal(r.checks['dns-handles'].status, 'FAIL');
      assert.match(r.checks['dns-handles'].message, /handles under \.pds\.test do not resolve/);
      assert.match(r.stdout, /fix: add a wildcard record \*\.pds\.test with the same address as pds\.test/);
      await dns.setRecords({}, { addresses: { [HOST]: '10.9.9.9' } }); // everything elsewhere
      const elsewhere = await doctor();
      assert.equal(elsewhere.checks.tls.status, 'FAIL', 'nothing answers TLS at the wrong address');
    } finally {
      await dns.setRecords({}, { addresses: { [HOST]: '127.0.0.1' } });
    }
  });

  test('SMTP down: the email check fails and says where to look', async () => {
    await smtp.stop();
    const r = await doctor();
    assert.equal(r.code, 1);
    assert.equal(r.checks.email.status, 'FAIL');
    assert.match(r.checks.email.message, /the mail server did not accept a test mail to ops@example\.com/);
    assert.match(r.stdout, /fix: check PDS_EMAIL_SMTP_URL/);
    smtp = null;
  });

  test('PLC down: the PLC check fails, naming the directory', async () => {
    const url = plc.url;
    await plc.stop();
    plc = null;
    const r = await doctor();
    assert.equal(r.code, 1);
    assert.equal(r.checks.plc.status, 'FAIL');
    assert.match(r.checks.plc.message, new RegExp(`the PLC directory ${url.replace(/[.]/g, '\\.')} \\(PDS_DID_PLC_URL\\) is unreachable`));
    assert.match(r.stdout, /fix: check PDS_DID_PLC_URL/);
  });
});

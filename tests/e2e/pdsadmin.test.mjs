// pdsadmin end to end: every command run as a separate process against a running server
// (invites required, as the reference installs), its settings taken from an env file, the
// environment or flags, exit codes (0 done, 1 failed, 2 bad usage) and clear errors for a
// server that is down or a wrong password; `account list` pages past one listRepos page.
// Next to a development server in its zero-configuration defaults (as ./scripts/run.sh
// starts it), pdsadmin finds what the server found: the generated admin password in
// ./data/secrets.env and the listen address.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createAccount, freePort, login, randomHex, startPds, useTestEnv } from './lib/index.mjs';
import { runPdsadmin, xrpcRaw } from './lib/ops.mjs';

const env = useTestEnv({ pds: { env: { PDS_INVITE_REQUIRED: 'true' } } });
let tmp;
let envFile;

/** pdsadmin with the test server's env file. */
const pa = (args, opts = {}) => runPdsadmin(args, { ...opts, env: { PDS_ENV_FILE: envFile, ...opts.env } });
const admin = (nsid, opts = {}) => xrpcRaw(env.pds, nsid, { auth: env.pds.adminAuth(), ...opts });

async function inviteAccount() {
  const code = (await admin('com.atproto.server.createInviteCode', { body: { useCount: 1 } })).body.code;
  return createAccount(env.pds, { inviteCode: code });
}

function field(stdout, name) {
  return new RegExp(`^\\s*${name}:\\s+(.*)$`, 'm').exec(stdout)?.[1]?.trim();
}

describe('pdsadmin', () => {
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdsadmin-e2e-'));
    envFile = path.join(tmp, 'pds.env');
    // the same file the server would read: comments, quotes and `export` are allowed
    fs.writeFileSync(
      envFile,
      [
        '# written by the test',
        'PDS_HOSTNAME=localhost',
        `export PDS_PORT=${env.pds.port}`,
        `PDS_ADMIN_PASSWORD="${env.pds.adminPassword}"`,
        'PDS_JWT_SECRET=unused',
        '',
      ].join('\n'),
    );
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('help, version and unknown commands', async () => {
    let r = await pa(['help']);
    assert.equal(r.code, 0);
    for (const cmd of ['account list', 'account create', 'account delete', 'account takedown',
      'account untakedown', 'account reset-password', 'account info', 'create-invite-code',
      'request-crawl', 'status']) {
      assert.ok(r.stdout.includes(cmd), `help lists ${cmd}`);
    }
    assert.equal((await pa([])).code, 0);
    r = await pa(['version']);
    assert.match(r.stdout, /^pdsadmin \d+\.\d+\.\d+\n$/);
    r = await pa(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    r = await pa(['--bogus', 'status']);
    assert.equal(r.code, 2);
    r = await pa(['account', 'explode']);
    assert.equal(r.code, 2);
  });

  test('clear errors: no password, wrong password, server down, missing env file', async () => {
    let r = await runPdsadmin(['account', 'list'], { env: { PDS_PORT: String(env.pds.port) } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no admin password/);
    r = await pa(['account', 'list'], { env: { PDS_ADMIN_PASSWORD: 'wrong' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused the admin password/);
    const dead = await freePort();
    r = await pa(['--url', `http://127.0.0.1:${dead}`, 'status']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is down/);
    r = await pa(['--url', `http://127.0.0.1:${dead}`, 'create-invite-code']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /could not reach .*is the server running/);
    r = await runPdsadmin(['status'], { env: { PDS_ENV_FILE: path.join(tmp, 'absent.env') } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not exist/);
  });

  test('settings from flags and the environment override the env file', async () => {
    const code = (await admin('com.atproto.server.createInviteCode', { body: { useCount: 1 } })).status;
    assert.equal(code, 200);
    // flags only, with an empty env file
    let r = await runPdsadmin(['--url', env.pds.url, '--admin-password', env.pds.adminPassword, 'create-invite-code']);
    assert.equal(r.code, 0, r.stderr);
    // environment beats the file's (wrong) password
    const bad = path.join(tmp, 'bad.env');
    fs.writeFileSync(bad, `PDS_PORT=${env.pds.port}\nPDS_ADMIN_PASSWORD=nope\n`);
    r = await runPdsadmin(['create-invite-code'], { env: { PDS_ENV_FILE: bad } });
    assert.equal(r.code, 1);
    r = await runPdsadmin(['create-invite-code'], {
      env: { PDS_ENV_FILE: bad, PDS_ADMIN_PASSWORD: env.pds.adminPassword },
    });
    assert.equal(r.code, 0, r.stderr);
    r = await runPdsadmin(['--env-file', envFile, 'create-invite-code']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('create-invite-code makes usable codes with the given number of uses', async () => {
    let r = await pa(['create-invite-code']);
    assert.equal(r.code, 0, r.stderr);
    const one = r.stdout.trim();
    assert.match(one, /^localhost-[a-z2-7]{5}-[a-z2-7]{5}$/);
    r = await pa(['create-invite-code', '--uses', '5']);
    assert.equal(r.code, 0, r.stderr);
    const five = r.stdout.trim();
    const codes = (await admin('com.atproto.admin.getInviteCodes', { params: { limit: 500 } })).body.codes;
    assert.equal(codes.find((c) => c.code === one).available, 1);
    assert.equal(codes.find((c) => c.code === five).available, 5);
    const acct = await createAccount(env.pds, { inviteCode: one });
    assert.match(acct.did, /^did:plc:/);
    assert.equal((await pa(['create-invite-code', '--uses', '0'])).code, 2);
    assert.equal((await pa(['create-invite-code', '--uses'])).code, 2);
    r = await pa(['create-invite-code', '--json']);
    assert.match(JSON.parse(r.stdout).code, /^localhost-/);
  });

  test('account create makes an invite when needed and prints a working password', async () => {
    const id = randomHex(4);
    let r = await pa(['account', 'create', `c${id}@example.com`, `c${id}.test`]);
    assert.equal(r.code, 0, r.stderr);
    const did = field(r.stdout, 'DID');
    const password = field(r.stdout, 'Password');
    assert.match(did, /^did:plc:/);
    assert.equal(field(r.stdout, 'Handle'), `c${id}.test`);
    assert.match(password, /^[A-Za-z0-9]{24}$/);
    const agent = await login(env.pds, `c${id}.test`, password);
    assert.equal(agent.session.did, did);
    // a bare name gets the server's handle domain; --json for scripts
    r = await pa(['account', 'create', `d${id}@example.com`, `d${id}`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const made = JSON.parse(r.stdout);
    assert.equal(made.handle, `d${id}.test`);
    await login(env.pds, made.did, made.password);
    // missing arguments without a terminal: usage; the server's refusal: failure
    assert.equal((await pa(['account', 'create'])).code, 2);
    r = await pa(['account', 'create', `e${id}@example.com`, `c${id}.test`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HandleNotAvailable|already/);
  });

  test('account info by DID and by handle', async () => {
    const a = await inviteAccount();
    for (const who of [a.did, a.handle]) {
      const r = await pa(['account', 'info', who]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(field(r.stdout, 'DID'), a.did);
      assert.equal(field(r.stdout, 'Handle'), a.handle);
      assert.equal(field(r.stdout, 'Email'), a.email);
      assert.equal(field(r.stdout, 'Status'), 'active');
      assert.ok(Number(field(r.stdout, 'Repo bytes')) > 0);
    }
    const r = await pa(['account', 'info', a.did, '--json']);
    const j = JSON.parse(r.stdout);
    assert.equal(j.account.did, a.did);
    assert.equal(j.repoStatus.active, true);
    assert.equal(j.subjectStatus.takedown.applied, false);
    const missing = await pa(['account', 'info', 'did:plc:' + 'z'.repeat(24)]);
    assert.equal(missing.code, 1);
    assert.equal((await pa(['account', 'info', 'nobody-here.test'])).code, 1);
  });

  test('account takedown and untakedown', async () => {
    const a = await inviteAccount();
    let r = await pa(['account', 'takedown', a.did]);
    assert.equal(r.code, 0, r.stderr);
    let st = await xrpcRaw(env.pds, 'com.atproto.sync.getRepoStatus', { params: { did: a.did } });
    assert.deepEqual([st.body.active, st.body.status], [false, 'takendown']);
    const sub = await admin('com.atproto.admin.getSubjectStatus', { params: { did: a.did } });
    assert.match(sub.body.takedown.ref, /^\d{10}$/, 'the ref is the Unix time, as the reference');
    r = await pa(['account', 'info', a.did]);
    assert.equal(field(r.stdout, 'Status'), 'takendown');
    r = await pa(['account', 'untakedown', a.did]);
    assert.equal(r.code, 0, r.stderr);
    st = await xrpcRaw(env.pds, 'com.atproto.sync.getRepoStatus', { params: { did: a.did } });
    assert.equal(st.body.active, true);
    r = await pa(['account', 'takedown', a.did, '--ref', 'ticket-7']);
    assert.equal(r.code, 0, r.stderr);
    r = await pa(['account', 'info', a.did]);
    assert.equal(field(r.stdout, 'Takedown ref'), 'ticket-7');
    await pa(['account', 'untakedown', a.did]);
    assert.equal((await pa(['account', 'takedown', a.handle])).code, 2, 'a DID is required');
    r = await pa(['account', 'takedown', 'did:plc:' + 'y'.repeat(24)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NotFound/);
  });

  test('account reset-password sets a new password and signs sessions out', async () => {
    const a = await inviteAccount();
    const r = await pa(['account', 'reset-password', a.did]);
    assert.equal(r.code, 0, r.stderr);
    const pw = field(r.stdout, 'New password');
    assert.match(pw, /^[A-Za-z0-9]{24}$/);
    await login(env.pds, a.did, pw);
    await assert.rejects(login(env.pds, a.did, a.password));
    const refresh = await xrpcRaw(env.pds, 'com.atproto.server.refreshSession', {
      method: 'POST',
      token: a.session.refreshJwt,
    });
    assert.equal(refresh.status, 400);
  });

  test('account delete asks first, unless --yes', async () => {
    const a = await inviteAccount();
    let r = await pa(['account', 'delete', a.did], { input: 'n\n' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Are you sure/);
    assert.equal((await admin('com.atproto.admin.getAccountInfo', { params: { did: a.did } })).status, 200);
    r = await pa(['account', 'delete', a.did], { input: '' });
    assert.equal(r.code, 1, 'no answer is no');
    r = await pa(['account', 'delete', a.did], { input: 'y\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await admin('com.atproto.admin.getAccountInfo', { params: { did: a.did } })).status, 400);
    const b = await inviteAccount();
    r = await pa(['account', 'delete', '--yes', b.did]);
    assert.equal(r.code, 0, r.stderr);
    r = await pa(['account', 'delete', '--yes', b.did]);
    assert.equal(r.code, 1, 'already gone');
    assert.equal((await pa(['account', 'delete', 'alice.test'])).code, 2);
  });

  test('request-crawl posts our hostname to each relay and fails if one fails', async () => {
    const seen = [];
    const relay = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ url: req.url, method: req.method, body: JSON.parse(body || '{}') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise((r) => relay.listen(0, '127.0.0.1', r));
    const live = `http://127.0.0.1:${relay.address().port}`;
    const dead = `http://127.0.0.1:${await freePort()}`;
    try {
      let r = await pa(['request-crawl', live]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(seen.at(-1), {
        url: '/xrpc/com.atproto.sync.requestCrawl',
        method: 'POST',
        body: { hostname: 'localhost' },
      });
      // PDS_CRAWLERS by default; one relay down fails the command but not the others
      r = await pa(['request-crawl'], { env: { PDS_CRAWLERS: `${dead}, ${live}/` } });
      assert.equal(r.code, 1);
      assert.equal(seen.length, 2);
      assert.match(r.stderr, /could not reach/);
      r = await pa(['request-crawl']);
      assert.equal(r.code, 2, 'no relay anywhere');
    } finally {
      await new Promise((r) => relay.close(r));
    }
  });

  test('status prints health, version, accounts, storage and the firehose', async () => {
    let r = await pa(['status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Server: +http:\/\/localhost:\d+ \(up, version \d+\.\d+\.\d+/m);
    assert.match(r.stdout, /^Accounts: +\d+ \(\d+ active/m);
    assert.match(r.stdout, /^Database: +[\d.]+ [KMG]iB \(PostgreSQL/m);
    assert.match(r.stdout, /^Blob store: +disk, \d+ blobs/m);
    assert.match(r.stdout, /^Firehose: +head seq \d+/m);
    r = await pa(['status', '--json']);
    const j = JSON.parse(r.stdout);
    assert.ok(j.status.accounts.total > 0);
    assert.ok(j.status.database.bytes > 0);
    assert.ok(j.status.firehose.headSeq > 0);
    assert.equal(typeof j.health.version, 'string');
  });

  test('account list covers every account across listRepos pages', async () => {
    const real = await inviteAccount();
    // 1,100 more accounts straight into the database (cheaper than 1,100 sign-ups), so the
    // list needs two listRepos pages and a dozen getAccountInfos calls
    const db = new pg.Client({ connectionString: env.pds.dbUrl });
    await db.connect();
    try {
      const root = (await db.query('SELECT commit_cid, data_cid, rev FROM repo_root WHERE did = $1', [real.did]))
        .rows[0];
      await db.query(
        `INSERT INTO account (did, handle, email)
           SELECT 'did:plc:bulk' || lpad(i::text, 16, '0'), 'bulk' || i || '.test', 'bulk' || i || '@example.com'
           FROM generate_series(1, 1100) AS i`,
      );
      await db.query(
        `INSERT INTO repo_root (did, commit_cid, data_cid, rev)
           SELECT did, $1, $2, $3 FROM account WHERE did LIKE 'did:plc:bulk%'`,
        [root.commit_cid, root.data_cid, root.rev],
      );
    } finally {
      await db.end();
    }
    const total = (await xrpcRaw(env.pds, null, { path: '/xrpc/_status', auth: env.pds.adminAuth() })).body.accounts
      .total;
    let r = await pa(['account', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    assert.equal(rows.length, total);
    assert.equal(new Set(rows.map((x) => x.did)).size, total);
    const mine = rows.find((x) => x.did === real.did);
    assert.deepEqual([mine.handle, mine.email, mine.status], [real.handle, real.email, 'active']);
    assert.ok(rows.find((x) => x.handle === 'bulk1100.test'));
    r = await pa(['account', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Handle +Email +DID +Status$/m);
    assert.match(r.stdout, new RegExp(`^\\(${total} accounts\\)$`, 'm'));
    assert.ok(r.stdout.includes(real.did));
  });
});

describe('pdsadmin next to a development server with generated secrets', () => {
  let dev;
  before(async () => {
    // as ./scripts/run.sh starts it: no secrets given, so they are generated into
    // <data>/secrets.env; the working directory holds data/, as the checkout does
    const noSecrets = {
      PDS_JWT_SECRET: undefined,
      PDS_ADMIN_PASSWORD: undefined,
      PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: undefined,
    };
    dev = await startPds({ plcUrl: env.plc.url, env: noSecrets });
  });
  after(() => dev?.stop());

  test('finds the admin password in ./data/secrets.env, or where PDS_DATA_DIRECTORY says', async () => {
    assert.match(fs.readFileSync(path.join(dev.dataDir, 'secrets.env'), 'utf8'), /^PDS_ADMIN_PASSWORD=\S+$/m);
    const acct = await createAccount(dev);
    const port = { PDS_PORT: String(dev.port) };
    let r = await runPdsadmin(['account', 'list'], { cwd: dev.workDir, env: port });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(acct.did), r.stdout);
    assert.ok(r.stdout.includes(acct.handle));
    r = await runPdsadmin(['account', 'list'], { env: { ...port, PDS_DATA_DIRECTORY: dev.dataDir } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(acct.did));
    // the server's env file may name the data directory too
    const file = path.join(dev.workDir, 'dev.env');
    fs.writeFileSync(file, `PDS_DATA_DIRECTORY=${dev.dataDir}\nPDS_PORT=${dev.port}\n`);
    r = await runPdsadmin(['status'], { env: { PDS_ENV_FILE: file } });
    assert.equal(r.code, 0, r.stderr);
    // nowhere: the error says where it looked
    r = await runPdsadmin(['account', 'list'], { env: port });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no admin password: .*found none in \.\/data\/secrets\.env/);
  });

  test('reaches the server at PDS_LISTEN_ADDRESS when that names one address', async () => {
    // 127.0.0.2 is loopback, but not where "localhost" leads
    const other = await startPds({
      plcUrl: env.plc.url,
      env: { PDS_LISTEN_ADDRESS: '127.0.0.2' },
      host: '127.0.0.2',
    });
    try {
      const settings = { PDS_PORT: String(other.port), PDS_ADMIN_PASSWORD: other.adminPassword };
      let r = await runPdsadmin(['status'], { env: { ...settings, PDS_LISTEN_ADDRESS: '127.0.0.2' } });
      assert.equal(r.code, 0, r.stderr);
      r = await runPdsadmin(['status'], { env: settings });
      assert.equal(r.code, 1, 'localhost does not lead to 127.0.0.2');
    } finally {
      await other.stop();
    }
  });
});

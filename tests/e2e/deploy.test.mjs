// Deployment end to end: deploy/install.sh run in a throw-away root (commands that touch the
// system stubbed, PostgreSQL real: the role and database are made on the test cluster), its
// env file starting `pds serve` and feeding pdsadmin; the systemd unit verified and scored
// by systemd-analyze; compose.yaml and the Caddyfile wired to /tls-check; the image's build
// steps run without Docker (scripts/docker-build-test.sh); the generated docs up to date.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { clusterUrl, freePort, pdsBinary, randomHex, repoRoot, waitFor } from './lib/index.mjs';
import { runPdsadmin } from './lib/ops.mjs';

const binDir = path.dirname(pdsBinary());
const install = path.join(repoRoot, 'deploy/install.sh');

/** KEY=VALUE lines of an env file. */
function readEnv(file) {
  const out = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

describe('deploy/install.sh in a throw-away root', () => {
  let tmp;
  let root;
  let stubLog;
  let role;
  let stubEnv;
  const run = (extra = []) =>
    spawnSync(
      'bash',
      [install, '--root', root, '--hostname', 'PDS.Example.com', '--bin-dir', binDir, '--no-start',
        '--caddy', '--admin-email', 'ops@example.com', ...pgArgs(), ...extra],
      { env: stubEnv, encoding: 'utf8', timeout: 120000 },
    );
  let pgArgs;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-install-test-'));
    root = path.join(tmp, 'root');
    const stubs = path.join(tmp, 'stubs');
    stubLog = path.join(tmp, 'stub.log');
    fs.mkdirSync(stubs);
    // apt-get, useradd and systemctl only record what they were asked
    for (const cmd of ['apt-get', 'useradd', 'systemctl']) {
      fs.writeFileSync(path.join(stubs, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${stubLog}"\n`, { mode: 0o755 });
    }
    const u = new URL(clusterUrl());
    role = `pds_inst_${randomHex(4)}`;
    pgArgs = () => ['--pg-host', u.hostname, '--pg-port', u.port, '--pg-user', role, '--pg-database', role];
    stubEnv = {
      PATH: process.env.PATH,
      HOME: tmp,
      APT_GET: path.join(stubs, 'apt-get'),
      USERADD: path.join(stubs, 'useradd'),
      SYSTEMCTL: path.join(stubs, 'systemctl'),
      // a PostgreSQL superuser on the test cluster stands in for `runuser -u postgres -- psql`
      PG_ADMIN: `psql ${clusterUrl()}`,
    };
  });

  after(async () => {
    const db = new pg.Client({ connectionString: clusterUrl() });
    await db.connect();
    try {
      await db.query(`DROP DATABASE IF EXISTS ${role} WITH (FORCE)`);
      await db.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await db.end();
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('installs binaries, user, PostgreSQL role and database, secrets, unit and Caddy', async () => {
    const r = run();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const b of ['pds', 'pdsadmin']) {
      fs.accessSync(path.join(root, 'usr/local/bin', b), fs.constants.X_OK);
    }
    const log = fs.readFileSync(stubLog, 'utf8');
    assert.match(log, /^apt-get install -y -qq --no-install-recommends postgresql libjansson4 .*libpq5 .*caddy$/m);
    assert.match(log, /^useradd --system --user-group --home-dir \/var\/lib\/pds .* pds$/m);
    assert.match(log, /^systemctl daemon-reload$/m);
    assert.match(log, /^systemctl enable pds\.service$/m);
    assert.match(log, /^systemctl enable caddy\.service$/m);
    assert.doesNotMatch(log, /restart/, '--no-start starts nothing');

    const unit = fs.readFileSync(path.join(root, 'etc/systemd/system/pds.service'), 'utf8');
    assert.equal(unit, fs.readFileSync(path.join(repoRoot, 'deploy/pds.service'), 'utf8'));

    const envFile = path.join(root, 'etc/pds/pds.env');
    assert.equal(fs.statSync(envFile).mode & 0o777, 0o640);
    const e = readEnv(envFile);
    assert.equal(e.PDS_HOSTNAME, 'pds.example.com');
    assert.equal(e.PDS_DATA_DIRECTORY, '/var/lib/pds');
    assert.match(e.PDS_JWT_SECRET, /^[0-9a-f]{64}$/);
    assert.match(e.PDS_ADMIN_PASSWORD, /^[0-9a-f]{64}$/);
    assert.match(e.PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX, /^[0-9a-f]{64}$/);
    assert.notEqual(e.PDS_JWT_SECRET, e.PDS_ADMIN_PASSWORD);
    assert.equal(e.PDS_INVITE_REQUIRED, 'true');

    // PostgreSQL: the role logs in with the URL written and owns its database
    const db = new pg.Client({ connectionString: e.PDS_DATABASE_URL });
    await db.connect();
    try {
      const who = await db.query('SELECT current_user, current_database()');
      assert.deepEqual(Object.values(who.rows[0]), [role, role]);
      await db.query('CREATE TABLE install_probe (x int)');
      await db.query('DROP TABLE install_probe');
    } finally {
      await db.end();
    }

    const caddy = fs.readFileSync(path.join(root, 'etc/caddy/Caddyfile'), 'utf8');
    assert.match(caddy, /^\s*email ops@example\.com$/m);
    assert.match(caddy, /ask http:\/\/localhost:2583\/tls-check/);
    assert.match(caddy, /^pds\.example\.com, \*\.pds\.example\.com \{$/m);
    assert.match(caddy, /reverse_proxy localhost:2583/);
  });

  test('the env file it wrote starts pds serve, and pdsadmin reads it', async () => {
    const envFile = path.join(root, 'etc/pds/pds.env');
    const port = await freePort();
    const data = path.join(tmp, 'data');
    fs.mkdirSync(data);
    // as systemd would (EnvironmentFile), with this test's port, state directory and no relays
    const childEnv = {
      ...readEnv(envFile),
      PATH: process.env.PATH,
      PDS_PORT: String(port),
      PDS_DATA_DIRECTORY: data,
      PDS_BLOBSTORE_DISK_LOCATION: path.join(data, 'blocks'),
      PDS_CRAWLERS: '',
    };
    const proc = spawn(path.join(root, 'usr/local/bin/pds'), ['serve'], { env: childEnv, stdio: 'ignore' });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/xrpc/_health`)).ok, {
        timeoutMs: 30000,
        what: 'pds serve from the installed env file',
      });
      const r = await runPdsadmin(['--url', `http://127.0.0.1:${port}`, 'status', '--json'], {
        env: { PDS_ENV_FILE: envFile },
      });
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.equal(s.status.hostname, 'pds.example.com');
      assert.equal(s.status.accounts.total, 0);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.on('exit', r));
    }
  });

  test('a second run keeps the settings and secrets', () => {
    const envFile = path.join(root, 'etc/pds/pds.env');
    const before = fs.readFileSync(envFile, 'utf8');
    const r = run();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /keeping .*pds\.env/);
    assert.equal(fs.readFileSync(envFile, 'utf8'), before);
  });

  test('refuses bad input', () => {
    let r = spawnSync('bash', [install, '--root', root, '--bin-dir', binDir], { env: stubEnv, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--hostname is required/);
    r = spawnSync('bash', [install, '--root', root, '--hostname', '10.0.0.1', '--bin-dir', binDir], {
      env: stubEnv,
      encoding: 'utf8',
    });
    assert.notEqual(r.status, 0);
    r = spawnSync('bash', [install, '--hostname', 'a.example.com', '--bogus'], { env: stubEnv, encoding: 'utf8' });
    assert.match(r.stderr, /unknown option/);
  });

  test('--env-only writes a compose env file with fresh secrets', () => {
    const file = path.join(tmp, 'compose.env');
    const r = spawnSync('bash', [install, '--hostname', 'pds.example.com', '--bin-dir', binDir, '--env-only', file], {
      env: stubEnv,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const e = readEnv(file);
    assert.equal(e.PDS_PORT, '3000');
    assert.equal(e.PDS_DATABASE_URL, undefined, 'compose sets the database URL');
    assert.match(e.PDS_ADMIN_PASSWORD, /^[0-9a-f]{64}$/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });
});

describe('service and container files', () => {
  test('the systemd unit verifies and is hardened', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-unit-test-'));
    try {
      const unit = fs.readFileSync(path.join(repoRoot, 'deploy/pds.service'), 'utf8');
      for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/pds',
        'StateDirectory=pds', 'EnvironmentFile=/etc/pds/pds.env', 'User=pds']) {
        assert.ok(unit.split('\n').includes(line), line);
      }
      // verify against the built binary (the unit names /usr/local/bin/pds)
      const copy = path.join(tmp, 'pds.service');
      fs.writeFileSync(copy, unit.replace('/usr/local/bin/pds', pdsBinary()));
      const v = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      assert.equal(v.status, 0, v.stderr);
      // systemd's own exposure score, offline: below 2 is "OK"
      fs.mkdirSync(path.join(tmp, 'etc/systemd/system'), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'etc/systemd/system/pds.service'), unit);
      const s = spawnSync('systemd-analyze', ['security', '--offline=yes', `--root=${tmp}`, 'pds.service'], {
        encoding: 'utf8',
      });
      const score = Number(/Overall exposure level for pds\.service: ([\d.]+)/.exec(s.stdout)?.[1]);
      assert.ok(score < 2, `exposure ${score}\n${s.stdout.slice(-400)}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('compose.yaml runs pds (runtime image), postgres and caddy with the TLS check', () => {
    const out = execFileSync(
      'python3',
      ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', path.join(repoRoot, 'deploy/compose.yaml')],
      { encoding: 'utf8' },
    );
    const c = JSON.parse(out);
    assert.deepEqual(Object.keys(c.services).sort(), ['caddy', 'pds', 'postgres']);
    assert.equal(c.services.pds.build.target, 'runtime');
    assert.equal(c.services.pds.depends_on.postgres.condition, 'service_healthy');
    assert.match(c.services.pds.environment.PDS_DATABASE_URL, /@postgres:5432\/pds$/);
    assert.equal(c.services.caddy.environment.PDS_UPSTREAM, 'pds:3000');
    assert.ok(c.services.caddy.volumes.includes('./Caddyfile:/etc/caddy/Caddyfile:ro'));
    const caddy = fs.readFileSync(path.join(repoRoot, 'deploy/Caddyfile'), 'utf8');
    assert.match(caddy, /ask http:\/\/\{\$PDS_UPSTREAM:localhost:2583\}\/tls-check/);
    assert.match(caddy, /on_demand/);
    const docker = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    assert.match(docker, /^USER pds$/m);
    assert.match(docker, /^HEALTHCHECK .*\n?.*\/xrpc\/_health/m);
    assert.match(docker, /^FROM runtime AS standalone$/m);
  });

  test('the image build steps run and work without Docker', { timeout: 1800000 }, () => {
    const r = spawnSync(path.join(repoRoot, 'scripts/docker-build-test.sh'), [], {
      encoding: 'utf8',
      timeout: 1800000,
    });
    assert.equal(r.status, 0, (r.stdout + r.stderr).slice(-3000));
    assert.match(r.stdout, /^docker-build-test: OK$/m);
  });
});

describe('generated docs', () => {
  test('docs/configuration.md is what pds config-doc prints', () => {
    const doc = execFileSync(pdsBinary(), ['config-doc'], { encoding: 'utf8' });
    assert.equal(fs.readFileSync(path.join(repoRoot, 'docs/configuration.md'), 'utf8'), doc);
  });

  test('docs/api-coverage.md matches the route table (scripts/api-coverage.sh --check)', () => {
    const r = spawnSync(path.join(repoRoot, 'scripts/api-coverage.sh'), ['--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});

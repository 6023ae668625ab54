// The set-up scripts' failures are explained: scripts/setup-node.sh, run in a copy of the
// tree against a registry that refuses connections, says what it could not download, from
// where, and npm's reason, and leaves no half-installed Node behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, repoRoot } from './lib/index.mjs';

test('setup-node.sh says which download failed, from where, and why', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-setup-node-'));
  try {
    fs.mkdirSync(path.join(tmp, 'scripts'));
    fs.mkdirSync(path.join(tmp, 'tests/e2e'), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, 'scripts/setup-node.sh'), path.join(tmp, 'scripts/setup-node.sh'));
    fs.copyFileSync(path.join(repoRoot, 'tests/e2e/package.json'), path.join(tmp, 'tests/e2e/package.json'));
    const dead = await freePort(); // nothing listens there
    const r = spawnSync('bash', [path.join(tmp, 'scripts/setup-node.sh')], {
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        npm_config_registry: `http://127.0.0.1:${dead}/`,
        npm_config_fetch_retries: '0',
      },
      encoding: 'utf8',
      timeout: 120000,
    });
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      new RegExp(`could not download node-linux-(x64|arm64)@22 from http://127\\.0\\.0\\.1:${dead}/`),
      r.stderr,
    );
    assert.match(r.stderr, /ECONNREFUSED/, "npm's own reason is shown");
    assert.equal(fs.existsSync(path.join(tmp, '.tools/node22')), false, 'no half-installed Node');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

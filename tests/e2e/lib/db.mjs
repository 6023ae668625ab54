// Throw-away databases on the PostgreSQL test cluster named by PDS_TEST_DATABASE_URL.
// Without that variable, one cluster is started for this process with
// scripts/pg-test-cluster.sh and stopped when the process exits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { repoRoot, randomHex } from './util.mjs';

let ownCluster = null; // { dir, url } when this process started the cluster itself

/** URL of a maintenance database on the test cluster (starting a cluster if none is named). */
export function clusterUrl() {
  if (process.env.PDS_TEST_DATABASE_URL) return process.env.PDS_TEST_DATABASE_URL;
  if (ownCluster) return ownCluster.url;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-e2e-pg-'));
  fs.chmodSync(dir, 0o755);
  const script = path.join(repoRoot, 'scripts/pg-test-cluster.sh');
  const out = execFileSync(script, ['start', dir], { encoding: 'utf8' });
  const m = out.match(/^PDS_TEST_DATABASE_URL=(.+)$/m);
  if (!m) throw new Error(`pg-test-cluster.sh printed no URL:\n${out}`);
  ownCluster = { dir, url: m[1].trim() };
  process.on('exit', () => {
    try {
      execFileSync(script, ['stop', dir], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  });
  return ownCluster.url;
}

async function withAdmin(fn) {
  const client = new pg.Client({ connectionString: clusterUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database `pds_e2e_<random>`; returns { name, url, drop() }. */
export async function createTestDatabase(prefix = 'pds_e2e') {
  const name = `${prefix}_${randomHex(6)}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const u = new URL(clusterUrl());
  u.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: u.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

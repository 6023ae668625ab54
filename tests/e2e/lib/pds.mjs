// Starts the real pds binary against a fresh database and a given PLC directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { AtpAgent } from '@atproto/api';
import { Secp256k1Keypair } from '@atproto/crypto';
import { createTestDatabase } from './db.mjs';
import { freePort, randomHex, repoRoot, tailFile, waitFor } from './util.mjs';

export const ADMIN_PASSWORD = 'e2e-admin-password';

/** Path of the pds binary: $PDS_BIN (relative to the repo root if not absolute) or build/pds. */
export function pdsBinary() {
  const bin = process.env.PDS_BIN || 'build/pds';
  return path.isAbsolute(bin) ? bin : path.join(repoRoot, bin);
}

/**
 * Starts `pds serve` with a temp data directory, a free port and a new database.
 * opts.plcUrl: the PLC directory; opts.env: extra or overriding environment variables (an
 * undefined value removes a default); opts.host: where the harness reaches it (default
 * localhost; an IP address when PDS_LISTEN_ADDRESS names one elsewhere);
 * opts.fdSoftLimit: start pds with this soft open-file limit (it raises it itself).
 * Returns { url, port, hostname, did?, dataDir, logFile, dbUrl, adminPassword, proc,
 *           agent(), adminAuth(), logTail(n), kill(), restart(), stop() }.
 */
export async function startPds({ plcUrl, env = {}, startTimeoutMs = 30000, host = 'localhost', fdSoftLimit } = {}) {
  if (!plcUrl) throw new Error('startPds: plcUrl is required');
  const bin = pdsBinary();
  if (!fs.existsSync(bin)) throw new Error(`pds binary not found at ${bin} (build it, or set PDS_BIN)`);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-e2e-'));
  const dataDir = path.join(workDir, 'data');
  fs.mkdirSync(dataDir);
  const logFile = path.join(workDir, 'pds.log');
  const port = await freePort();
  const db = await createTestDatabase();
  const rotationKey = await Secp256k1Keypair.create({ exportable: true });
  const rotationHex = Buffer.from(await rotationKey.export()).toString('hex');

  const childEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || workDir,
    LANG: 'C.UTF-8',
    PDS_PORT: String(port),
    PDS_HOSTNAME: 'localhost',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_DATABASE_URL: db.url,
    PDS_DID_PLC_URL: plcUrl,
    PDS_DEV_MODE: 'true',
    PDS_JWT_SECRET: randomHex(32),
    PDS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotationHex,
    PDS_INVITE_REQUIRED: 'false',
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    ...env,
  };
  let proc, exited, exitPromise;
  const launch = () => {
    const log = fs.openSync(logFile, 'a');
    const [cmd, args] = fdSoftLimit
      ? ['/bin/sh', ['-c', 'ulimit -S -n "$1" && exec "$0" serve', bin, String(fdSoftLimit)]]
      : [bin, ['serve']];
    proc = spawn(cmd, args, { env: childEnv, stdio: ['ignore', log, log], cwd: workDir });
    fs.closeSync(log);
    exited = null;
    exitPromise = once(proc, 'exit').then(([code, signal]) => {
      exited = { code, signal };
      return exited;
    });
  };
  launch();
  const waitHealthy = () =>
    waitFor(
      async () => {
        const res = await fetch(`${url}/xrpc/_health`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      },
      {
        timeoutMs: startTimeoutMs,
        what: `pds health on port ${port}`,
        abort: () => exited && `pds exited early (code ${exited.code}, signal ${exited.signal})`,
      },
    );

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let stopped = false;
  const pds = {
    url,
    port,
    hostname: 'localhost',
    dataDir,
    workDir,
    logFile,
    dbUrl: db.url,
    dbName: db.name,
    adminPassword: ADMIN_PASSWORD,
    rotationKey,
    get proc() {
      return proc;
    },
    /** A fresh unauthenticated AtpAgent for this server. */
    agent() {
      return new AtpAgent({ service: url });
    },
    /** Authorization header value for admin endpoints. */
    adminAuth() {
      return 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
    },
    logTail(lines = 80) {
      return tailFile(logFile, lines);
    },
    get exited() {
      return exited;
    },
    /** SIGKILL now (a crash: nothing is cleaned up), and wait for the exit. */
    async kill() {
      if (!exited) {
        proc.kill('SIGKILL');
        await exitPromise;
      }
    },
    /** Starts the same server again (same port, database, data and secrets) after kill(). */
    async restart() {
      if (!exited) throw new Error('restart: the server is still running');
      launch();
      await waitHealthy();
    },
    /** SIGTERM, wait (SIGKILL after 10 s), drop the database, remove the data directory. */
    async stop({ keepFiles = !!process.env.PDS_E2E_KEEP } = {}) {
      if (stopped) return exited;
      stopped = true;
      if (!exited) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
        await exitPromise;
        clearTimeout(timer);
      }
      await db.drop();
      if (!keepFiles) fs.rmSync(workDir, { recursive: true, force: true });
      return exited;
    },
  };

  try {
    await waitHealthy();
  } catch (err) {
    await pds.stop({ keepFiles: true }).catch(() => {});
    err.message += `\n--- pds log (${logFile}) ---\n${pds.logTail()}`;
    throw err;
  }
  return pds;
}

// Where the server listens (PDS_LISTEN_ADDRESS): a development server in its zero-
// configuration defaults (hostname localhost, generated secrets) on loopback only; with a
// real hostname on every interface, as the reference listens; an explicit address exactly
// there; a bad value refused at start-up. The listening sockets are read from the kernel
// (/proc/net/tcp, tcp6), and the log says which.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { pdsBinary, startPds, useTestEnv } from './lib/index.mjs';

const env = useTestEnv({ pds: false });

/** The kernel's hex form of an address in /proc/net/tcp{,6}, for the addresses used here. */
const KNOWN = {
  '0100007F': '127.0.0.1',
  '00000000': '0.0.0.0',
  '00000000000000000000000000000000': '::',
  '00000000000000000000000001000000': '::1',
};

/** Addresses with a listening TCP socket on port (state 0A), as '127.0.0.1', '::', ... */
function listeners(port) {
  const out = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const w = line.trim().split(/\s+/);
      if (w.length < 4 || w[3] !== '0A') continue;
      const [addr, hexPort] = w[1].split(':');
      if (parseInt(hexPort, 16) === port) out.push(KNOWN[addr] ?? addr);
    }
  }
  return out.sort();
}

async function reachable(url) {
  try {
    return (await fetch(`${url}/xrpc/_health`, { signal: AbortSignal.timeout(3000) })).ok;
  } catch {
    return false;
  }
}

const ZERO_CONFIG = {
  // as ./scripts/run.sh starts it: no secrets given (generated into the data directory)
  PDS_JWT_SECRET: undefined,
  PDS_ADMIN_PASSWORD: undefined,
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: undefined,
};

describe('PDS_LISTEN_ADDRESS', () => {
  test('zero configuration (hostname localhost): loopback only, and the log says so', async () => {
    const pds = await startPds({ plcUrl: env.plc.url, env: ZERO_CONFIG });
    try {
      assert.ok(fs.existsSync(`${pds.dataDir}/secrets.env`), 'development secrets were generated');
      assert.deepEqual(listeners(pds.port), ['127.0.0.1']);
      assert.ok(await reachable(`http://127.0.0.1:${pds.port}`));
      assert.match(
        fs.readFileSync(pds.logFile, 'utf8'),
        new RegExp(`listening on 127\\.0\\.0\\.1:${pds.port} \\(loopback only: no other machine can connect`),
      );
    } finally {
      await pds.stop();
    }
  });

  test('a real hostname: every interface, IPv6 and IPv4, as the reference listens', async () => {
    const pds = await startPds({ plcUrl: env.plc.url, env: { PDS_HOSTNAME: 'pds.example.test' } });
    try {
      assert.deepEqual(listeners(pds.port), ['::']);
      assert.ok(await reachable(`http://127.0.0.1:${pds.port}`), 'IPv4 through the dual-stack socket');
      assert.ok(await reachable(`http://[::1]:${pds.port}`), 'IPv6');
      assert.match(
        fs.readFileSync(pds.logFile, 'utf8'),
        new RegExp(`listening on \\[::\\]:${pds.port} \\(every interface, IPv6 and IPv4\\)`),
      );
    } finally {
      await pds.stop();
    }
  });

  test('an explicit address, IPv6 in brackets or IPv4, is exactly where it listens', async () => {
    let pds = await startPds({ plcUrl: env.plc.url, env: { PDS_LISTEN_ADDRESS: '[::1]' }, host: '::1' });
    try {
      assert.deepEqual(listeners(pds.port), ['::1']);
      assert.ok(await reachable(`http://[::1]:${pds.port}`));
      assert.equal(await reachable(`http://127.0.0.1:${pds.port}`), false);
      assert.match(fs.readFileSync(pds.logFile, 'utf8'), /listening on \[::1\]:\d+ \(loopback only/);
    } finally {
      await pds.stop();
    }
    pds = await startPds({ plcUrl: env.plc.url, env: { ...ZERO_CONFIG, PDS_LISTEN_ADDRESS: '0.0.0.0' } });
    try {
      assert.deepEqual(listeners(pds.port), ['0.0.0.0']);
      assert.match(fs.readFileSync(pds.logFile, 'utf8'), /listening on 0\.0\.0\.0:\d+ \(every interface, IPv4 only\)/);
    } finally {
      await pds.stop();
    }
  });

  test('a value that is not an IP address stops start-up, naming the variable', () => {
    for (const bad of ['localhost', '127.0.0.1:2583', '::1%lo', '1.2.3']) {
      const r = spawnSync(pdsBinary(), ['serve'], {
        env: { PATH: process.env.PATH, PDS_LISTEN_ADDRESS: bad, PDS_DATA_DIRECTORY: '/nonexistent/pds-listen-test' },
        encoding: 'utf8',
        timeout: 10000,
      });
      assert.equal(r.status, 1, `exit status for ${bad}`);
      assert.match(r.stdout + r.stderr, new RegExp(`PDS_LISTEN_ADDRESS must be an IPv4 or IPv6 address .*not "${bad.replace(/[.]/g, '\\.')}"`));
    }
  });
});

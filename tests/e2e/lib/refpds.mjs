// The reference PDS (npm @atproto/pds, installed under tests/e2e/reference-pds by
// scripts/setup-node.sh) as a real peer, run inside the test process in dev mode on
// loopback, against the test's PLC directory, with its data in a temporary folder.
// Its handle resolution uses Node's DNS resolver, which setDnsServer points at the test's
// dnsmasq (lib/dns.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dnsPromises from 'node:dns/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import { AtpAgent } from '@atproto/api';
import { Secp256k1Keypair } from '@atproto/crypto';
import { freePort, randomHex, repoRoot } from './util.mjs';

export const REFERENCE_PDS_DIR = path.join(repoRoot, 'tests/e2e/reference-pds');
export const REFERENCE_ADMIN_PASSWORD = 'reference-admin-password';

async function loadPackage() {
  const require = createRequire(path.join(REFERENCE_PDS_DIR, 'package.json'));
  let entry;
  try {
    entry = require.resolve('@atproto/pds');
  } catch {
    throw new Error(`@atproto/pds is not installed in ${REFERENCE_PDS_DIR} (run scripts/setup-node.sh)`);
  }
  return import(pathToFileURL(entry).href);
}

/** Points Node's DNS (the reference's handle resolution) at a test DNS server "ip:port". */
export function setDnsServer(server) {
  dnsPromises.setServers([server]);
  // setServers rebinds the CommonJS exports to a new resolver; the ES module namespace the
  // reference imports (`import * as dns`) keeps the old functions until synced
  syncBuiltinESMExports();
}

/**
 * Starts the reference PDS. opts: { plcUrl, smtpUrl, handleDomains ('.ref.test'), env }.
 * Returns { url, port, did, agent(), adminAuth(), pds, stop() }.
 */
export async function startReferencePds({ plcUrl, smtpUrl, handleDomains = '.ref.test', env = {} } = {}) {
  const { PDS, envToCfg, envToSecrets } = await loadPackage();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-e2e-ref-'));
  const rotation = await Secp256k1Keypair.create({ exportable: true });
  const url = `http://localhost:${port}`;
  const serverEnv = {
    port,
    hostname: 'localhost',
    serviceDid: `did:web:localhost%3A${port}`,
    devMode: true,
    dataDirectory: dir,
    blobstoreDiskLocation: path.join(dir, 'blobs'),
    // its DID resolver refuses IP-address hosts: reach the loopback PLC by name
    didPlcUrl: plcUrl.replace('//127.0.0.1:', '//localhost:'),
    serviceHandleDomains: handleDomains.split(','),
    inviteRequired: false,
    jwtSecret: randomHex(16),
    adminPassword: REFERENCE_ADMIN_PASSWORD,
    plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotation.export()).toString('hex'),
    disableSsrfProtection: true,
    rateLimitsEnabled: false,
    // the reference serves app.bsky.actor preferences only with an AppView configured; none
    // runs here and none is contacted for them
    bskyAppViewUrl: 'http://127.0.0.1:9',
    bskyAppViewDid: 'did:web:appview.invalid',
    ...(smtpUrl ? { emailSmtpUrl: smtpUrl, emailFromAddress: 'reference@example.test' } : {}),
    ...env,
  };
  const pds = await PDS.create(envToCfg(serverEnv), envToSecrets(serverEnv));
  await pds.start();
  let stopped = false;
  return {
    url,
    port,
    did: serverEnv.serviceDid,
    dir,
    pds,
    agent: () => new AtpAgent({ service: url }),
    adminAuth: () => 'Basic ' + Buffer.from(`admin:${REFERENCE_ADMIN_PASSWORD}`).toString('base64'),
    async stop() {
      if (stopped) return;
      stopped = true;
      await pds.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

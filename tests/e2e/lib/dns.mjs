// A real DNS server on loopback for handle resolution tests: dnsmasq (Debian's
// dnsmasq-base), answering only the TXT records a test gives it. The PDS is pointed at it
// with PDS_HANDLE_DNS_SERVER. Records are fixed per dnsmasq process, so setRecords restarts
// it on the same port.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import dgram from 'node:dgram';
import { freePort, sleep, waitFor } from './util.mjs';

function dnsmasqBinary() {
  for (const p of ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq']) if (fs.existsSync(p)) return p;
  throw new Error('dnsmasq not found (install dnsmasq-base: scripts/deps.sh test)');
}

/** A minimal DNS query for `name` TXT, to check the server answers. */
function probe(port, name) {
  const id = Math.floor(Math.random() * 65535);
  const labels = name.split('.').flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]);
  const q = Buffer.concat([
    Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels,
    Buffer.from([0, 0, 16, 0, 1]),
  ]);
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(false);
    }, 300);
    sock.on('message', () => {
      clearTimeout(timer);
      sock.close();
      resolve(true);
    });
    sock.send(q, port, '127.0.0.1');
  });
}

/**
 * Starts dnsmasq on a free loopback UDP port with `records`: { "_atproto.alice.com":
 * "did=did:plc:..." , ... } (a value may be an array of strings: several TXT records).
 * opts.addresses: { "pds.test": "127.0.0.1" } answers A queries for the name and every name
 * below it (a wildcard); opts.hosts: the same for the name alone.
 * Returns { port, server ("127.0.0.1:port"), setRecords(records, opts), stop() }.
 */
export async function startDns(records = {}, opts = {}) {
  const bin = dnsmasqBinary();
  const port = await freePort();
  let proc = null;

  async function start(recs, { addresses = {}, hosts = {} } = {}) {
    const args = [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--pid-file=',
      '--user=root',
      '--log-facility=-',
    ];
    for (const [name, ip] of Object.entries(addresses)) args.push(`--address=/${name}/${ip}`);
    for (const [name, ip] of Object.entries(hosts)) args.push(`--host-record=${name},${ip}`);
    for (const [name, value] of Object.entries(recs)) {
      for (const v of [].concat(value)) args.push(`--txt-record=${name},${v}`); // one string per record (no commas in v)
    }
    proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let exited = null;
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (c) => (exited = c ?? -1));
    await waitFor(() => probe(port, 'probe.invalid'), {
      timeoutMs: 10000,
      what: 'dnsmasq to answer',
      abort: () => exited !== null && `dnsmasq exited (${exited}): ${stderr}`,
    });
  }

  async function stopProc() {
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await once(proc, 'exit');
    await sleep(50);
  }

  await start(records, opts);
  return {
    port,
    server: `127.0.0.1:${port}`,
    async setRecords(recs, o = {}) {
      await stopProc();
      await start(recs, o);
    },
    stop: stopProc,
  };
}

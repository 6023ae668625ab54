// Helpers for the operator tests (admin API, pdsadmin): raw XRPC calls, a loopback SMTP
// sink that keeps every message, a firehose reader, and running the pdsadmin binary.
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { decodeAll } from '@atproto/lex-cbor';
import { repoRoot } from './util.mjs';

/**
 * Raw XRPC call: { status, body, headers }. params: an object whose array values repeat
 * the name. auth: the Authorization header value. body: JSON for a POST.
 */
export async function xrpcRaw(pds, nsid, { method, auth, token, body, params, path: p } = {}) {
  const url = new URL(p ? `${pds.url}${p}` : `${pds.url}/xrpc/${nsid}`);
  for (const [k, v] of Object.entries(params ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
  }
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Decodes the base64 MIME parts and RFC 2047 subject of a message into plain text. */
export function readMail(raw) {
  const subjectLine = /^Subject: (.*(?:\r\n[ \t].*)*)/im.exec(raw)?.[1] ?? '';
  const subject = subjectLine
    .replace(/\r\n[ \t]/g, ' ')
    .replace(/=\?utf-8\?b\?([^?]*)\?=\s*/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'))
    .trim();
  const parts = [];
  const re = /Content-Transfer-Encoding: base64\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z0-9+/=\r\n]+)/gi;
  for (let m; (m = re.exec(raw)); ) parts.push(Buffer.from(m[1].replace(/\s/g, ''), 'base64').toString('utf8'));
  return { subject, text: parts.join('\n') };
}

/**
 * A minimal SMTP server on 127.0.0.1 (no TLS, no auth) that accepts every message.
 * Returns { port, url, messages: [{ from, to: [], data }], stop() }.
 */
export async function startSmtpSink() {
  const messages = [];
  const server = net.createServer((sock) => {
    let buf = '';
    let inData = false;
    let cur = { from: '', to: [], data: '' };
    const say = (line) => sock.write(line + '\r\n');
    say('220 sink.test ESMTP');
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end + 2).replace(/^\.\./gm, '.');
          buf = buf.slice(end + 5);
          inData = false;
          messages.push(cur);
          cur = { from: '', to: [], data: '' };
          say('250 OK queued');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') say('250 sink.test');
        else if (verb === 'MAIL') (cur.from = /<([^>]*)>/.exec(line)?.[1] ?? ''), say('250 OK');
        else if (verb === 'RCPT') cur.to.push(/<([^>]*)>/.exec(line)?.[1] ?? ''), say('250 OK');
        else if (verb === 'DATA') (inData = true), say('354 go ahead');
        else if (verb === 'QUIT') say('221 bye'), sock.end();
        else if (verb === 'RSET' || verb === 'NOOP') say('250 OK');
        else say('502 not implemented');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async stop() {
      await new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * Reads subscribeRepos from `cursor` until `until(events)` is true or timeoutMs passes.
 * Returns the events as { header, body } (body with seq, did, ...). Closes the socket.
 */
export async function readFirehose(pds, { cursor, until, timeoutMs = 10000 }) {
  const url = `${pds.url.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos` +
    (cursor !== undefined ? `?cursor=${cursor}` : '');
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const events = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`firehose: timed out; got ${JSON.stringify(events.map((e) => e.header.t))}`));
    }, timeoutMs);
    ws.onmessage = (msg) => {
      const [header, body] = [...decodeAll(new Uint8Array(msg.data))];
      events.push({ header, body });
      if (until(events)) {
        clearTimeout(timer);
        ws.close();
        resolve(events);
      }
    };
    ws.onerror = (e) => {
      clearTimeout(timer);
      reject(new Error(`firehose: ${e.message ?? 'socket error'}`));
    };
  });
}

/** Path of the pdsadmin binary: $PDSADMIN_BIN, else next to $PDS_BIN, else build/pdsadmin. */
export function pdsadminBinary() {
  const bin =
    process.env.PDSADMIN_BIN ||
    (process.env.PDS_BIN ? path.join(path.dirname(process.env.PDS_BIN), 'pdsadmin') : 'build/pdsadmin');
  const abs = path.isAbsolute(bin) ? bin : path.join(repoRoot, bin);
  if (!fs.existsSync(abs)) throw new Error(`pdsadmin not found at ${abs} (build it, or set PDSADMIN_BIN)`);
  return abs;
}

/**
 * Runs pdsadmin with args and a clean environment (PATH, HOME plus env) in cwd; input is
 * written to its stdin. Returns { code, stdout, stderr }.
 */
export async function runPdsadmin(args, { env = {}, input = '', timeoutMs = 60000, cwd } = {}) {
  // an empty env file unless the test names one, and an empty working directory unless the
  // test names one (pdsadmin reads ./data/secrets.env), so no file on this machine leaks in
  const empty = path.join(os.tmpdir(), 'pdsadmin-e2e-empty.env');
  if (!fs.existsSync(empty)) fs.writeFileSync(empty, '');
  const emptyDir = path.join(os.tmpdir(), 'pdsadmin-e2e-empty-dir');
  fs.mkdirSync(emptyDir, { recursive: true });
  const child = spawn(pdsadminBinary(), args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PDS_ENV_FILE: empty, ...env },
    cwd: cwd ?? emptyDir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => {}); // a command that exits without reading its input (EPIPE)
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => child.on('close', (c) => r(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

// A real SMTP server on loopback for the e2e tests: Debian's python3-aiosmtpd (a
// scripts/deps.sh test package), run by the system Python, appending every message it
// receives as one JSON line to a file that the tests read back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { freePort, waitFor } from './util.mjs';

// aiosmtpd's Controller in a thread; each DATA becomes {from, to, data} in the output file.
const SERVER_PY = `
import json, signal, ssl, sys, threading
from aiosmtpd.controller import Controller

out_path, port = sys.argv[1], int(sys.argv[2])
tls = {}
if len(sys.argv) > 4:  # certificate and key: offer (and require) STARTTLS
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    tls = {"tls_context": ctx, "require_starttls": True}

class Sink:
    async def handle_DATA(self, server, session, envelope):
        line = json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                           "data": envelope.original_content.decode("utf-8", "replace")})
        with open(out_path, "a") as f:
            f.write(line + "\\n")
        return "250 Message accepted"

ctl = Controller(Sink(), hostname="127.0.0.1", port=port, **tls)
ctl.start()
print("ready", flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
done.wait()
ctl.stop()
`;

/** Python with aiosmtpd: Debian's, not a pyenv shim that lacks the package. */
function python() {
  for (const p of ['/usr/bin/python3', 'python3']) {
    if (p.startsWith('/') ? fs.existsSync(p) : true) return p;
  }
  return 'python3';
}

/**
 * Starts the SMTP server. Returns { port, url, messages(), waitForMail(to, opts), stop() }.
 * url is what PDS_EMAIL_SMTP_URL takes. opts.selfSignedTls: the server offers and requires
 * STARTTLS with a fresh self-signed certificate (which no client should trust).
 */
export async function startSmtp({ selfSignedTls = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-e2e-smtp-'));
  const out = path.join(dir, 'mail.jsonl');
  const script = path.join(dir, 'smtp.py');
  fs.writeFileSync(script, SERVER_PY);
  fs.writeFileSync(out, '');
  const port = await freePort();
  const args = [script, out, String(port)];
  if (selfSignedTls) {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    args.push(cert, key);
  }
  const proc = spawn(python(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = null;
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  proc.on('exit', (code) => (exited = code ?? -1));
  await waitFor(() => stdout.includes('ready'), {
    timeoutMs: 15000,
    what: 'aiosmtpd to listen',
    abort: () => exited !== null && `aiosmtpd exited (${exited}): ${stderr}`,
  });

  const messages = () =>
    fs
      .readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => parseMessage(JSON.parse(l)));

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** All mails to `to` so far. */
    mailsTo(to) {
      return messages().filter((m) => m.to.includes(to));
    },
    /** Waits until there are more than `after` mails to `to`; returns the newest. */
    async waitForMail(to, { after = 0, timeoutMs = 10000 } = {}) {
      return waitFor(
        () => {
          const got = messages().filter((m) => m.to.includes(to));
          return got.length > after ? got[got.length - 1] : null;
        },
        { timeoutMs, what: `a mail to ${to}` },
      );
    },
    async stop() {
      if (exited === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The code in a token mail: XXXXX-XXXXX in base32 capitals. */
export function tokenOf(mail) {
  const m = mail.text.match(/\b[A-Z2-7]{5}-[A-Z2-7]{5}\b/);
  if (!m) throw new Error(`no token in mail:\n${mail.text}`);
  return m[0];
}

/** Splits an RFC 5322 message into headers and its MIME parts (decoded). */
export function parseMessage({ from, to, data }) {
  const [head, ...rest] = data.split(/\r?\n\r?\n/);
  const body = rest.join('\r\n\r\n');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
  const parts = [];
  if (boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const [ph, ...pb] = chunk.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
      const ctype = /content-type:\s*([^;\r\n]+)/i.exec(ph)?.[1].trim();
      const b64 = /content-transfer-encoding:\s*base64/i.test(ph);
      const raw = pb.join('\r\n\r\n');
      parts.push({ type: ctype, body: b64 ? Buffer.from(raw.replace(/\s+/g, ''), 'base64').toString('utf8') : raw });
    }
  }
  const subject = (headers.subject ?? '').replace(/=\?UTF-8\?B\?([^?]*)\?=\s*/gi, (_, b) =>
    Buffer.from(b, 'base64').toString('utf8'),
  );
  return {
    from,
    to,
    headers,
    subject,
    text: parts.find((p) => p.type === 'text/plain')?.body ?? '',
    html: parts.find((p) => p.type === 'text/html')?.body ?? '',
    raw: data,
  };
}

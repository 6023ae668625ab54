// Small shared helpers for the e2e harness: paths, ports, waiting, log tails.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

/** Absolute path of the repository root (tests/e2e/lib/../../..). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Lower-case hex string of n random bytes. */
export function randomHex(n = 8) {
  return randomBytes(n).toString('hex');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls fn until it returns a truthy value or the deadline passes. fn may throw; the last
 * error is reported. `abort()` (optional) returning a string stops the wait early with it.
 */
export async function waitFor(fn, { timeoutMs = 20000, intervalMs = 100, what = 'condition', abort } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    const why = abort?.();
    if (why) throw new Error(`${what}: ${why}`);
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (lastErr ? `: ${lastErr.message}` : ''));
    }
    await sleep(intervalMs);
  }
}

/** The last `lines` lines of a text file, or '' if it cannot be read. */
export function tailFile(file, lines = 80) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}

// setup.mjs - creates what compare.sh's workloads need on one server, through its XRPC API:
//   node setup.mjs accounts <url> <count> <prefix> <out-file> [concurrency]
//     creates <count> accounts (handles <prefix>-<i>.test) and writes "did accessJwt" lines;
//     prints "seconds <s>" for the whole batch.
//   node setup.mjs repo <url> <records> <prefix>
//     creates one account and <records> posts in applyWrites batches of 200 (the
//     reference's limit), then prints "did <did>", "rkey <one rkey>" and "seconds <s>".
import fs from 'node:fs';

const [cmd, url, countArg, prefix, outFile, concArg] = process.argv.slice(2);
const count = Number(countArg);

async function xrpc(nsid, body, jwt) {
  const headers = { 'content-type': 'application/json' };
  if (jwt) headers.authorization = `Bearer ${jwt}`;
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/xrpc/${nsid}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.ok) return JSON.parse(text);
    // a busy server (503, 429) says when to come back: wait as long as it asks, as a real
    // client does; anything else is retried briefly and then reported
    const busy = res.status === 503 || res.status === 429;
    if (attempt >= (busy ? 30 : 3)) throw new Error(`${nsid}: ${res.status} ${text}`);
    const after = Number(res.headers.get('retry-after'));
    const waitMs = busy && after > 0 ? after * 1000 : 200 * (attempt + 1);
    await new Promise((r) => setTimeout(r, waitMs));
  }
}

function createAccount(i) {
  return xrpc('com.atproto.server.createAccount', {
    handle: `${prefix}-${i}.test`,
    email: `${prefix}-${i}@example.com`,
    password: `pw-${prefix}-${i}`,
  });
}

const t0 = performance.now();
if (cmd === 'accounts') {
  const conc = Number(concArg || 8);
  const lines = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(conc, count) }, async () => {
      while (next < count) {
        const i = next++;
        const a = await createAccount(i);
        lines[i] = `${a.did} ${a.accessJwt}`;
      }
    }),
  );
  fs.writeFileSync(outFile, lines.join('\n') + '\n');
  console.log(`seconds ${((performance.now() - t0) / 1000).toFixed(1)}`);
} else if (cmd === 'repo') {
  const a = await createAccount('repo');
  let rkey;
  for (let done = 0; done < count; ) {
    const n = Math.min(200, count - done);
    const writes = Array.from({ length: n }, (_, k) => ({
      $type: 'com.atproto.repo.applyWrites#create',
      collection: 'app.bsky.feed.post',
      value: {
        $type: 'app.bsky.feed.post',
        text: `repo post ${done + k}: a post of ordinary length, about as long as people write`,
        createdAt: new Date(Date.UTC(2026, 0, 1) + (done + k) * 1000).toISOString(),
      },
    }));
    const out = await xrpc('com.atproto.repo.applyWrites', { repo: a.did, writes }, a.accessJwt);
    rkey ??= out.results?.[0]?.uri?.split('/').pop();
    done += n;
  }
  console.log(`did ${a.did}`);
  console.log(`rkey ${rkey}`);
  console.log(`seconds ${((performance.now() - t0) / 1000).toFixed(1)}`);
} else {
  console.error('usage: setup.mjs accounts|repo ...');
  process.exit(2);
}

// rs_check.mjs - what the resource server's OAuth check costs: sequential getSession calls
// with a legacy access JWT (Bearer) and with a DPoP-bound OAuth token (each call carrying a
// fresh proof, whose jti the server records), against one server on loopback. Prints
// figures; no pass/fail. Run by bench/oauth/run.sh.
import { startPlc, startPds, createAccount } from '../../tests/e2e/lib/index.mjs';
import { dpopProof, rawGrant } from '../../tests/e2e/lib/oauth.mjs';

const N = Number(process.argv[2] ?? 500);
const plc = await startPlc();
const pds = await startPds({ plcUrl: plc.url, env: { LOG_LEVEL: 'warn' } });
try {
  const acct = await createAccount(pds);
  const legacy = acct.session.accessJwt;
  const grant = await rawGrant(pds, acct, 'atproto transition:generic');
  const url = `${pds.url}/xrpc/com.atproto.server.getSession`;
  const time = async (label, headers) => {
    const ms = [];
    for (let i = 0; i < N; i++) {
      const h = headers();
      const t = performance.now();
      const r = await fetch(url, { headers: h });
      await r.arrayBuffer();
      ms.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`${label}: ${r.status}`);
      const n = r.headers.get('dpop-nonce');
      if (n) grant.nonce = n;
    }
    ms.sort((a, b) => a - b);
    const sum = ms.reduce((a, b) => a + b, 0);
    console.log(`${label.padEnd(28)} ${N} calls  median ${ms[N >> 1].toFixed(2)} ms  p99 ${ms[Math.floor(N * 0.99)].toFixed(2)} ms  ${(N / (sum / 1000)).toFixed(0)} calls/s (request time only)`);
  };
  await time('legacy Bearer JWT', () => ({ authorization: `Bearer ${legacy}` }));
  await time('OAuth DPoP token + proof', () => ({
    authorization: `DPoP ${grant.tokens.access_token}`,
    dpop: dpopProof(grant.key, { htm: 'GET', htu: url, nonce: grant.nonce, accessToken: grant.tokens.access_token }),
  }));
  await time('legacy Bearer JWT (again)', () => ({ authorization: `Bearer ${legacy}` }));
} finally {
  await pds.stop();
  await plc.stop();
}

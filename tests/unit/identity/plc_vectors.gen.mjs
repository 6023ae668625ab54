// plc_vectors.gen.mjs - produced plc_vectors.json once, with the reference libraries
// (@did-plc/lib for encoding, hashing and DID derivation; @atproto/crypto for keys and
// signatures). Run: /work/main/.tools/node22/bin/node tests/unit/identity/plc_vectors.gen.mjs
// from /work/main (it resolves packages from tests/e2e/node_modules).
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const require = createRequire(new URL('../../e2e/package.json', import.meta.url));
const plc = require('@did-plc/lib');
const crypto = require('@atproto/crypto');
const libRequire = createRequire(require.resolve('@did-plc/lib'));
const { cidForCbor } = libRequire('@atproto/common');

const K1 = '9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c';
const K2 = '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9';
const P1 = '4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d';

const k1 = await crypto.Secp256k1Keypair.import(K1);
const k2 = await crypto.Secp256k1Keypair.import(K2);
const p1 = await crypto.P256Keypair.import(P1);

const out = { keys: { k256_a: K1, k256_b: K2, p256_a: P1 }, vectors: [] };

async function vec(name, signer, signerName, unsigned) {
  const op = await plc.addSignature(unsigned, signer);
  const did = await plc.didForCreateOp(op);
  const cid = (await cidForCbor(op)).toString();
  out.vectors.push({ name, signer: signerName, op, did, cid });
  return { op, cid, did };
}

const genesis = {
  type: 'plc_operation',
  rotationKeys: [k1.did(), p1.did()],
  verificationMethods: { atproto: k2.did() },
  alsoKnownAs: ['at://alice.test'],
  services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example.com' } },
  prev: null,
};
const g = await vec('genesis_k256', k1, 'k256_a', genesis);
await vec('genesis_p256', p1, 'p256_a', {
  ...genesis,
  alsoKnownAs: ['at://bob.example.org', 'https://bob.example.org'],
  verificationMethods: { atproto: p1.did(), other: k1.did() },
  services: {
    atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example.com' },
    atproto_labeler: { type: 'AtprotoLabeler', endpoint: 'https://labeler.example.com' },
  },
});
const u = await vec('update_k256', k1, 'k256_a', {
  ...genesis,
  alsoKnownAs: ['at://alice2.test'],
  prev: g.cid,
});
await vec('tombstone_k256', k1, 'k256_a', { type: 'plc_tombstone', prev: u.cid });
await vec('legacy_create_k256', k2, 'k256_b', {
  type: 'create',
  signingKey: k2.did(),
  recoveryKey: k1.did(),
  handle: 'carol.test',
  service: 'https://pds.example.com',
  prev: null,
});
out.genesis_did_for_updates = g.did;
writeFileSync(new URL('./plc_vectors.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(out, null, 2));

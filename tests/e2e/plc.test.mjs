// The PLC harness: a did:plc created with @did-plc/lib against the in-memory directory
// resolves back to the document its genesis operation describes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as plc from '@did-plc/lib';
import { Secp256k1Keypair } from '@atproto/crypto';
import { useTestEnv } from './lib/index.mjs';

const env = useTestEnv({ pds: false });

test('genesis operation creates a did:plc that resolves back', async () => {
  const rotation = await Secp256k1Keypair.create();
  const signing = await Secp256k1Keypair.create();
  const client = new plc.Client(env.plc.url);
  const did = await client.createDid({
    signingKey: signing.did(),
    handle: 'alice.test',
    pds: 'http://localhost:2583',
    rotationKeys: [rotation.did()],
    signer: rotation,
  });
  assert.match(did, /^did:plc:[a-z2-7]{24}$/);

  const doc = await client.getDocument(did);
  assert.equal(doc.id, did);
  assert.deepEqual(doc.alsoKnownAs, ['at://alice.test']);
  // This directory version writes fragment-only ids and uncompressed multibase keys.
  const vm = doc.verificationMethod.find((m) => m.id === '#atproto' || m.id === `${did}#atproto`);
  assert.ok(vm, 'document has an #atproto verification method');
  assert.equal(vm.controller, did);
  const svc = doc.service.find((s) => s.id === '#atproto_pds');
  assert.equal(svc?.type, 'AtprotoPersonalDataServer');
  assert.equal(svc?.serviceEndpoint, 'http://localhost:2583');

  const data = await client.getDocumentData(did);
  assert.deepEqual(data.rotationKeys, [rotation.did()]);
  assert.deepEqual(data.verificationMethods, { atproto: signing.did() });
  assert.deepEqual(data.alsoKnownAs, ['at://alice.test']);

  // The log holds exactly the signed genesis operation, whose CID-derived DID matches.
  const log = await client.getOperationLog(did);
  assert.equal(log.length, 1);
  assert.equal(log[0].prev, null);
  assert.equal(await plc.didForCreateOp(log[0]), did);
});

test('an update signed by the rotation key is applied; one by another key is refused', async () => {
  const rotation = await Secp256k1Keypair.create();
  const signing = await Secp256k1Keypair.create();
  const client = new plc.Client(env.plc.url);
  const did = await client.createDid({
    signingKey: signing.did(),
    handle: 'bob.test',
    pds: 'http://localhost:2583',
    rotationKeys: [rotation.did()],
    signer: rotation,
  });
  await client.updateHandle(did, rotation, 'bob2.test');
  assert.deepEqual((await client.getDocument(did)).alsoKnownAs, ['at://bob2.test']);

  const stranger = await Secp256k1Keypair.create();
  await assert.rejects(client.updateHandle(did, stranger, 'mallory.test'), (err) => {
    assert.equal(err.status, 400);
    return true;
  });
  assert.deepEqual((await client.getDocument(did)).alsoKnownAs, ['at://bob2.test']);
  assert.equal((await client.getOperationLog(did)).length, 2);
});

test('an unknown did:plc is 404', async () => {
  const res = await fetch(`${env.plc.url}/did:plc:aaaaaaaaaaaaaaaaaaaaaaaa`);
  assert.equal(res.status, 404);
});

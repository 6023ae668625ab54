// The account lifecycle a user drives: deactivateAccount / activateAccount (what is refused
// meanwhile, the events each emits), checkAccountStatus, and requestAccountDelete +
// deleteAccount removing every row the account owned in one go, with the #account deleted
// event left in the outbox. Codes are read from mails delivered to a loopback SMTP server.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, describe, test } from 'node:test';
import * as dagCbor from '@ipld/dag-cbor';
import pg from 'pg';
import { createAccount, login, randomHex, useTestEnv } from './lib/index.mjs';
import { startSmtp, tokenOf } from './lib/mail.mjs';

const smtp = await startSmtp();
after(() => smtp.stop());

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

async function rejects(fn, { status, error, message }) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the call succeeded but should have failed');
  if (status !== undefined) assert.equal(err.status, status, `status (${err.error}: ${err.message})`);
  if (error !== undefined) assert.equal(err.error, error, `error name (${err.message})`);
  if (message !== undefined) assert.match(err.message, message);
  return err;
}

describe('account lifecycle', () => {
  const env = useTestEnv({
    pds: { env: { PDS_EMAIL_SMTP_URL: smtp.url, PDS_EMAIL_FROM_ADDRESS: 'noreply@pds.example.com' } },
  });

  async function sql(text, params) {
    const db = new pg.Client({ connectionString: env.pds.dbUrl });
    await db.connect();
    try {
      return (await db.query(text, params)).rows;
    } finally {
      await db.end();
    }
  }

  /** The account's outbox events after row id `afterId`, decoded: [{type, body}]. */
  async function events(did, afterId = 0) {
    const rows = await sql('SELECT id, event_type, event FROM repo_seq WHERE did = $1 AND id > $2 ORDER BY id', [
      did,
      afterId,
    ]);
    return rows.map((r) => ({ id: Number(r.id), type: r.event_type, body: dagCbor.decode(r.event) }));
  }
  async function lastEventId() {
    const rows = await sql('SELECT coalesce(max(id), 0) AS id FROM repo_seq');
    return Number(rows[0].id);
  }
  async function pub(nsid, params) {
    const url = new URL(`${env.pds.url}/xrpc/${nsid}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await fetch(url);
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, body: type.includes('json') ? await res.json() : await res.arrayBuffer() };
  }

  test('deactivate: public reads refused, writes refused, login works with active:false; activate restores all', async () => {
    const acct = await createAccount(env.pds);
    const rec = await acct.agent.com.atproto.repo.createRecord({
      repo: acct.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'before', createdAt: new Date().toISOString() },
    });
    const rkey = rec.data.uri.split('/').pop();
    const mark = await lastEventId();
    const deleteAfter = new Date(Date.now() + 7 * 864e5).toISOString();
    await acct.agent.com.atproto.server.deactivateAccount({ deleteAfter });

    let ev = await events(acct.did, mark);
    assert.deepEqual(
      ev.map((e) => e.type),
      ['account'],
    );
    assert.equal(ev[0].body.active, false);
    assert.equal(ev[0].body.status, 'deactivated');
    assert.equal(ev[0].body.did, acct.did);
    const [row] = await sql('SELECT deactivated_at IS NOT NULL AS d, delete_after FROM account WHERE did = $1', [acct.did]);
    assert.equal(row.d, true);
    assert.equal(row.delete_after.toISOString(), deleteAfter);

    let r = await pub('com.atproto.sync.getRepoStatus', { did: acct.did });
    assert.deepEqual(r.body, { did: acct.did, active: false, status: 'deactivated' });
    for (const [nsid, params] of [
      ['com.atproto.sync.getRepo', { did: acct.did }],
      ['com.atproto.sync.getLatestCommit', { did: acct.did }],
      ['com.atproto.sync.getRecord', { did: acct.did, collection: 'app.bsky.feed.post', rkey }],
    ]) {
      r = await pub(nsid, params);
      assert.equal(r.status, 400, nsid);
      assert.equal(r.body.error, 'RepoDeactivated', nsid);
    }
    await rejects(
      () =>
        acct.agent.com.atproto.repo.createRecord({
          repo: acct.did,
          collection: 'app.bsky.feed.post',
          record: { $type: 'app.bsky.feed.post', text: 'during', createdAt: new Date().toISOString() },
        }),
      { status: 401, error: 'AccountDeactivated' },
    );
    const again = await login(env.pds, acct.handle, acct.password);
    assert.equal(again.session.active, false);
    assert.equal(again.session.status, 'deactivated');
    const s = await acct.agent.com.atproto.server.getSession();
    assert.equal(s.data.active, false);
    const st = await acct.agent.com.atproto.server.checkAccountStatus();
    assert.equal(st.data.activated, false);
    // the owner may still read (migration needs it)
    const own = await acct.agent.com.atproto.sync.getLatestCommit({ did: acct.did });
    const revBefore = own.data.rev;

    const mark2 = await lastEventId();
    await again.com.atproto.server.activateAccount();
    ev = await events(acct.did, mark2);
    assert.deepEqual(
      ev.map((e) => e.type),
      ['identity', 'account', 'commit', 'sync'],
    );
    assert.equal(ev[0].body.handle, acct.handle);
    assert.equal(ev[1].body.active, true);
    assert.equal(ev[1].body.status, undefined);
    assert.equal(ev[2].body.ops.length, 0, 'an empty commit');
    assert.equal(ev[2].body.since, revBefore);
    assert.ok(ev[2].body.rev > revBefore, 'a newer rev');
    assert.equal(ev[3].body.rev, ev[2].body.rev);
    r = await pub('com.atproto.sync.getRepoStatus', { did: acct.did });
    assert.deepEqual(r.body, { did: acct.did, active: true, rev: ev[2].body.rev });
    r = await pub('com.atproto.repo.getRecord', { repo: acct.did, collection: 'app.bsky.feed.post', rkey });
    assert.equal(r.status, 200);
    await acct.agent.com.atproto.repo.createRecord({
      repo: acct.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'after', createdAt: new Date().toISOString() },
    });
    const [row2] = await sql('SELECT deactivated_at, delete_after FROM account WHERE did = $1', [acct.did]);
    assert.equal(row2.deactivated_at, null);
    assert.equal(row2.delete_after, null);
  });

  test('deactivate refuses app passwords and a bad deleteAfter', async () => {
    const acct = await createAccount(env.pds);
    const app = await acct.agent.com.atproto.server.createAppPassword({ name: 'app' });
    const viaApp = await login(env.pds, acct.handle, app.data.password);
    await rejects(() => viaApp.com.atproto.server.deactivateAccount({}), { status: 400, error: 'InvalidToken' });
    await rejects(() => acct.agent.com.atproto.server.deactivateAccount({ deleteAfter: 'tomorrow' }), {
      status: 400,
    });
    await rejects(() => viaApp.com.atproto.server.activateAccount(), { status: 400, error: 'InvalidToken' });
  });

  test('checkAccountStatus reports every field', async () => {
    const acct = await createAccount(env.pds);
    await acct.agent.com.atproto.repo.createRecord({
      repo: acct.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'one', createdAt: new Date().toISOString() },
    });
    const up = await acct.agent.uploadBlob(Buffer.concat([PNG, crypto.randomBytes(32)]), { encoding: 'image/png' });
    await acct.agent.com.atproto.repo.createRecord({
      repo: acct.did,
      collection: 'app.bsky.feed.post',
      record: {
        $type: 'app.bsky.feed.post',
        text: 'two',
        createdAt: new Date().toISOString(),
        embed: { $type: 'app.bsky.embed.images', images: [{ image: up.data.blob, alt: '' }] },
      },
    });
    await acct.agent.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }] });
    const st = (await acct.agent.com.atproto.server.checkAccountStatus()).data;
    const head = (await acct.agent.com.atproto.sync.getLatestCommit({ did: acct.did })).data;
    const [counts] = await sql(
      'SELECT (SELECT count(*) FROM repo_block WHERE did = $1)::int AS blocks,' +
        ' (SELECT count(*) FROM record WHERE did = $1)::int AS records',
      [acct.did],
    );
    assert.deepEqual(st, {
      activated: true,
      validDid: true,
      repoCommit: head.cid,
      repoRev: head.rev,
      repoBlocks: counts.blocks,
      indexedRecords: 2,
      privateStateValues: 1,
      expectedBlobs: 1,
      importedBlobs: 1,
    });
    assert.equal(counts.records, 2);
  });

  test('deleteAccount: code and password; every row goes in one transaction; #account deleted stays', async () => {
    const acct = await createAccount(env.pds, { email: `d${randomHex(4)}@example.com` });
    const other = await createAccount(env.pds);
    await acct.agent.com.atproto.repo.createRecord({
      repo: acct.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'doomed', createdAt: new Date().toISOString() },
    });
    const up = await acct.agent.uploadBlob(Buffer.concat([PNG, crypto.randomBytes(48)]), { encoding: 'image/png' });
    await acct.agent.com.atproto.repo.createRecord({
      repo: acct.did,
      collection: 'app.bsky.feed.post',
      record: {
        $type: 'app.bsky.feed.post',
        text: 'with image',
        createdAt: new Date().toISOString(),
        embed: { $type: 'app.bsky.embed.images', images: [{ image: up.data.blob, alt: '' }] },
      },
    });
    // and an upload no record uses yet
    await acct.agent.uploadBlob(Buffer.concat([PNG, crypto.randomBytes(48)]), { encoding: 'image/png' });
    await acct.agent.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }] });
    await acct.agent.com.atproto.server.createAppPassword({ name: 'gone' });
    await acct.agent.com.atproto.server.requestEmailConfirmation(); // an email_token row

    const n = smtp.mailsTo(acct.email).length;
    await acct.agent.com.atproto.server.requestAccountDelete();
    const mail = await smtp.waitForMail(acct.email, { after: n });
    assert.equal(mail.subject, 'Account deletion request');
    const token = tokenOf(mail);
    const agent = env.pds.agent();
    await rejects(() => agent.com.atproto.server.deleteAccount({ did: acct.did, password: 'wrong', token }), {
      status: 401,
      message: /Invalid did or password/,
    });
    await rejects(() => agent.com.atproto.server.deleteAccount({ did: acct.did, password: acct.password, token: 'AAAAA-AAAAA' }), {
      status: 400,
      error: 'InvalidToken',
    });
    await rejects(
      () => agent.com.atproto.server.deleteAccount({ did: acct.did, password: other.password, token }),
      { status: 401 },
    );

    const counts = async () => {
      const tables = [
        ['account', 'did'],
        ['repo_root', 'did'],
        ['repo_block', 'did'],
        ['record', 'did'],
        ['record_blob', 'did'],
        ['blob', 'did'],
        ['preference', 'did'],
        ['app_password', 'did'],
        ['refresh_token', 'did'],
        ['email_token', 'did'],
      ];
      const out = {};
      for (const [t, col] of tables) {
        const [r] = await sql(`SELECT count(*)::int AS n FROM ${t} WHERE ${col} = $1`, [acct.did]);
        out[t] = r.n;
      }
      return out;
    };
    const before = await counts();
    for (const t of Object.keys(before)) assert.ok(before[t] > 0, `${t} has rows before`);
    const blobCids = (await sql('SELECT cid FROM blob WHERE did = $1', [acct.did])).map((r) => r.cid.toString('hex'));
    assert.equal(blobCids.length, 2);

    await agent.com.atproto.server.deleteAccount({ did: acct.did, password: acct.password, token });

    const afterCounts = await counts();
    for (const t of Object.keys(afterCounts)) assert.equal(afterCounts[t], 0, `${t} has no rows after`);
    const queued = (await sql('SELECT cid FROM blob_gc WHERE did = $1', [acct.did])).map((r) => r.cid.toString('hex'));
    // the sweeper may already have deleted the bytes and its queue rows: then the store
    // holds nothing; either way no blob bytes are left unaccounted for
    for (const c of queued) assert.ok(blobCids.includes(c));
    const ev = await events(acct.did);
    assert.deepEqual(
      ev.map((e) => e.type),
      ['account'],
      'earlier events of the account are dropped',
    );
    assert.equal(ev[0].body.active, false);
    assert.equal(ev[0].body.status, 'deleted');
    // the other account is untouched
    const [o] = await sql('SELECT count(*)::int AS n FROM repo_block WHERE did = $1', [other.did]);
    assert.ok(o.n > 0);

    await rejects(() => login(env.pds, acct.handle, acct.password), { status: 401 });
    const r = await pub('com.atproto.sync.getRepoStatus', { did: acct.did });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'RepoNotFound');
    // the handle is free again
    const again = await createAccount(env.pds, { handle: acct.handle });
    assert.equal(again.handle, acct.handle);
    assert.notEqual(again.did, acct.did);
    // the code is gone with the account
    await rejects(() => agent.com.atproto.server.deleteAccount({ did: acct.did, password: acct.password, token }), {
      status: 400,
      message: /account not found/,
    });
  });

  test('an expired deletion code is refused', async () => {
    const acct = await createAccount(env.pds, { email: `e${randomHex(4)}@example.com` });
    await acct.agent.com.atproto.server.requestAccountDelete();
    const token = tokenOf(await smtp.waitForMail(acct.email));
    await sql("UPDATE email_token SET requested_at = now() - interval '15 minutes 1 second' WHERE did = $1", [acct.did]);
    await rejects(
      () => env.pds.agent().com.atproto.server.deleteAccount({ did: acct.did, password: acct.password, token }),
      { status: 400, error: 'ExpiredToken' },
    );
    const [a] = await sql('SELECT count(*)::int AS n FROM account WHERE did = $1', [acct.did]);
    assert.equal(a.n, 1);
  });
});

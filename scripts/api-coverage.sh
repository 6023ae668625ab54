#!/usr/bin/env bash
# api-coverage.sh - the API coverage table (docs/api-coverage.md): every com.atproto.* XRPC
# method in the official Lexicons (the @atproto/api package the tests install) against our
# route tables (server/api/*/routes.c: served) and the proxy's forwarding rules
# (server/api/proxy/proxy.c: proxied), with what the reference PDS does.
#   scripts/api-coverage.sh            print the table
#   scripts/api-coverage.sh --write    rewrite docs/api-coverage.md
#   scripts/api-coverage.sh --check    fail if docs/api-coverage.md is out of date
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node="$(scripts/setup-node.sh | tail -n1)"

table="$("$node" --input-type=module - <<'JS'
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const api = path.resolve('tests/e2e/node_modules/@atproto/api');
const pkg = JSON.parse(fs.readFileSync(path.join(api, 'package.json'), 'utf8'));
const { schemas } = await import(pathToFileURL(path.join(api, 'dist/client/lexicons.js')));

// Methods the reference PDS implements itself (bluesky-social/atproto packages/pds/src/api,
// commit d6296a1, 2026-08-20); createReport there is a pass-through to the report service.
const reference = new Set(`
admin.deleteAccount admin.disableAccountInvites admin.disableInviteCodes admin.enableAccountInvites
admin.getAccountInfo admin.getAccountInfos admin.getInviteCodes admin.getSubjectStatus
admin.sendEmail admin.updateAccountEmail admin.updateAccountHandle admin.updateAccountPassword
admin.updateSubjectStatus identity.getRecommendedDidCredentials
identity.requestPlcOperationSignature identity.resolveHandle identity.signPlcOperation
identity.submitPlcOperation identity.updateHandle repo.applyWrites repo.createRecord
repo.deleteRecord repo.describeRepo repo.getRecord repo.importRepo repo.listMissingBlobs
repo.listRecords repo.putRecord repo.uploadBlob server.activateAccount
server.checkAccountStatus server.confirmEmail server.createAccount server.createAppPassword
server.createInviteCode server.createInviteCodes server.createSession server.deactivateAccount
server.deleteAccount server.deleteSession server.describeServer server.getAccountInviteCodes
server.getServiceAuth server.getSession server.listAppPasswords server.refreshSession
server.requestAccountDelete server.requestEmailConfirmation server.requestEmailUpdate
server.requestPasswordReset server.reserveSigningKey server.resetPassword
server.revokeAppPassword server.updateEmail sync.getCheckout sync.getHead sync.getBlob
sync.getBlocks sync.getLatestCommit sync.getRecord sync.getRepo sync.getRepoStatus
sync.listBlobs sync.listRepos sync.subscribeRepos temp.checkSignupQueue
`.trim().split(/\s+/).map((m) => `com.atproto.${m}`));
const referenceProxied = new Set(['com.atproto.moderation.createReport']);
// Methods for other kinds of services: relays, labelers.
const elsewhere = {
  'com.atproto.sync.requestCrawl': 'relay',
  'com.atproto.sync.notifyOfUpdate': 'relay',
  'com.atproto.sync.listHosts': 'relay',
  'com.atproto.sync.getHostStatus': 'relay',
  'com.atproto.sync.listReposByCollection': 'relay',
  'com.atproto.label.queryLabels': 'labeler',
  'com.atproto.label.subscribeLabels': 'labeler',
};

const router = fs.readdirSync('server', { recursive: true })
  .filter((f) => path.basename(f) === 'routes.c')
  .map((f) => fs.readFileSync(path.join('server', f), 'utf8')).join('\n');
const served = new Set([...router.matchAll(/^\s*\{"(com\.atproto\.[A-Za-z.]+)"/gm)].map((m) => m[1]));
const proxy = fs.readFileSync('server/api/proxy/proxy.c', 'utf8');
const fwd = /forwarded_without_header\([^)]*\)\s*\{([\s\S]*?)\n\}/.exec(proxy)?.[1] ?? '';
const proxied = new Set([...fwd.matchAll(/"(com\.atproto\.[A-Za-z.]+)"/g)].map((m) => m[1]));

const methods = schemas
  .filter((d) => d.id.startsWith('com.atproto.') && ['query', 'procedure', 'subscription'].includes(d.defs?.main?.type))
  .map((d) => ({ id: d.id, type: d.defs.main.type }))
  .sort((a, b) => a.id.localeCompare(b.id));

const count = { served: 0, proxied: 0, 'not yet': 0, 'not a PDS method': 0 };
const rows = methods.map(({ id, type }) => {
  let ours;
  if (served.has(id)) ours = 'served';
  else if (proxied.has(id)) ours = 'proxied';
  else if (elsewhere[id]) ours = 'not a PDS method';
  else ours = 'not yet';
  count[ours]++;
  const ref = reference.has(id)
    ? 'served'
    : referenceProxied.has(id)
      ? 'proxied'
      : elsewhere[id]
        ? `${elsewhere[id]} method`
        : 'not served';
  return `| \`${id}\` | ${type} | ${ours} | ${ref} |`;
});

// OAuth (issue 11): HTTP routes outside the Lexicons, from their route tables.
const pathRoutes = (file) => [...fs.readFileSync(file, 'utf8').matchAll(/^\s*\{"(\/[^"]*)",\s*(HTTP_[A-Z_ |]+),/gm)]
  .map((m) => ({ path: m[1], methods: m[2].replace(/HTTP_/g, '').replace(/\s*\|\s*/g, ', ') }));
const protocol = new Set(['/.well-known/oauth-protected-resource', '/.well-known/oauth-authorization-server',
  '/oauth/jwks', '/oauth/par', '/oauth/token', '/oauth/revoke', '/oauth/authorize']);
const oauthRows = [...pathRoutes('server/oauth/routes.c'), ...pathRoutes('server/api/webaccount/routes.c')]
  .map(({ path: p, methods: m }) => `| \`${p}\` | ${m} | ${protocol.has(p) ? 'served, same path' : p === '/account' ? 'served (its own page)' : 'its own page API'} |`);

const gaps = methods.filter(({ id }) => reference.has(id) && !served.has(id) && !proxied.has(id));
console.log(`<!-- Generated by scripts/api-coverage.sh from the Lexicons in @atproto/api ${pkg.version}, the route tables (server/api/*/routes.c) and server/api/proxy/proxy.c; do not edit by hand. -->
# API coverage: com.atproto.*

Every \`com.atproto.*\` XRPC method of the official Lexicons (@atproto/api ${pkg.version}): whether
this server **serves** it (a line in a route table, \`server/api/<group>/routes.c\`), **proxies** it
(forwarded without an \`atproto-proxy\` header by \`server/api/proxy/proxy.c\`; any other method is
forwarded when a client names a service in that header), or does **not yet** handle it. The last
column is what the reference PDS does (bluesky-social/atproto \`packages/pds\`).

Totals: ${methods.length} methods; ${count.served} served, ${count.proxied} proxied, ${count['not yet']} not yet, ${count['not a PDS method']} for relays or labelers.
${gaps.length ? `Served by the reference but not here yet: ${gaps.map((g) => `\`${g.id}\``).join(', ')}.` : 'Everything the reference PDS serves is served or proxied here.'}

Routes of ours outside the Lexicons: \`GET /xrpc/_health\` (as the reference), \`GET /xrpc/_status\`
(admin; the numbers \`pdsadmin status\` prints), \`GET /tls-check?domain=\` (on-demand TLS, as the
reference distribution), \`GET /.well-known/atproto-did\`.

Records are validated on write against the Lexicon schemas compiled into the server: lexicons/
(${fs.readFileSync('lexicons/SOURCE', 'utf8').trim()}, ${fs.readdirSync('lexicons', { recursive: true }).filter((f) => f.endsWith('.json')).length} documents; lexicons/README.md), plus any in \`PDS_LEXICON_DIR\`. As the
reference: with \`validate\` unset a collection with a record schema is validated (400
\`InvalidRequest\` "Invalid <nsid> record: …") and any other is stored as \`unknown\`;
\`validate: true\` refuses an unknown one ("Unknown lexicon type: <nsid>"); \`validate: false\`
skips the check and reports no \`validationStatus\`.

OAuth (the authorization server, and the pages that sign a browser in), ${oauthRows.length} routes
served here; the protocol endpoints have the reference's paths, the pages' JSON endpoints are
our own (the reference's pages are a React app with its own API):

| Route | Methods | Reference PDS |
|---|---|---|
${oauthRows.join('\n')}

| Method | Type | Here | Reference PDS |
|---|---|---|---|
${rows.join('\n')}`);
JS
)"

case "${1:-}" in
--write) printf '%s\n' "$table" >docs/api-coverage.md ;;
--check)
  if ! diff -u docs/api-coverage.md <(printf '%s\n' "$table") >/dev/null; then
    diff -u docs/api-coverage.md <(printf '%s\n' "$table") | head -40 >&2 || true
    echo "api-coverage: docs/api-coverage.md is out of date: run scripts/api-coverage.sh --write" >&2
    exit 1
  fi
  ;;
"") printf '%s\n' "$table" ;;
*)
  echo "usage: $0 [--write|--check]" >&2
  exit 2
  ;;
esac

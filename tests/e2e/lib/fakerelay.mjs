// A small relay on loopback answering what a relay answers about hosts and accounts, as
// the reference relay does (indigo cmd/relay handlers.go): getHostStatus ({hostname, seq,
// status}, 404 HostNotFound), getRepoStatus ({did, active, status?, rev?}, 404
// RepoNotFound) and requestCrawl (recorded). The test sets what it says.
import http from 'node:http';
import { once } from 'node:events';

/**
 * Returns { url, hosts, repos, crawls, asked, stop() }:
 *   hosts: Map hostname -> { status, seq?, accountCount?, accountLimit? } (absent: unknown)
 *   repos: Map did -> { active, status?, rev? } (absent: RepoNotFound)
 *   crawls: [{ hostname, at }] requestCrawl calls; asked: Map did -> getRepoStatus count
 */
export async function startFakeRelay() {
  const hosts = new Map();
  const repos = new Map();
  const crawls = [];
  const asked = new Map();
  const reply = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://relay');
    const nsid = url.pathname.replace(/^\/xrpc\//, '');
    if (req.method === 'GET' && nsid === 'com.atproto.sync.getHostStatus') {
      const hostname = url.searchParams.get('hostname');
      const h = hosts.get(hostname);
      if (!h) return reply(res, 404, { error: 'HostNotFound', message: 'host not found' });
      return reply(res, 200, { hostname, seq: h.seq ?? -1, status: h.status, ...(h.accountCount !== undefined ? { accountCount: h.accountCount } : {}), ...(h.accountLimit !== undefined ? { accountLimit: h.accountLimit } : {}) });
    }
    if (req.method === 'GET' && nsid === 'com.atproto.sync.getRepoStatus') {
      const did = url.searchParams.get('did');
      asked.set(did, (asked.get(did) ?? 0) + 1);
      const r = repos.get(did);
      if (!r) return reply(res, 404, { error: 'RepoNotFound', message: 'account not found' });
      return reply(res, 200, { did, active: r.active, ...(r.status ? { status: r.status } : {}), ...(r.rev ? { rev: r.rev } : {}) });
    }
    if (req.method === 'POST' && nsid === 'com.atproto.sync.requestCrawl') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        crawls.push({ hostname: JSON.parse(body || '{}').hostname, at: Date.now() });
        reply(res, 200, {});
      });
      return;
    }
    reply(res, 501, { error: 'MethodNotImplemented', message: 'Method Not Implemented' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    hosts,
    repos,
    crawls,
    asked,
    async stop() {
      const closed = new Promise((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

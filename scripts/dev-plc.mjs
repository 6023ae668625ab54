// dev-plc.mjs - a private PLC directory for a localhost PDS (scripts/run.sh): the official
// @did-plc/server on 127.0.0.1 with its in-memory database, made durable by replaying the
// operations it accepted (appended to a JSON-lines file) at start-up.
// Usage: node scripts/dev-plc.mjs <port> <ops-file>
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/e2e/package.json'));
const { PlcServer, Database } = require('@did-plc/server');

const port = Number(process.argv[2] || 2582);
const opsFile = process.argv[3];
const plc = PlcServer.create({ db: Database.mock(), port });

// Replay what earlier runs accepted, in order, through the same validation path.
if (opsFile && fs.existsSync(opsFile)) {
  let n = 0;
  for (const line of fs.readFileSync(opsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { did, op } = JSON.parse(line);
    try {
      await plc.ctx.db.validateAndAddOp(did, op);
      n++;
    } catch (err) {
      console.error(`dev-plc: skipped a stored op for ${did}: ${err.message}`);
    }
  }
  console.error(`dev-plc: replayed ${n} operations from ${opsFile}`);
}

// Record every accepted operation (POST /<did> answered 200). Express parses the body
// onto the same request object, so it is there when the response finishes.
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && opsFile) {
    const did = decodeURIComponent(req.url.split('?')[0].slice(1));
    res.on('finish', () => {
      if (res.statusCode === 200 && req.body) {
        fs.appendFileSync(opsFile, JSON.stringify({ did, op: req.body }) + '\n');
      }
    });
  }
  plc.app(req, res);
});
server.listen(port, '127.0.0.1', () =>
  console.error(`dev-plc: PLC directory on http://127.0.0.1:${port}`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));

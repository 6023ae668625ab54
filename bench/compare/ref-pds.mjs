// ref-pds.mjs - starts the reference PDS (npm @atproto/pds, installed by compare.sh under
// bench/.ref) with its shipped defaults: SQLite in WAL mode under PDS_DATA_DIRECTORY, disk
// blobs, logging off. compare.sh sets PDS_HOSTNAME=localhost, PDS_DEV_MODE=true, the port,
// the PLC URL and fresh secrets in the environment. Never committed: the reference's code.
// Usage: node bench/compare/ref-pds.mjs <dir of the install>
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(path.resolve(process.argv[2]), 'package.json'));
const entry = require.resolve('@atproto/pds');
const { PDS, envToCfg, envToSecrets, readEnv } = await import(entry);

const env = readEnv();
const pds = await PDS.create(envToCfg(env), envToSecrets(env));
await pds.start();
console.error(`ref-pds: listening on ${env.port}`);
const stop = async () => {
  await pds.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// export-lexicons.mjs - writes the official Lexicon schemas that ship inside the
// @atproto/api npm package (installed for the tests) as one JSON file per NSID, for
// PDS_LEXICON_DIR. The package prefixes refs with "lex:"; schema documents do not.
// Usage: node scripts/export-lexicons.mjs <dir>
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const apiDir = path.join(here, '../tests/e2e/node_modules/@atproto/api');
const { schemas } = await import(pathToFileURL(path.join(apiDir, 'dist/client/lexicons.js')));

const out = process.argv[2];
if (!out) {
  console.error('usage: export-lexicons.mjs <dir>');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const strip = (v) =>
  Array.isArray(v)
    ? v.map(strip)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]))
      : typeof v === 'string' && v.startsWith('lex:')
        ? v.slice(4)
        : v;
let n = 0;
for (const doc of schemas) {
  fs.writeFileSync(path.join(out, `${doc.id}.json`), JSON.stringify(strip(doc)));
  n++;
}
console.error(`export-lexicons: ${n} schemas written to ${out}`);

// One-line suite setup for test files: a PLC directory and a PDS for the whole file,
// stopped after it, and the PDS log printed after any failed test.
import { after, afterEach, before } from 'node:test';
import { startPlc } from './plc.mjs';
import { startPds } from './pds.mjs';

/**
 * Registers before/after hooks; returns an object whose `plc` and `pds` are set once
 * `before` has run. opts.pds: { env } passed to startPds; opts.pds === false: PLC only.
 */
export function useTestEnv(opts = {}) {
  const ctx = { plc: null, pds: null };
  let logShown = false;
  before(async () => {
    ctx.plc = await startPlc();
    if (opts.pds !== false) ctx.pds = await startPds({ plcUrl: ctx.plc.url, ...(opts.pds || {}) });
  });
  afterEach((t) => {
    if (t.passed || !ctx.pds || logShown) return;
    logShown = true;
    process.stderr.write(`\n--- pds log after failed test "${t.name}" (${ctx.pds.logFile}) ---\n`);
    process.stderr.write(ctx.pds.logTail(120) + '\n--- end of pds log ---\n');
  });
  after(async () => {
    await ctx.pds?.stop({ keepFiles: logShown || !!process.env.PDS_E2E_KEEP });
    await ctx.plc?.stop();
  });
  return ctx;
}

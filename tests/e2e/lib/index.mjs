// The e2e harness in one import.
export * from './util.mjs';
export * from './db.mjs';
export * from './plc.mjs';
export * from './pds.mjs';
export * from './accounts.mjs';
export * from './env.mjs';
export * from './browser.mjs';

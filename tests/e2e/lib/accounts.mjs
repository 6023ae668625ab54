// Account helpers over @atproto/api (need com.atproto.server.createAccount on the server).
import { AtpAgent } from '@atproto/api';
import { randomHex } from './util.mjs';

/**
 * Creates an account on `pds` (from startPds) and returns
 * { agent (logged in), did, handle, email, password, session }.
 */
export async function createAccount(pds, { handle, email, password, inviteCode } = {}) {
  const id = randomHex(4);
  handle ??= `u${id}.test`;
  email ??= `u${id}@example.test`;
  password ??= `pw-${randomHex(8)}`;
  const agent = new AtpAgent({ service: pds.url });
  const res = await agent.createAccount({ handle, email, password, ...(inviteCode ? { inviteCode } : {}) });
  return { agent, did: res.data.did, handle: res.data.handle, email, password, session: res.data };
}

/** Logs in with an identifier (handle or DID) and password; returns a logged-in AtpAgent. */
export async function login(pds, identifier, password) {
  const agent = new AtpAgent({ service: pds.url });
  await agent.login({ identifier, password });
  return agent;
}

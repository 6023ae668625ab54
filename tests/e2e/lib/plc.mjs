// An in-memory PLC directory (@did-plc/server with its mock database) on 127.0.0.1.
import { once } from 'node:events';
import plcServer from '@did-plc/server';

const { PlcServer, Database } = plcServer;

/**
 * Starts a PLC directory on a free loopback port (or `port`).
 * Returns { url, port, server, stop() }.
 */
export async function startPlc({ port = 0 } = {}) {
  const plc = PlcServer.create({ db: Database.mock(), port });
  // PlcServer.start() listens on every interface; bind to loopback only instead.
  const http = plc.app.listen(port, '127.0.0.1');
  await once(http, 'listening');
  plc.server = http;
  const actualPort = http.address().port;
  let stopped = false;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    server: plc,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = new Promise((r) => http.close(() => r()));
      http.closeAllConnections();
      await closed;
      await plc.ctx.db.close();
    },
  };
}

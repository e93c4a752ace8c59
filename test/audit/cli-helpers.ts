// Running the CLI in a child process (real entry, real exit code) or in-process (fast), and a
// minimal admin server that mounts route lists the way the proxy's admin server does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminRoute } from '../../src/admin/types.js';
import { runCli, type CliResult } from '../helpers/cli.js';

export { runCliHere as runHere, type CliResult } from '../helpers/cli.js';

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return runCli(args, { env });
}

/** Serves admin routes on loopback: exact paths, or prefixes ending in '/'; bearer token required. */
export async function adminServer(routes: AdminRoute[], token: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes.find((r) => r.method === req.method && (r.path.endsWith('/') ? url.pathname.startsWith(r.path) && url.pathname.length > r.path.length : url.pathname === r.path));
    if (!route) {
      res.writeHead(404).end('{"error":"no such route"}');
      return;
    }
    if (route.adminOnly && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"admin token required"}');
      return;
    }
    void route.handler(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

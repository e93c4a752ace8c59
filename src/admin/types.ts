// Admin API routes are contributed by stages (audit, identity) and mounted by the admin server.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface AdminRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Exact path, or a prefix when it ends with '/'. Paths start with /v1/. */
  path: string;
  /**
   * Whether the caller must present the admin token (Authorization: Bearer <certs/admin.token>).
   * Only endpoints that authenticate by other means (token exchange with an OIDC token) set false.
   */
  adminOnly: boolean;
  handler(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

// Set by the admin server on a request that carries a logged-in UI session (the admin token was
// presented at login), so routes that authenticate callers themselves can accept it as admin.
const ADMIN_SESSION = Symbol('wiretrail.adminSession');

export function markAdminSession(req: IncomingMessage): void {
  (req as IncomingMessage & { [ADMIN_SESSION]?: true })[ADMIN_SESSION] = true;
}

/** True when the admin server found a logged-in admin UI session on this request. */
export function isAdminSession(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { [ADMIN_SESSION]?: true })[ADMIN_SESSION] === true;
}

/** Writes a JSON response; errors are one-line messages under `error`, never secrets. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body) + '\n');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': data.length, 'cache-control': 'no-store' });
  res.end(data);
}

/** Reads a request body up to `limit` bytes (413 error message otherwise). */
export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw Object.assign(new Error(`request body larger than ${limit} bytes`), { status: 413 });
    parts.push(c);
  }
  return Buffer.concat(parts);
}

// Admin API: health, and the routes the audit and identity stages contribute. Binds to loopback by
// default; every route but health and token exchange needs the admin token (certs/admin.token, 0600).
// Every request first passes guard.ts (Host names, JSON-only and same-origin state changes).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { markAdminSession, sendJson, type AdminRoute } from './types.js';
import { ADMIN_TOKEN_FILE } from './client.js';
import { allowedHostNames, checkAdminRequest, isLoopbackHost } from './guard.js';
import type { AdminUi } from './ui/index.js';
import { AuthFailures } from '../identity/auth-failures.js';
import { addressKey, type ThrottleOptions } from '../identity/auth-throttle.js';

export { sendJson, readBody, type AdminRoute } from './types.js';
export { adminFetch, readAdminToken, AdminError, ADMIN_TOKEN_FILE } from './client.js';

/** Reads the admin token, creating it (0600) on first start. */
export function ensureAdminToken(certsDir: string): string {
  const file = join(certsDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    return readFileSync(file, 'utf8').trim();
  }
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const token = 'wta_' + randomBytes(32).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return token;
}

function sameSecret(a: string, b: string): boolean {
  // Compare digests so lengths never leak and timingSafeEqual gets equal-size inputs.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Constant-time check of a presented admin token. */
export function isAdminToken(presented: string, token: string): boolean {
  return presented.length > 0 && sameSecret(presented, token);
}

/** The web UI's form posts (see checkAdminRequest). */
const UI_FORM_PATHS: ReadonlySet<string> = new Set(['/login', '/logout']);

export interface AdminServer {
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createAdminServer(opts: {
  token: string;
  routes: AdminRoute[];
  logger: Logger;
  health: () => Record<string, unknown> & { ok: boolean };
  /** Host names accepted besides loopback names and the bind address (config `admin_hosts`). */
  allowedHosts?: readonly string[];
  /** The web UI, served for every path outside /v1/ (its session cookie also admits /v1/ routes). */
  ui?: AdminUi;
  /** Failed admin token throttling; defaults in identity/auth-throttle.ts. */
  throttle?: ThrottleOptions;
}): AdminServer {
  const { routes, logger } = opts;
  const failures = new AuthFailures(opts.throttle, logger, 'admin token');
  let allowed = allowedHostNames('127.0.0.1', opts.allowedHosts);
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 60_000 }, (req, res) => {
    void handle(req, res).catch((err: Error & { status?: number }) => {
      const status = err.status ?? 500;
      if (status >= 500) logger.error({ err: err.message, path: req.url?.split('?')[0] }, 'admin request failed');
      if (!res.headersSent) sendJson(res, status, { error: err.message.split('\n')[0] });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const refused = checkAdminRequest(req, allowed, opts.ui ? UI_FORM_PATHS : undefined);
    if (refused) {
      logger.warn({ path: req.url?.split('?')[0], method: req.method, host: req.headers.host, origin: req.headers.origin, status: refused.status }, 'admin request refused');
      sendJson(res, refused.status, { error: refused.error });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    if (url.pathname === '/healthz' || url.pathname === '/v1/health') {
      const h = opts.health();
      sendJson(res, h.ok ? 200 : 503, h);
      return;
    }
    const route = routes.find(
      (r) => r.method === req.method && (r.path.endsWith('/') ? url.pathname.startsWith(r.path) : url.pathname === r.path),
    );
    // Registered routes first (/metrics and /readyz live outside /v1/); the UI serves the other pages.
    if (!route && opts.ui && (await uiHandled(opts.ui, req, res, url))) return;
    // A logged-in UI session stands for the admin token (routes that authenticate callers themselves,
    // such as approvals, accept it through isAdminSession).
    if (opts.ui?.authenticated(req) === true && !req.headers.authorization) markAdminSession(req);
    if (!route) {
      const pathKnown = routes.some((r) => (r.path.endsWith('/') ? url.pathname.startsWith(r.path) : url.pathname === r.path));
      sendJson(res, pathKnown ? 405 : 404, { error: pathKnown ? 'method not allowed' : 'no such endpoint' });
      return;
    }
    if (route.adminOnly && !(await adminTokenAccepted(req, res))) return;
    await route.handler(req, res, url);
  }

  /** The UI's login form takes the admin token too: same per-address throttle (refused before the check, failures counted). */
  async function uiHandled(ui: AdminUi, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const login = req.method === 'POST' && url.pathname === '/login';
    const client = addressKey(req.socket.remoteAddress);
    if (login) {
      const wait = failures.blockedAddress(client);
      if (wait !== null) {
        res.setHeader('retry-after', String(wait));
        sendJson(res, 429, { error: 'too many failed admin token attempts' });
        return true;
      }
    }
    const handled = await ui.handle(req, res, url);
    if (handled && login && res.statusCode === 401) await failures.failed(client, 'admin-token', 'wrong admin token');
    return handled;
  }

  /**
   * Checks the admin token. Wrong tokens are throttled per client address (refused before the check
   * once over the limit) and against the admin token itself (only failing attempts: the right token
   * always passes, so a flood from elsewhere cannot lock the operator out).
   */
  async function adminTokenAccepted(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const client = addressKey(req.socket.remoteAddress);
    const tooMany = (retry: number) => {
      res.setHeader('retry-after', String(retry));
      sendJson(res, 429, { error: 'too many failed admin token attempts' });
      return false;
    };
    const wait = failures.blockedAddress(client);
    if (wait !== null) return tooMany(wait);
    const header = req.headers.authorization;
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (m && sameSecret(m[1]!, opts.token)) return true;
    if (!m && opts.ui?.authenticated(req) === true) return true; // the UI's session cookie
    if (header?.trim()) {
      // Only a presented token is a failed attempt; a request without one is just unauthenticated.
      const retry = await failures.failed(client, 'admin-token', 'wrong admin token');
      if (retry !== null) return tooMany(retry);
    }
    sendJson(res, 401, { error: 'admin token required (Authorization: Bearer <certs/admin.token>)' });
    return false;
  }

  return {
    listen(port, host) {
      allowed = allowedHostNames(host, opts.allowedHosts);
      if (!isLoopbackHost(host.replace(/^\[|\]$/g, ''))) {
        logger.warn({ admin: host }, 'the admin API listens beyond loopback: anyone who can reach this address can try admin tokens and exchange OIDC tokens; prefer 127.0.0.1 and a tunnel');
      }
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      opts.ui?.close();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

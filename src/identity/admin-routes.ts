// Admin API routes of the identity stage: token exchange (authenticated by the OIDC token itself)
// and credential management (admin token, checked by the admin server).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, type AdminRoute } from '../admin/types.js';
import { ExchangeError, ThrottledError, type IdentityService } from './authenticator.js';
import { tokenJson } from './api-form.js';
import { parseDuration } from './duration.js';
import { TokenStoreError } from './token-store.js';

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const buf = await readBody(req, 64 * 1024);
  if (buf.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new ExchangeError('request body is not valid JSON', 400);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ExchangeError('request body must be a JSON object', 400);
  return v as Record<string, unknown>;
}

function ttlFrom(body: Record<string, unknown>): number | undefined {
  if (body.ttl === undefined || body.ttl === null) return undefined;
  if (typeof body.ttl !== 'string' && typeof body.ttl !== 'number') throw new ExchangeError('ttl must be a duration such as "30m" or a number of seconds', 400);
  try {
    return parseDuration(body.ttl);
  } catch (err) {
    throw new ExchangeError(`ttl: ${(err as Error).message}`, 400);
  }
}

function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ExchangeError(`${key} must be a string`, 400);
  return v;
}

/** Runs a handler, turning known errors into one-line JSON errors (never a secret, never a stack). */
function guarded(fn: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>): AdminRoute['handler'] {
  return async (req, res, url) => {
    try {
      await fn(req, res, url);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (err instanceof ThrottledError) res.setHeader('retry-after', String(err.retryAfterSeconds));
      if (err instanceof ExchangeError || typeof status === 'number') sendJson(res, status ?? 400, { error: (err as Error).message });
      else if (err instanceof TokenStoreError) sendJson(res, 503, { error: 'token store unavailable' });
      else sendJson(res, 500, { error: 'internal error' });
    }
  };
}

export function identityAdminRoutes(auth: IdentityService): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/token',
      adminOnly: false,
      handler: guarded(async (req, res) => {
        const body = await jsonBody(req);
        let token = optString(body, 'token');
        const authz = req.headers.authorization;
        if (!token && authz) {
          const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authz);
          if (!m) throw new ExchangeError('Authorization must be "Bearer <OIDC token>"', 401);
          token = m[1];
        }
        if (!token) throw new ExchangeError('missing credentials: send the OIDC token as {"token": …} or Authorization: Bearer', 401);
        const name = optString(body, 'name');
        const out = await auth.exchange(token, { ttlSeconds: ttlFrom(body), clientAddress: req.socket.remoteAddress ?? null, ...(name ? { name } : {}) });
        sendJson(res, 201, { token: out.token, ...tokenJson(out.info) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/tokens',
      adminOnly: true,
      handler: guarded(async (_req, res) => {
        sendJson(res, 200, { tokens: (await auth.list()).map(tokenJson) });
      }),
    },
    {
      method: 'POST',
      path: '/v1/tokens',
      adminOnly: true,
      handler: guarded(async (req, res) => {
        const body = await jsonBody(req);
        const name = optString(body, 'name');
        if (!name) throw new ExchangeError('name is required', 400);
        let groups: string[] | undefined;
        if (body.groups !== undefined) {
          if (!Array.isArray(body.groups) || !body.groups.every((g) => typeof g === 'string')) throw new ExchangeError('groups must be an array of strings', 400);
          groups = body.groups as string[];
        }
        const out = await auth.createStatic({ name, ttlSeconds: ttlFrom(body) ?? null, ...(groups ? { groups } : {}) });
        sendJson(res, 201, { token: out.token, ...tokenJson(out.info) });
      }),
    },
    {
      method: 'DELETE',
      path: '/v1/tokens/',
      adminOnly: true,
      handler: guarded(async (_req, res, url) => {
        const id = decodeURIComponent(url.pathname.slice('/v1/tokens/'.length));
        if (!/^[0-9a-f]{12}$/.test(id)) throw new ExchangeError('token id must be 12 hex characters', 400);
        const info = await auth.revoke(id);
        if (!info) throw new ExchangeError(`no token with id ${id}`, 404);
        sendJson(res, 200, tokenJson(info));
      }),
    },
  ];
}

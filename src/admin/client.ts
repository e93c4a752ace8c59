// Client side of the admin API, for CLI commands that talk to a running proxy (`--admin URL`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin.token';

/** The admin token: $WIRETRAIL_ADMIN_TOKEN, else <certsDir>/admin.token (written 0600 by `start`). */
export function readAdminToken(certsDir: string): string | null {
  const env = process.env.WIRETRAIL_ADMIN_TOKEN;
  if (env) return env.trim();
  try {
    return readFileSync(join(certsDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch {
    return null;
  }
}

export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/**
 * Calls the admin API of a running proxy. `base` is e.g. http://127.0.0.1:8081.
 * Returns the Response so callers can stream large bodies (exports).
 */
export async function adminFetch(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.body !== undefined) body = JSON.stringify(init.body);
  const method = init.method ?? (body ? 'POST' : 'GET');
  // The admin API only accepts state changes sent as JSON (see admin/guard.ts).
  if (body !== undefined || method !== 'GET') headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, base), { method, headers, body });
  } catch (err) {
    throw new AdminError(`cannot reach admin API at ${base}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, 0);
  }
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const j = (await res.json()) as { error?: string };
      if (j.error) msg = `${res.status}: ${j.error}`;
    } catch {
      /* keep status line */
    }
    throw new AdminError(`admin API ${path}: ${msg}`, res.status);
  }
  return res;
}

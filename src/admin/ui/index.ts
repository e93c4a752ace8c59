// The admin web UI: login with the admin token, the session list (filters, search, live rows), a
// session's conversation with its integrity badge and replay, and the checkpoint history. Served
// by the admin server for every path outside /v1/; all assets come from wiretrail itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTimeArg } from '../../audit/index.js';
import { SessionCatalog, sessionExchanges, sessionFacts, type SessionQuery } from '../../transcript/index.js';
import { CookieSessions } from './cookie-session.js';
import { sessionIntegrity } from './integrity.js';
import { LiveSessions } from './live.js';
import { checkpointsPage, listPage, loginPage, notFoundPage, sessionPage } from './pages.js';
import type { UiSource } from './source.js';
import { STYLE_CSS } from './style.js';

export { uiSourceFromLog, type UiSource, type LogReadSide } from './source.js';

export interface UiOptions {
  source: UiSource;
  /** Checks an admin token (constant time; the admin server's throttle applies). */
  checkToken(token: string, req: IncomingMessage): boolean;
  /** Whether the admin API has the approval queue routes (policy with require_approval). */
  approvals?: boolean;
}

export interface AdminUi {
  /** Handles a UI request; false when the path is not the UI's. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** True when the request carries a logged-in UI session (the UI's fetches to /v1/ use it). */
  authenticated(req: IncomingMessage): boolean;
  close(): void;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin', // not no-referrer: Chromium then sends "Origin: null" on same-origin form posts
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': data.length, ...extra });
  res.end(data);
}

const sendHtml = (res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}) => send(res, status, 'text/html; charset=utf-8', body, extra);
const redirect = (res: ServerResponse, to: string, extra: Record<string, string> = {}) => send(res, 303, 'text/plain; charset=utf-8', `see ${to}\n`, { location: to, ...extra });

/** The browser script, compiled by `npm run build` into dist/ui/app.js. */
function loadAppScript(): Buffer | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const f = join(dir, 'dist', 'ui', 'app.js');
    if (existsSync(f)) return readFileSync(f);
    dir = dirname(dir);
  }
  return null;
}

async function readForm(req: IncomingMessage, limit = 4096): Promise<URLSearchParams> {
  let body = '';
  for await (const c of req as AsyncIterable<Buffer>) {
    body += c.toString('utf8');
    if (body.length > limit) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

/** A cross-site form post carries a foreign Origin; same-origin posts carry ours or none. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] === undefined || req.headers['sec-fetch-site'] === 'same-origin' || req.headers['sec-fetch-site'] === 'none';
  return origin === `http://${req.headers.host ?? ''}`;
}

function timeParam(params: URLSearchParams, name: string): number | undefined {
  const v = params.get(name);
  if (!v) return undefined;
  try {
    return parseTimeArg(v, name);
  } catch {
    return undefined;
  }
}

export function queryFromParams(params: URLSearchParams): SessionQuery {
  const q: SessionQuery = { limit: 50 };
  for (const k of ['q', 'user', 'group', 'repository', 'agent', 'host', 'model', 'decision'] as const) {
    const v = params.get(k)?.trim();
    if (v) q[k] = v.slice(0, 200);
  }
  const since = timeParam(params, 'since');
  const until = timeParam(params, 'until');
  if (since !== undefined) q.since = since;
  if (until !== undefined) q.until = until;
  const before = /^\d{1,16}$/.exec(params.get('before') ?? '');
  if (before) q.before = Number(before[0]);
  return q;
}

export function createAdminUi(opts: UiOptions): AdminUi {
  const cookies = new CookieSessions();
  const catalog = new SessionCatalog(opts.source);
  const live = new LiveSessions(catalog);
  const appScript = loadAppScript();

  async function handleLogin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) return sendHtml(res, 403, loginPage('Cross-site login refused.', false));
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch {
      return sendHtml(res, 413, loginPage('The form was too large.', false));
    }
    if (!opts.checkToken(form.get('token')?.trim() ?? '', req)) return sendHtml(res, 401, loginPage('That is not the admin token.', false));
    redirect(res, '/', { 'set-cookie': cookies.cookie(cookies.create()) });
  }

  async function handleSession(res: ServerResponse, id: string): Promise<void> {
    const shown = await opts.source.showSession(id);
    if (!shown) return sendHtml(res, 404, notFoundPage(`No session ${id} in the log.`));
    const exchanges = sessionExchanges(shown.records);
    const facts = sessionFacts(shown.summary, shown.records, exchanges);
    const integrity = await sessionIntegrity(opts.source, id, shown.records.length);
    sendHtml(res, 200, sessionPage(shown.summary, shown.records, exchanges, facts, integrity));
  }

  async function handlePage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const p = url.pathname;
    if (p === '/') {
      const q = queryFromParams(url.searchParams);
      return sendHtml(res, 200, listPage(q, await catalog.query(q), url.searchParams, opts.approvals === true));
    }
    if (p.startsWith('/sessions/')) {
      let id: string;
      try {
        id = decodeURIComponent(p.slice('/sessions/'.length));
      } catch {
        return sendHtml(res, 400, notFoundPage('Malformed session id.'));
      }
      return handleSession(res, id);
    }
    if (p === '/ui/approvals') return redirect(res, '/#approvals'); // the webhook's link target
    if (p === '/checkpoints') return sendHtml(res, 200, checkpointsPage(await opts.source.checkpoints(100)));
    if (p === '/ui/events') {
      if (!live.add(res)) send(res, 503, 'text/plain; charset=utf-8', 'too many live views open\n', { 'retry-after': '10' });
      return;
    }
    sendHtml(res, 404, notFoundPage(`Nothing at ${p}.`));
  }

  return {
    authenticated: (req) => cookies.valid(req),
    close: () => live.close(),
    async handle(req, res, url) {
      const p = url.pathname;
      if (p.startsWith('/v1/')) return false;
      if (req.method === 'GET' && p === '/assets/style.css') {
        send(res, 200, 'text/css; charset=utf-8', STYLE_CSS);
        return true;
      }
      if (req.method === 'GET' && p === '/assets/app.js') {
        if (appScript) send(res, 200, 'text/javascript; charset=utf-8', appScript);
        else send(res, 500, 'text/plain; charset=utf-8', 'the UI script is not built: run `npm run build`\n');
        return true;
      }
      if (p === '/login' && req.method === 'POST') {
        await handleLogin(req, res);
        return true;
      }
      if (p === '/logout' && req.method === 'POST') {
        if (sameOrigin(req)) cookies.end(req);
        redirect(res, '/', { 'set-cookie': CookieSessions.clearCookie() });
        return true;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET' });
        return true;
      }
      if (!cookies.valid(req)) {
        if (p === '/' || p === '/login') sendHtml(res, 200, loginPage(null, false));
        else redirect(res, '/');
        return true;
      }
      if (p === '/login') {
        redirect(res, '/');
        return true;
      }
      await handlePage(req, res, url);
      return true;
    },
  };
}

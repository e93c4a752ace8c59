// Read side of the audit log over the admin API, so the CLI works while a running proxy holds the
// LevelDB lock. All routes require the admin token.
// Every read goes through the running log's AuditReader (log.reader), the contract the CLI's local
// and remote readers implement too.
//   GET  /v1/audit/sessions?since=&until=&user=&limit=&order=oldest|newest&cursor=   {sessions: SessionSummary[]}
//   GET  /v1/audit/session-index?q=&user=&group=&repository=&agent=&host=&model=&decision=&since=&until=&before=&limit=
//                                                         one page from the secondary indexes, newest first: {sessions: [{summary, facts}], next, steps, truncated}
//   GET  /v1/audit/active-sessions?since=                 {sessions: [{summary, facts}]}: sessions with a record since then
//   GET  /v1/audit/sessions/<id>[?records=0]              {summary, records: [StoredRecord with body base64]} (records=0: summary only)
//   GET  /v1/audit/records?from=&to=                      NDJSON: one StoredRecord (body base64) per line, from <= seq < to
//   GET  /v1/audit/checkpoints?limit=                     {checkpoints: [note…]} newest first (limit ≤ 1000, default 100)
//   GET  /v1/audit/verify                                 NDJSON: {"progress":n,"total":m}… then {"report":VerifyReport}
//   GET  /v1/audit/export?session=&since=&until=&user=    the bundle (NDJSON stream)
//   GET  /v1/audit/checkpoint                             latest signed checkpoint (text/plain)
//   POST /v1/audit/checkpoint                             sign one now, then as GET
//   GET  /v1/audit/public-keys                            verifier keys, one per line (text/plain)
//   POST /v1/audit/rotate-key                             {key: new verifier key}
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, statusOf } from '../errors/index.js';
import { sendJson, type AdminRoute } from '../admin/types.js';
import type { AuditLog } from './log.js';
import type { StoredRecord } from './types.js';
import type { ExportFilter } from './bundle.js';
import type { SessionFilter, SessionPage } from './reader.js';
import { INDEXED_FIELDS, MAX_PAGE, type SessionIndexQuery } from './index/index.js';

export interface WireRecord extends Omit<StoredRecord, 'body'> {
  /** Base64 body, or null. */
  body: string | null;
}

export function toWire(r: StoredRecord): WireRecord {
  return { ...r, body: r.body ? r.body.toString('base64') : null };
}

export function fromWire(r: WireRecord): StoredRecord {
  return { ...r, body: r.body === null ? null : Buffer.from(r.body, 'base64') };
}

class BadRequest extends BadRequestError {}

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d{1,16}$/.test(v)) throw new BadRequest(`${name} must be an integer (unix ms)`);
  return Number(v);
}

function strParam(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name);
  return v === null || v === '' ? undefined : v;
}

export function exportFilterFromUrl(url: URL): ExportFilter {
  const f: ExportFilter = {};
  const session = strParam(url, 'session');
  const user = strParam(url, 'user');
  const since = intParam(url, 'since');
  const until = intParam(url, 'until');
  if (session !== undefined) f.session = session;
  if (user !== undefined) f.user = user;
  if (since !== undefined) f.since = since;
  if (until !== undefined) f.until = until;
  return f;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

/** Maps errors to one-line JSON answers (never a stack, never a secret). */
function guarded(fn: Handler): Handler {
  return async (req, res, url) => {
    try {
      await fn(req, res, url);
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0]!;
      if (res.headersSent) {
        res.destroy(err as Error);
        return;
      }
      // The error's class decides the status (NotFoundError → 404, BadRequest → 400), never its wording.
      sendJson(res, statusOf(err), { error: msg });
    }
  };
}

/** The index query a URL names (bounded strings, integer times and cursor). */
export function indexQueryFromUrl(url: URL): SessionIndexQuery {
  const limit = intParam(url, 'limit') ?? 50;
  if (limit < 1 || limit > MAX_PAGE) throw new BadRequest(`limit must be between 1 and ${MAX_PAGE}`);
  const q: SessionIndexQuery = { limit };
  for (const f of [...INDEXED_FIELDS, 'q'] as const) {
    const v = strParam(url, f);
    if (v === undefined) continue;
    if (v.length > 1000) throw new BadRequest(`${f} is too long`);
    q[f] = v;
  }
  const since = intParam(url, 'since');
  const until = intParam(url, 'until');
  const before = intParam(url, 'before');
  if (since !== undefined) q.since = since;
  if (until !== undefined) q.until = until;
  if (before !== undefined) q.before = before;
  return q;
}

export function auditAdminRoutes(log: AuditLog): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/audit/session-index',
      adminOnly: true,
      handler: guarded(async (_req, res, url) => sendJson(res, 200, await log.reader.querySessions(indexQueryFromUrl(url)))),
    },
    {
      method: 'GET',
      path: '/v1/audit/active-sessions',
      adminOnly: true,
      handler: guarded(async (_req, res, url) => {
        const since = intParam(url, 'since');
        if (since === undefined) throw new BadRequest('since is required (unix ms)');
        sendJson(res, 200, { sessions: await log.reader.activeSessions(since) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/audit/sessions',
      adminOnly: true,
      handler: guarded(async (_req, res, url) => {
        const filter: SessionFilter = {};
        const page: SessionPage = {};
        const since = intParam(url, 'since');
        const until = intParam(url, 'until');
        const limit = intParam(url, 'limit');
        const cursor = intParam(url, 'cursor');
        const user = strParam(url, 'user');
        const order = strParam(url, 'order');
        if (order !== undefined && order !== 'oldest' && order !== 'newest') throw new BadRequest('order must be oldest or newest');
        if (since !== undefined) filter.since = since;
        if (until !== undefined) filter.until = until;
        if (user !== undefined) filter.user = user;
        if (limit !== undefined) page.limit = limit;
        if (cursor !== undefined) page.cursor = cursor;
        if (order !== undefined) page.order = order;
        sendJson(res, 200, { sessions: await log.reader.listSessions(filter, page) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/audit/sessions/',
      adminOnly: true,
      handler: guarded(async (_req, res, url) => {
        let id: string;
        try {
          id = decodeURIComponent(url.pathname.slice('/v1/audit/sessions/'.length));
        } catch {
          throw new BadRequest('malformed session id');
        }
        if (url.searchParams.get('records') === '0') {
          const summary = await log.reader.sessionSummary(id);
          if (summary) sendJson(res, 200, { summary });
          else sendJson(res, 404, { error: `no session ${JSON.stringify(id)} in the log` });
          return;
        }
        const shown = await log.reader.showSession(id);
        if (!shown) {
          sendJson(res, 404, { error: `no session ${JSON.stringify(id)} in the log` });
          return;
        }
        sendJson(res, 200, { summary: shown.summary, records: shown.records.map(toWire) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/audit/verify',
      adminOnly: true,
      handler: guarded(async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        let last = 0;
        const report = await log.reader.verify({
          onProgress: (done, total) => {
            const now = Date.now();
            if (now - last < 500) return;
            last = now;
            res.write(JSON.stringify({ progress: done, total }) + '\n');
          },
        });
        res.end(JSON.stringify({ report }) + '\n');
      }),
    },
    {
      method: 'GET',
      path: '/v1/audit/export',
      adminOnly: true,
      handler: guarded(async (req, res, url) => {
        const filter = exportFilterFromUrl(url);
        if (filter.session !== undefined && !(await log.reader.sessionSummary(filter.session))) {
          sendJson(res, 404, { error: `no session ${JSON.stringify(filter.session)} in the log` });
          return;
        }
        const gen = log.reader.exportBundle(filter);
        // Pull the header before answering so setup errors still become a JSON error.
        const first = await gen.next();
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        if (!first.done) res.write(first.value);
        let aborted = false;
        req.on('close', () => (aborted = !res.writableFinished));
        for await (const line of gen) {
          if (aborted) break;
          if (!res.write(line)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      }),
    },
    {
      method: 'GET',
      path: '/v1/audit/records',
      adminOnly: true,
      handler: guarded(async (req, res, url) => {
        const from = intParam(url, 'from') ?? 0;
        const to = intParam(url, 'to') ?? Number.MAX_SAFE_INTEGER;
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        let aborted = false;
        req.on('close', () => (aborted = !res.writableFinished));
        for await (const r of log.reader.records(from, to)) {
          if (aborted) break;
          if (!res.write(JSON.stringify(toWire(r)) + '\n')) await new Promise((ok) => res.once('drain', ok));
        }
        res.end();
      }),
    },
    {
      method: 'GET',
      path: '/v1/audit/checkpoints',
      adminOnly: true,
      handler: guarded(async (_req, res, url) => {
        const limit = intParam(url, 'limit') ?? 100;
        if (limit < 1 || limit > 1000) throw new BadRequest('limit must be 1..1000');
        sendJson(res, 200, { checkpoints: await log.reader.checkpoints(limit) });
      }),
    },
    {
      method: 'GET',
      path: '/v1/audit/checkpoint',
      adminOnly: true,
      handler: guarded(async (_req, res) => sendCheckpoint(res, log.latestCheckpoint()?.note ?? null)),
    },
    {
      method: 'POST',
      path: '/v1/audit/checkpoint',
      adminOnly: true,
      handler: guarded(async (_req, res) => sendCheckpoint(res, (await log.checkpointNow())?.note ?? null)),
    },
    {
      method: 'GET',
      path: '/v1/audit/public-keys',
      adminOnly: true,
      handler: guarded(async (_req, res) => {
        const body = Buffer.from(log.publicKeys().map((k) => k.text + '\n').join(''));
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
        res.end(body);
      }),
    },
    {
      method: 'POST',
      path: '/v1/audit/rotate-key',
      adminOnly: true,
      handler: guarded(async (_req, res) => {
        const v = await log.rotateKey();
        sendJson(res, 200, { key: v.text });
      }),
    },
  ];
}

function sendCheckpoint(res: ServerResponse, note: string | null): void {
  if (note === null) {
    sendJson(res, 404, { error: 'no checkpoint yet (the log is empty)' });
    return;
  }
  const body = Buffer.from(note);
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
  res.end(body);
}

// Admin API for approvals: GET /v1/approvals, POST /v1/approvals/{id}/approve|deny. Approvers are
// identified: the admin token, or an OIDC token / wiretrail credential whose groups or subject are
// among the rule's `approvers` (the admin server lets these routes through; they authenticate here).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isAdminSession, readBody, sendJson, type AdminRoute } from '../admin/types.js';
import type { AuthOutcome } from '../identity/types.js';
import { ApprovalError, approvalView, approverLabel, type ApprovalQueue, type Approver, type PendingApproval } from './approvals.js';
import { parseDurationMs } from './duration.js';

export interface ApprovalRouteDeps {
  approvals: ApprovalQueue;
  adminToken: string;
  /** Verifies an OIDC token or wiretrail credential (the identity stage's verifyToken). */
  verifyToken?: (token: string) => Promise<AuthOutcome>;
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

async function approverOf(req: IncomingMessage, deps: ApprovalRouteDeps): Promise<Approver> {
  if (isAdminSession(req)) return { kind: 'admin', subject: null, groups: [] }; // logged in to the UI with the admin token
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new ApprovalError('approver credentials required: Authorization: Bearer <admin token or OIDC token>', 401);
  const token = m[1]!;
  if (sameSecret(token, deps.adminToken)) return { kind: 'admin', subject: null, groups: [] };
  if (!deps.verifyToken) throw new ApprovalError('invalid admin token', 401);
  const out = await deps.verifyToken(token);
  if (!out.ok) throw new ApprovalError(`approver token refused: ${out.reason}`, 401);
  const id = out.identity;
  if (id.kind === 'anonymous' || id.kind === 'source') throw new ApprovalError(`approver token refused: ${id.kind}`, 401);
  return { kind: id.kind, subject: id.subject, groups: id.groups, ...(id.email ? { email: id.email } : {}), ...(id.issuer ? { issuer: id.issuer } : {}) };
}

async function jsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const buf = await readBody(req, 16 * 1024);
  if (buf.length === 0) return {};
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new ApprovalError('send the body as application/json', 415);
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new ApprovalError('request body is not valid JSON', 400);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApprovalError('request body must be a JSON object', 400);
  return v as Record<string, unknown>;
}

/** The list item: the fields the CLI contract names, plus what an approver needs to decide. */
export function approvalJson(p: PendingApproval): Record<string, unknown> {
  return { ...approvalView(p), session: p.session };
}

function guarded(fn: AdminRoute['handler']): AdminRoute['handler'] {
  return async (req, res, url) => {
    try {
      await fn(req, res, url);
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number') sendJson(res, status, { error: (err as Error).message.split('\n')[0] });
      else sendJson(res, 500, { error: 'internal error' });
    }
  };
}

function canApprove(q: ApprovalQueue, p: PendingApproval, who: Approver): boolean {
  try {
    q.checkApprover(p, who);
    return true;
  } catch {
    return false;
  }
}

export function approvalAdminRoutes(deps: ApprovalRouteDeps): AdminRoute[] {
  const q = deps.approvals;
  return [
    {
      method: 'GET',
      path: '/v1/approvals',
      adminOnly: false,
      handler: guarded(async (req, res) => {
        const who = await approverOf(req, deps);
        sendJson(res, 200, { approvals: q.list().filter((p) => canApprove(q, p, who)).map(approvalJson) });
      }),
    },
    {
      method: 'POST',
      path: '/v1/approvals/',
      adminOnly: false,
      handler: guarded(async (req, res, url) => {
        const m = /^\/v1\/approvals\/([A-Za-z0-9_-]{1,64})\/(approve|deny)$/.exec(url.pathname);
        if (!m) throw new ApprovalError('expected POST /v1/approvals/{id}/approve or /v1/approvals/{id}/deny', 404);
        const who = await approverOf(req, deps);
        const body = await jsonObject(req);
        const id = m[1]!;
        if (m[2] === 'approve') {
          let windowMs: number | null | undefined;
          if (body.window !== undefined && body.window !== null) {
            if (typeof body.window !== 'string' && typeof body.window !== 'number') throw new ApprovalError('window must be a duration such as "30m"', 400);
            windowMs = parseDurationMs(body.window);
            if (windowMs === null) throw new ApprovalError(`invalid window "${String(body.window)}": use e.g. 30m, 2h`, 400);
          }
          const out = q.approve(id, who, windowMs);
          sendJson(res, 200, { id, result: 'approved', by: approverLabel(who), at: new Date(out.at).toISOString(), windowUntil: out.windowUntil ? new Date(out.windowUntil).toISOString() : null });
        } else {
          if (body.reason !== undefined && body.reason !== null && (typeof body.reason !== 'string' || body.reason.length > 500)) {
            throw new ApprovalError('reason must be a string of at most 500 characters', 400);
          }
          const out = q.deny(id, who, (body.reason as string | undefined) ?? null);
          sendJson(res, 200, { id, result: 'denied', by: approverLabel(who), at: new Date(out.at).toISOString(), reason: out.reason });
        }
      }),
    },
  ];
}

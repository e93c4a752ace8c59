// What the log tracks per session, and the summary derived from it (stored under s/, checked by verify).
import type { SessionSummary } from './types.js';

export interface SessionState {
  session: string;
  /** session as a JSON string (it goes into every record). */
  json: string;
  firstSeq: number;
  next: number;
  lastHash: string | null;
  lastSeq: number;
  firstTs: number;
  lastTs: number;
  users: string[];
  agents?: string[];
  ended: boolean;
  /** The summary as of the last committed batch (what readers may see). */
  committed: SessionSummary | null;
}

const MAX_USERS = 16;

export function summaryOf(s: Omit<SessionState, 'committed' | 'json'>): SessionSummary {
  return {
    session: s.session,
    firstSeq: s.firstSeq,
    lastSeq: s.lastSeq,
    count: s.next,
    firstTs: s.firstTs,
    lastTs: s.lastTs,
    ended: s.ended,
    lastHash: s.lastHash ?? '',
    users: s.users,
    ...(s.agents?.length ? { agents: s.agents } : {}),
  };
}

/**
 * RFC 8785 bytes of a summary. Its keys are fixed, so they are written in canonical order directly
 * (equal to canonicalize, a test checks it, at a fraction of the cost: open sessions are rewritten
 * with every checkpoint). Strings are well-formed: session ids and identities are validated on append.
 */
export function encodeSummary(s: SessionSummary): Buffer {
  let users = '';
  for (const u of s.users) users += (users ? ',' : '') + JSON.stringify(u);
  // "agents" sorts first; it is left out when empty so summaries written before it existed still match.
  const agents = s.agents?.length ? `"agents":[${s.agents.map((a) => JSON.stringify(a)).join(',')}],` : '';
  return Buffer.from(
    `{${agents}"count":${s.count},"ended":${s.ended},"firstSeq":${s.firstSeq},"firstTs":${s.firstTs},"lastHash":${JSON.stringify(s.lastHash)}` +
      `,"lastSeq":${s.lastSeq},"lastTs":${s.lastTs},"session":${JSON.stringify(s.session)},"users":[${users}]}`,
    'utf8',
  );
}

/** Adds a record's agents to the session's (same bound and order as users). */
export function mergeAgents(agents: string[] | undefined, add: readonly string[]): string[] {
  return mergeUsers(agents ?? [], add);
}

export function mergeUsers(users: string[], add: readonly string[]): string[] {
  let out = users;
  for (const u of add) {
    if (out.includes(u) || out.length >= MAX_USERS) continue;
    out = [...out, u].sort();
  }
  return out;
}

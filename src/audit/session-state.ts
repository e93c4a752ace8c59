// What the log tracks per session, and the summary derived from it (stored under s/, checked by verify).
import type { SessionSummary } from './types.js';

export interface SessionState {
  session: string;
  firstSeq: number;
  next: number;
  lastHash: string | null;
  lastSeq: number;
  firstTs: number;
  lastTs: number;
  users: string[];
  ended: boolean;
  /** The summary as of the last committed batch (what readers may see). */
  committed: SessionSummary | null;
}

const MAX_USERS = 16;

export function summaryOf(s: Omit<SessionState, 'committed'>): SessionSummary {
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
  };
}

export function mergeUsers(users: string[], add: string[]): string[] {
  let out = users;
  for (const u of add) {
    if (out.includes(u) || out.length >= MAX_USERS) continue;
    out = [...out, u].sort();
  }
  return out;
}

// The running log's read side: what LevelDB holds plus the records still only in a segment (the
// ingester's in-memory tail), so sessions and transcripts show every appended record at once, however
// far ingest lags. Secondary indexes (sessions by user, by host…) follow the same rule: derived at
// ingest from IngestItem, merged with the tail here.
import type { SessionSummary, StoredRecord } from './types.js';
import { decodeRecord } from './record.js';
import { mergeAgents, mergeUsers } from './session-state.js';
import { listSessions, readSession, sessionSummary, type SessionFilter } from './read.js';
import type { Ingester, IngestItem } from './ingest.js';

function storedOf(it: IngestItem): StoredRecord {
  return { ...decodeRecord(it.record), hash: it.hash, body: it.body ? Buffer.from(it.body) : null, bodyPruned: false };
}

/** A summary advanced by the session's records in the tail (those past what it covers). */
function fold(base: SessionSummary | null, items: IngestItem[] | undefined): SessionSummary | null {
  let s = base;
  for (const it of items ?? []) {
    if (s && s.count > 0 && it.seq <= s.lastSeq) continue;
    const r = decodeRecord(it.record);
    s ??= { session: r.session, firstSeq: r.seq, lastSeq: r.seq, count: 0, firstTs: r.ts, lastTs: r.ts, ended: false, lastHash: '', users: [] };
    s = { ...s, lastSeq: r.seq, count: r.sessionSeq + 1, lastTs: r.ts, ended: r.kind === 'session-end', lastHash: it.hash, users: it.users.length ? mergeUsers(s.users, it.users) : s.users };
    if (it.agents.length) s.agents = mergeAgents(s.agents, it.agents);
  }
  return s;
}

function matches(s: SessionSummary, f: SessionFilter): boolean {
  if (f.since !== undefined && s.lastTs < f.since) return false;
  if (f.until !== undefined && s.firstTs > f.until) return false;
  if (f.user !== undefined && !s.users.includes(f.user)) return false;
  return true;
}

export class LiveReader {
  constructor(private readonly ing: Ingester) {}

  /** Tail items by session, taken synchronously together with the ingester's session view. */
  private snapshot(session?: string): Map<string, IngestItem[]> {
    const by = new Map<string, IngestItem[]>();
    for (const it of this.ing.tail()) {
      if (session !== undefined && it.session !== session) continue;
      const list = by.get(it.session);
      if (list) list.push(it);
      else by.set(it.session, [it]);
    }
    return by;
  }

  async readSession(session: string): Promise<StoredRecord[]> {
    const tail = this.snapshot(session).get(session) ?? [];
    const live = this.ing.sessions.get(session)?.committed;
    const stored = await readSession(this.ing.db, session, this.ing.prunedBefore, live ? live.lastSeq : undefined);
    const last = stored.length ? stored[stored.length - 1]!.seq : -1;
    for (const it of tail) if (it.seq > last) stored.push(storedOf(it));
    return stored;
  }

  async listSessions(filter: SessionFilter): Promise<SessionSummary[]> {
    const tail = this.snapshot();
    const committed = new Map<string, SessionSummary>();
    for (const [id, st] of this.ing.sessions) if (st.committed) committed.set(id, st.committed);
    const seen = new Set<string>();
    const out = await listSessions(this.ing.db, filter, (s) => {
      seen.add(s.session);
      return fold(committed.get(s.session) ?? s, tail.get(s.session))!;
    });
    for (const [id, items] of tail) {
      if (filter.limit !== undefined && out.length >= filter.limit) break;
      if (seen.has(id)) continue;
      const s = fold(committed.get(id) ?? null, items);
      if (s && matches(s, filter)) out.push(s);
    }
    return out;
  }

  async sessionSummary(session: string): Promise<SessionSummary | null> {
    const tail = this.snapshot(session).get(session);
    const live = this.ing.sessions.get(session)?.committed;
    return fold(live ?? (await sessionSummary(this.ing.db, session)), tail);
  }
}

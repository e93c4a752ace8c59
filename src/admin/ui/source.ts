// What the admin UI reads, and nothing more: a narrow view of the audit reader so the pages do not
// depend on how the log stores records.
import type { SessionSummary, StoredRecord, Verifier } from '../../audit/index.js';

export interface UiSource {
  /** Session summaries in order of their first record (oldest first). */
  listSessions(filter: { since?: number; until?: number; user?: string }): Promise<SessionSummary[]>;
  showSession(id: string): Promise<{ summary: SessionSummary; records: StoredRecord[] } | null>;
  /** The audit bundle of one session (the same bytes `wiretrail export --session` writes). */
  exportSession(id: string): AsyncGenerator<Buffer>;
  /** Keys a checkpoint must be signed by for the UI to call a session verified. */
  trustedKeys(): Verifier[];
  /** Signed checkpoint notes, newest first (at most `limit`). */
  checkpoints(limit: number): Promise<string[]>;
}

/** The parts of the running audit log the UI reads (structural, so the UI does not import the writer). */
export interface LogReadSide {
  listSessions(filter: { since?: number; until?: number; user?: string }): Promise<SessionSummary[]>;
  sessionSummary(id: string): Promise<SessionSummary | null>;
  readSession(id: string): Promise<StoredRecord[]>;
  exportBundle(filter: { session: string }): AsyncGenerator<Buffer>;
  publicKeys(): Verifier[];
  checkpointHistory(limit: number): Promise<string[]>;
}

export function uiSourceFromLog(log: LogReadSide): UiSource {
  return {
    listSessions: (f) => log.listSessions(f),
    async showSession(id) {
      const summary = await log.sessionSummary(id);
      return summary ? { summary, records: await log.readSession(id) } : null;
    },
    exportSession: (id) => log.exportBundle({ session: id }),
    trustedKeys: () => log.publicKeys(),
    checkpoints: (limit) => log.checkpointHistory(limit),
  };
}

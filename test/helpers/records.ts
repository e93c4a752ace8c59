// Reading back what a running harness recorded.
import type { StoredRecord } from '../../src/audit/index.js';
import type { Harness } from './harness.js';

/** Every session's records, oldest session first. */
export async function allSessions(h: Harness): Promise<StoredRecord[][]> {
  await h.recorder.drained();
  const list = await h.recorder.reader.listSessions();
  const out: StoredRecord[][] = [];
  for (const s of list) out.push(await h.recorder.reader.sessionRecords(s.session));
  return out;
}

export async function allRecords(h: Harness): Promise<StoredRecord[]> {
  return (await allSessions(h)).flat();
}

/** Sessions that contain at least one record of `kind`. */
export async function sessionsWithKind(h: Harness, kind: string): Promise<StoredRecord[][]> {
  return (await allSessions(h)).filter((recs) => recs.some((r) => r.kind === kind));
}

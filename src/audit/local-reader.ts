// AuditReader over a closed data folder (the proxy stopped): verify, export and sessions offline.
// A running proxy's LevelDB lock becomes a one-line hint to use --admin (remote-reader.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { openDb, AuditLockedError, type Db } from './store.js';
import { ingestPendingSegments } from './restore.js';
import { checkpointNotes, latestCheckpointNote, listSessions, readPrunedBefore, readSession, sessionSummary, toStored } from './read.js';
import { entriesFrom } from './blocks.js';
import { verifyStore, readExternalCheckpoints } from './verify.js';
import { exportBundle } from './bundle.js';
import { readPublicKeys, parseKeyList, PUBLIC_KEYS_FILE } from './signing-key.js';
import { openCheckpoint, parseVerifier, type Verifier } from './note.js';
import { ReaderError, type AuditReader } from './reader.js';
import { activeSessionSeqs, querySessionIndex, sessionRows } from './index/index.js';

/** Keys from --key values (a file of verifier keys, or a key itself) plus the certs folder's keyring. */
export function loadTrustedKeys(keyArgs: string[], certsDir: string | null): Verifier[] {
  const out: Verifier[] = [];
  for (const k of keyArgs) {
    if (existsSync(k)) out.push(...parseKeyList(readFileSync(k, 'utf8'), k));
    else {
      try {
        out.push(parseVerifier(k));
      } catch {
        throw new ReaderError(`--key ${k}: neither a readable file nor a verifier key (name+hash+base64)`);
      }
    }
  }
  if (certsDir) out.push(...readPublicKeys(certsDir));
  return out;
}

export interface LocalOptions {
  dataDir: string;
  certsDir: string;
  /** Exactly the keys whose signatures count (verify) and that go into a bundle (export); default: the certs keyring. */
  keys?: Verifier[];
  witnessFiles?: string[];
}

/** Opens the store directly; a running proxy's lock becomes a one-line hint to use --admin. */
export async function openLocalReader(opts: LocalOptions): Promise<AuditReader> {
  let db: Db;
  try {
    db = await openDb(opts.dataDir, { create: false });
  } catch (err) {
    if (err instanceof AuditLockedError) {
      throw new ReaderError(`the audit log in ${opts.dataDir} is locked by a running proxy: pass --admin URL (its admin API, e.g. --admin http://127.0.0.1:8081)`);
    }
    throw err;
  }
  try {
    // A proxy that stopped without ingesting (crash) left records only in segments: bring them in first.
    await ingestPendingSegments(db, opts.dataDir, pino({ level: 'warn' }, pino.destination(2)));
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  const prunedBefore = await readPrunedBefore(db);
  const keys = (): Verifier[] => {
    const k = opts.keys ?? readPublicKeys(opts.certsDir);
    if (!k.length) {
      throw new ReaderError(`no public key to check checkpoint signatures: ${join(opts.certsDir, PUBLIC_KEYS_FILE)} does not exist; pass --certs DIR or --key FILE`);
    }
    return k;
  };
  return {
    kind: 'local',
    listSessions: (filter = {}, page = {}) => listSessions(db, filter, page),
    querySessions: (q) => querySessionIndex(db, q),
    activeSessions: async (since) => sessionRows(db, await activeSessionSeqs(db, since)),
    sessionSummary: (id) => sessionSummary(db, id),
    sessionRecords: (id) => readSession(db, id, prunedBefore),
    async showSession(id) {
      const summary = await sessionSummary(db, id);
      if (!summary) return null;
      return { summary, records: await readSession(db, id, prunedBefore) };
    },
    async *records(from, to) {
      for await (const e of entriesFrom(db, Math.max(0, from))) {
        if (e.seq >= to) return;
        yield toStored(e, prunedBefore);
      }
    },
    latestCheckpoint: () => latestCheckpointNote(db),
    checkpoints: (limit) => checkpointNotes(db, limit),
    publicKeys: async () => keys(),
    async verify(vo = {}) {
      const trusted = keys();
      const external = await readExternalCheckpoints(opts.dataDir, opts.witnessFiles ?? []);
      return verifyStore(db, { trusted, external, ...(vo.onProgress ? { onProgress: vo.onProgress } : {}) });
    },
    async *exportBundle(filter, stats) {
      const note = await latestCheckpointNote(db);
      if (!note) throw new ReaderError('the audit log has no signed checkpoint yet');
      const k = opts.keys ?? readPublicKeys(opts.certsDir);
      if (!k.length) throw new ReaderError(`no public key in ${join(opts.certsDir, PUBLIC_KEYS_FILE)} to put in the bundle; pass --certs DIR`);
      requireSignedBy(note, k);
      if (filter.session !== undefined && !(await sessionSummary(db, filter.session))) throw new ReaderError(`no session ${JSON.stringify(filter.session)} in the log`);
      yield* exportBundle({ db, checkpointNote: note, publicKeys: k, prunedBefore }, filter, stats);
    },
    close: () => db.close(),
  };
}

/** A bundle must carry a key that verifies its checkpoint: refuse to export with another log's keys. */
function requireSignedBy(note: string, keys: Verifier[]): void {
  let c;
  try {
    c = openCheckpoint(note, keys);
  } catch (err) {
    throw new ReaderError(`the latest checkpoint does not verify: ${(err as Error).message}`);
  }
  if (!c.verifiedBy.length) {
    throw new ReaderError(`the latest checkpoint is signed by a key you did not give me (key id ${c.unknown.map((u) => `${u.name}+${u.keyHash}`).join(', ') || 'none'}); pass --certs DIR of this log`);
  }
}

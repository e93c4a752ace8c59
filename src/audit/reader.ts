// One read interface for the CLI, over a local store (proxy stopped) or a running proxy's admin API.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminFetch, AdminError } from '../admin/client.js';
import { pino } from 'pino';
import { openDb, AuditLockedError, type Db } from './store.js';
import { ingestPendingSegments } from './restore.js';
import { listSessions, readSession, sessionSummary, latestCheckpointNote, readPrunedBefore, type SessionFilter } from './read.js';
import { verifyStore, readExternalCheckpoints, type VerifyReport } from './verify.js';
import { exportBundle, type ExportFilter, type ExportStats } from './bundle.js';
import { readPublicKeys, parseKeyList, PUBLIC_KEYS_FILE } from './signing-key.js';
import { openCheckpoint, parseVerifier, type Verifier } from './note.js';
import { fromWire, type WireRecord } from './admin.js';
import type { SessionSummary, StoredRecord } from './types.js';

export interface AuditReader {
  listSessions(filter: SessionFilter): Promise<SessionSummary[]>;
  showSession(id: string): Promise<{ summary: SessionSummary; records: StoredRecord[] } | null>;
  verify(onProgress?: (done: number, total: number) => void): Promise<VerifyReport>;
  /** Bundle bytes; `stats.records` is set once the generator is done. */
  exportBundle(filter: ExportFilter, stats: ExportStats): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

export class ReaderError extends Error {
  override readonly name = 'ReaderError';
}

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
  const trusted = () => {
    const keys = opts.keys ?? readPublicKeys(opts.certsDir);
    if (!keys.length) {
      throw new ReaderError(`no public key to check checkpoint signatures: ${join(opts.certsDir, PUBLIC_KEYS_FILE)} does not exist; pass --certs DIR or --key FILE`);
    }
    return keys;
  };
  return {
    listSessions: (filter) => listSessions(db, filter),
    async showSession(id) {
      const summary = await sessionSummary(db, id);
      if (!summary) return null;
      return { summary, records: await readSession(db, id, prunedBefore) };
    },
    async verify(onProgress) {
      const keys = trusted();
      const external = await readExternalCheckpoints(opts.dataDir, opts.witnessFiles ?? []);
      return verifyStore(db, { trusted: keys, external, onProgress });
    },
    async *exportBundle(filter, stats) {
      const note = await latestCheckpointNote(db);
      if (!note) throw new ReaderError('the audit log has no signed checkpoint yet');
      const keys = opts.keys ?? readPublicKeys(opts.certsDir);
      if (!keys.length) throw new ReaderError(`no public key in ${join(opts.certsDir, PUBLIC_KEYS_FILE)} to put in the bundle; pass --certs DIR`);
      requireSignedBy(note, keys);
      if (filter.session !== undefined && !(await sessionSummary(db, filter.session))) throw new ReaderError(`no session ${JSON.stringify(filter.session)} in the log`);
      yield* exportBundle({ db, checkpointNote: note, publicKeys: keys, prunedBefore }, filter, stats);
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

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function* ndjson(res: Response): AsyncGenerator<Record<string, unknown>> {
  let buf = '';
  const dec = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += dec.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
    }
  }
  if (buf.trim()) yield JSON.parse(buf) as Record<string, unknown>;
}

/** Reads through a running proxy's admin API (verification runs inside the proxy, on its keys). */
export function remoteReader(base: string, token: string | null): AuditReader {
  const get = (path: string) => adminFetch(base, path, { token });
  return {
    async listSessions(filter) {
      const res = await get(`/v1/audit/sessions${query({ ...filter })}`);
      return ((await res.json()) as { sessions: SessionSummary[] }).sessions;
    },
    async showSession(id) {
      try {
        const res = await get(`/v1/audit/sessions/${encodeURIComponent(id)}`);
        const j = (await res.json()) as { summary: SessionSummary; records: WireRecord[] };
        return { summary: j.summary, records: j.records.map(fromWire) };
      } catch (err) {
        if (err instanceof AdminError && err.status === 404) return null;
        throw err;
      }
    },
    async verify(onProgress) {
      const res = await get('/v1/audit/verify');
      for await (const msg of ndjson(res)) {
        if (typeof msg.progress === 'number' && onProgress) onProgress(msg.progress, Number(msg.total));
        if (msg.report) return msg.report as VerifyReport;
      }
      throw new ReaderError('the admin API ended the verification without a report');
    },
    async *exportBundle(filter, stats) {
      const res = await get(`/v1/audit/export${query({ ...filter })}`);
      let tail = Buffer.alloc(0);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const b = Buffer.from(chunk);
        tail = Buffer.concat([tail, b]).subarray(-4096);
        yield b;
      }
      // The end line carries the record count.
      const lines = tail.toString('utf8').trimEnd().split('\n');
      try {
        const end = JSON.parse(lines[lines.length - 1]!) as { type?: string; records?: number };
        if (end.type !== 'end') throw new Error();
        stats.records = end.records ?? 0;
      } catch {
        throw new ReaderError('the export from the admin API ended early (no end line)');
      }
    },
    close: async () => undefined,
  };
}

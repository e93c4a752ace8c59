// Forensic export bundles: a self-contained, offline-verifiable NDJSON file.
//   line 1   {"type":"wiretrail-audit-bundle","version":1,"origin",...,"checkpoint":<signed note>,"publicKeys":[...]}
//   then     {"type":"record","record":<the record's exact canonical JSON>,"body":<base64>|null,"bodyPruned":bool,"proof":[hex...]}
//   last     {"type":"end","records":N,"sha256":<hex SHA-256 of every byte before this line>}
// Every line is canonical JSON (RFC 8785). Authenticity comes from the checkpoint signature and the
// inclusion proofs; the trailer hash makes any other change (filters, spacing) fail as well.
import { NotFoundError } from '../errors/index.js';
import { createHash, hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Db } from './store.js';
import * as K from './layout.js';
import { canonicalBytes, decodeRecord, RECORD_KINDS } from './record.js';
import type { AuditRecord, SessionSummary } from './types.js';
import { inclusionProof, leafHash, verifyInclusion } from './merkle.js';
import { rangeHashFromTiles, unpackTile } from './tree.js';
import { sessionSeqs } from './read.js';
import { EntryReader, entriesFrom, withReader } from './blocks.js';
import { NoteError, openCheckpoint, parseVerifier, type Verifier } from './note.js';
import type { ProblemKind } from './verify.js';

export const BUNDLE_TYPE = 'wiretrail-audit-bundle';
export const BUNDLE_VERSION = 1;

export interface ExportFilter {
  session?: string;
  /** Unix ms, inclusive. */
  since?: number;
  until?: number;
  /** Matches meta.identity.subject or meta.identity.email on the session's records. */
  user?: string;
}

export interface ExportSource {
  db: Db;
  /** The signed checkpoint the proofs lead to (normally the latest). */
  checkpointNote: string;
  publicKeys: Verifier[];
  /** Bodies of records below this seq were deleted by retention. */
  prunedBefore: number;
}

export interface ExportStats {
  records: number;
  sessions: number;
  /** Matching records after the checkpoint, left out (not yet signed). */
  uncovered: number;
}

/** Yields the bundle line by line (each ends with "\n"). `stats` is filled in as it goes. */
export async function* exportBundle(src: ExportSource, filter: ExportFilter, stats: ExportStats = { records: 0, sessions: 0, uncovered: 0 }): AsyncGenerator<Buffer> {
  const cp = openCheckpoint(src.checkpointNote, src.publicKeys);
  const snapshot = src.db.snapshot();
  const so = { snapshot } as object;
  const digest = createHash('sha256');
  let reader: EntryReader | null = null;
  const emit = (obj: unknown): Buffer => {
    const line = Buffer.concat([canonicalBytes(obj), Buffer.from('\n')]);
    digest.update(line);
    return line;
  };
  try {
    const f: Record<string, string | number> = {};
    if (filter.session !== undefined) f.session = filter.session;
    if (filter.since !== undefined) f.since = filter.since;
    if (filter.until !== undefined) f.until = filter.until;
    if (filter.user !== undefined) f.user = filter.user;
    yield emit({
      type: BUNDLE_TYPE,
      version: BUNDLE_VERSION,
      origin: cp.origin,
      treeSize: cp.size,
      checkpoint: src.checkpointNote,
      publicKeys: src.publicKeys.map((k) => k.text),
      filter: f,
      createdAt: Date.now(),
    });
    const mth = rangeHashFromTiles(async (level, index) => {
      const v = await src.db.get(K.tileKey(level, index), so);
      return v ? unpackTile(v) : null;
    });
    const sessionsSeen = new Set<string>();
    reader = new EntryReader(src.db, so);
    for await (const seqs of selectSeqs(src.db, so, filter, cp.size, stats)) {
      const entries = await reader.getMany(seqs);
      for (const { seq, record: bytes, body } of entries) {
        const r = decodeRecord(bytes);
        if (filter.since !== undefined && r.ts < filter.since) continue;
        if (filter.until !== undefined && r.ts > filter.until) continue;
        const proof = await inclusionProof(seq, cp.size, mth);
        sessionsSeen.add(r.session);
        stats.records++;
        yield emit({
          type: 'record',
          record: bytes.toString('utf8'),
          body: body ? body.toString('base64') : null,
          bodyPruned: !body && r.bodyHash !== null && seq < src.prunedBefore,
          proof: proof.map((p) => p.toString('hex')),
        });
      }
    }
    stats.sessions = sessionsSeen.size;
    const end = { type: 'end', records: stats.records, sha256: digest.digest('hex') };
    yield Buffer.concat([canonicalBytes(end), Buffer.from('\n')]);
  } finally {
    await reader?.close();
    await snapshot.close();
  }
}

/** Seqs of matching records below `size`, in chunks. */
async function* selectSeqs(db: Db, so: object, filter: ExportFilter, size: number, stats: ExportStats): AsyncGenerator<number[]> {
  const sessions: string[] = [];
  if (filter.session !== undefined) {
    if (!(await db.get(K.sessionIdKey(filter.session), so))) throw new NotFoundError(`no session ${JSON.stringify(filter.session)} in the log`);
    sessions.push(filter.session);
  } else if (filter.user !== undefined) {
    for await (const v of db.values({ ...K.prefixRange(K.SUMMARY_PREFIX), ...so })) {
      const s = JSON.parse(v.toString('utf8')) as SessionSummary;
      if (!s.users.includes(filter.user)) continue;
      if (filter.since !== undefined && s.lastTs < filter.since) continue;
      if (filter.until !== undefined && s.firstTs > filter.until) continue;
      sessions.push(s.session);
    }
  } else {
    // Whole log or a time window: seq order, starting where the window starts (ts is non-decreasing).
    let lo = 0;
    if (filter.since !== undefined) {
      let hi = size;
      const since = filter.since;
      await withReader(db, so, async (reader) => {
        while (lo < hi) {
          const mid = Math.floor((lo + hi) / 2);
          const e = await reader.get(mid);
          if (e && decodeRecord(e.record).ts < since) lo = mid + 1;
          else hi = mid;
        }
      });
    }
    let out: number[] = [];
    for await (const e of entriesFrom(db, lo, so)) {
      if (e.seq >= size) {
        stats.uncovered++;
        continue;
      }
      if (filter.until !== undefined && decodeRecord(e.record).ts > filter.until) break;
      out.push(e.seq);
      if (out.length >= 256) {
        yield out;
        out = [];
      }
    }
    if (out.length) yield out;
    return;
  }
  for (const session of sessions) {
    const all = await sessionSeqs(db, session);
    const covered = all.filter((seq) => seq < size);
    stats.uncovered += all.length - covered.length;
    for (let i = 0; i < covered.length; i += 256) yield covered.slice(i, i + 256);
  }
}

export interface BundleReport {
  ok: boolean;
  problem: { kind: ProblemKind | 'malformed'; seq: number | null; message: string } | null;
  origin: string | null;
  treeSize: number | null;
  records: number;
  sessions: number;
  bodies: number;
  prunedBodies: number;
  /** Session records whose predecessor is not in the bundle (time-window exports). */
  chainGaps: number;
  /** The verifier key that signed the checkpoint. */
  signer: string | null;
  /** Whether that key came from the caller (--key) or only from the bundle itself. */
  keySource: 'given' | 'bundle' | null;
  filter: Record<string, unknown> | null;
}

class BundleProblem extends Error {
  constructor(readonly kind: ProblemKind | 'malformed', readonly seq: number | null, message: string) {
    super(message);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Verifies a bundle file offline. `trusted`: keys to require; when empty the bundle's own keys are used. */
export function verifyBundleFile(path: string, trusted: Verifier[]): Promise<BundleReport> {
  return verifyBundleStream(createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, trusted);
}

/** Verifies a bundle from its bytes in any chunking (a file, an HTTP body, an export in memory). */
export async function verifyBundleStream(bytes: AsyncIterable<Buffer>, trusted: Verifier[]): Promise<BundleReport> {
  const report: BundleReport = {
    ok: false,
    problem: null,
    origin: null,
    treeSize: null,
    records: 0,
    sessions: 0,
    bodies: 0,
    prunedBodies: 0,
    chainGaps: 0,
    signer: null,
    keySource: null,
    filter: null,
  };
  try {
    await checkBundle(bytes, trusted, report);
    report.ok = true;
  } catch (err) {
    if (err instanceof BundleProblem) report.problem = { kind: err.kind, seq: err.seq, message: `${err.kind}: ${err.message}` };
    else if ((err as NodeJS.ErrnoException).code) throw err;
    else report.problem = { kind: 'malformed', seq: null, message: `malformed: ${(err as Error).message}` };
  }
  return report;
}

async function* lines(bytes: AsyncIterable<Buffer>): AsyncGenerator<{ line: Buffer; complete: boolean }> {
  let rest = Buffer.alloc(0);
  for await (const chunk of bytes) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let i: number;
    while ((i = buf.indexOf(10)) >= 0) {
      yield { line: buf.subarray(0, i + 1), complete: true };
      buf = buf.subarray(i + 1);
    }
    rest = Buffer.from(buf);
    if (rest.length > 512 << 20) throw new BundleProblem('malformed', null, 'a bundle line is larger than 512 MiB');
  }
  if (rest.length) yield { line: rest, complete: false };
}

function parseCanonicalLine(line: Buffer, what: string): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(line.toString('utf8'));
  } catch {
    throw new BundleProblem('malformed', null, `${what} is not JSON`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new BundleProblem('malformed', null, `${what} is not an object`);
  let canon: Buffer;
  try {
    canon = Buffer.concat([canonicalBytes(obj), Buffer.from('\n')]);
  } catch {
    throw new BundleProblem('malformed', null, `${what} is not canonical JSON`);
  }
  if (!canon.equals(line)) throw new BundleProblem('malformed', null, `${what} is not canonical JSON`);
  return obj as Record<string, unknown>;
}

async function checkBundle(bytes: AsyncIterable<Buffer>, trusted: Verifier[], report: BundleReport): Promise<void> {
  const digest = createHash('sha256');
  let header: { size: number; root: Buffer; origin: string } | null = null;
  let ended = false;
  const sessions = new Map<string, { sessionSeq: number; hash: string }>();
  let n = 0;
  for await (const { line, complete } of lines(bytes)) {
    n++;
    if (ended) throw new BundleProblem('modified', null, 'data after the end of the bundle');
    if (!complete) throw new BundleProblem('truncated', null, `line ${n} is cut short (no end line)`);
    const obj = parseCanonicalLine(line, `line ${n}`);
    if (n === 1) {
      if (obj.type !== BUNDLE_TYPE || obj.version !== BUNDLE_VERSION) throw new BundleProblem('malformed', null, 'not a wiretrail audit bundle (version 1)');
      if (typeof obj.checkpoint !== 'string' || !Array.isArray(obj.publicKeys)) throw new BundleProblem('malformed', null, 'bundle header lacks the checkpoint or public keys');
      let keys = trusted;
      report.keySource = 'given';
      if (!keys.length) {
        report.keySource = 'bundle';
        try {
          keys = (obj.publicKeys as unknown[]).map((k) => parseVerifier(String(k)));
        } catch (err) {
          throw new BundleProblem('bad signature', null, `bundle public key: ${(err as Error).message}`);
        }
      }
      let cp;
      try {
        cp = openCheckpoint(obj.checkpoint, keys);
      } catch (err) {
        if (err instanceof NoteError) throw new BundleProblem('bad signature', null, `the bundle's checkpoint: ${err.message} (signature invalid)`);
        throw err;
      }
      if (!cp.verifiedBy.length) {
        const by = cp.unknown.map((u) => `${u.name}+${u.keyHash}`).join(', ') || 'none';
        const whose = report.keySource === 'given' ? 'a key you did not give me' : 'a key that is not in the bundle';
        throw new BundleProblem('unknown key', null, `the bundle's checkpoint is signed by ${whose} (key id ${by})`);
      }
      if (obj.origin !== cp.origin || obj.treeSize !== cp.size) throw new BundleProblem('modified', null, 'the bundle header does not match its checkpoint');
      header = { size: cp.size, root: cp.root, origin: cp.origin };
      report.origin = cp.origin;
      report.treeSize = cp.size;
      report.signer = cp.verifiedBy[0]!.text;
      report.filter = (obj.filter as Record<string, unknown>) ?? null;
      digest.update(line);
      continue;
    }
    if (obj.type === 'end') {
      if (obj.records !== report.records) throw new BundleProblem('modified', null, `the bundle says ${String(obj.records)} records but holds ${report.records}`);
      if (obj.sha256 !== digest.digest('hex')) throw new BundleProblem('modified', null, 'the bundle trailer hash does not match its content');
      ended = true;
      continue;
    }
    if (obj.type !== 'record' || typeof obj.record !== 'string' || !Array.isArray(obj.proof)) throw new BundleProblem('malformed', null, `line ${n} is not a record`);
    digest.update(line);
    const bytes = Buffer.from(obj.record, 'utf8');
    let r: AuditRecord;
    try {
      r = decodeRecord(bytes);
    } catch {
      throw new BundleProblem('modified', null, `line ${n}: the record is not a valid record`);
    }
    const seq = r.seq;
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= header!.size) throw new BundleProblem('modified', seq, `record seq ${seq} is outside the signed tree (size ${header!.size})`);
    if (r.origin !== header!.origin || !RECORD_KINDS.has(r.kind)) throw new BundleProblem('modified', seq, `record seq ${seq} does not belong to log ${header!.origin}`);
    const proof = (obj.proof as unknown[]).map((p) => {
      if (typeof p !== 'string' || !HEX64.test(p)) throw new BundleProblem('modified', seq, `record seq ${seq} has a malformed inclusion proof`);
      return Buffer.from(p, 'hex');
    });
    const leaf = leafHash(bytes);
    if (!verifyInclusion(seq, header!.size, leaf, proof, header!.root)) {
      throw new BundleProblem('modified', seq, `record seq ${seq} is not in the signed log (its inclusion proof fails)`);
    }
    if (obj.body !== null) {
      if (typeof obj.body !== 'string') throw new BundleProblem('malformed', seq, `record seq ${seq} has a malformed body`);
      const body = Buffer.from(obj.body, 'base64');
      if (body.toString('base64') !== obj.body) throw new BundleProblem('modified', seq, `the body of seq ${seq} is not canonical base64`);
      if (r.bodyHash === null || hash('sha256', body, 'hex') !== r.bodyHash) throw new BundleProblem('modified', seq, `the body of seq ${seq} does not match the hash its record commits to`);
      if (obj.bodyPruned !== false) throw new BundleProblem('modified', seq, `record seq ${seq} has a body but is marked pruned`);
      report.bodies++;
    } else if (r.bodyHash !== null) {
      if (obj.bodyPruned !== true) throw new BundleProblem('missing', seq, `the body of seq ${seq} is missing`);
      report.prunedBodies++;
    } else if (obj.bodyPruned !== false) {
      throw new BundleProblem('modified', seq, `record seq ${seq} has no body but is marked pruned`);
    }
    const prev = sessions.get(r.session);
    if (prev && r.sessionSeq === prev.sessionSeq + 1) {
      if (r.sessionPrev !== prev.hash) throw new BundleProblem('modified', seq, `record seq ${seq} does not chain to the previous record of its session`);
    } else if (r.sessionSeq !== 0) {
      report.chainGaps++;
    }
    if (!prev) report.sessions++;
    sessions.set(r.session, { sessionSeq: r.sessionSeq, hash: leaf.toString('hex') });
    report.records++;
  }
  if (!header) throw new BundleProblem('malformed', null, 'empty bundle');
  if (!ended) throw new BundleProblem('truncated', null, 'the bundle has no end line');
}

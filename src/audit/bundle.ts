// Forensic export bundles: a self-contained, offline-verifiable NDJSON file. Format 2:
//   line 1   {"type":"wiretrail-audit-bundle","version":2,"origin",...,"checkpoint":<signed note>,"publicKeys":[...]}
//   then     {"type":"proof","records":N,"proof":<base64 of 32-byte hashes>}: one multi-leaf inclusion proof
//            (merkle.ts) for the N record lines after it (at most 4,096), taken over their seqs in order
//   then     N x {"type":"record","record":<the record's exact canonical JSON>,"body":<base64>|null,"bodyPruned":bool}
//   ...      more proof lines and their records
//   last     {"type":"end","records":N,"sha256":<hex SHA-256 of every byte before this line>}
// Format 1 (still verified) had no proof lines and an inclusion proof ("proof":[hex...]) on every
// record line: about 22 hashes (1.5 KB) per record at a million records, so a bundle was ~7.5x its
// records. Records next to each other share one proof now (a compact range when they are consecutive).
// Every line is canonical JSON (RFC 8785). Authenticity comes from the checkpoint signature and the
// inclusion proofs; the trailer hash makes any other change (filters, spacing) fail as well.
import { NotFoundError } from '../errors/index.js';
import { createHash, hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Db } from './store.js';
import * as K from './layout.js';
import { canonicalBytes, decodeRecord, RECORD_KINDS } from './record.js';
import type { AuditRecord, SessionSummary } from './types.js';
import { leafHash, multiInclusionProof, rootFromMultiInclusion, verifyInclusion } from './merkle.js';
import { rangeHashFromTiles, unpackTile } from './tree.js';
import { latestCheckpointNote, walkSession } from './read.js';
import { EntryReader, entriesFrom, withReader } from './blocks.js';
import type { Entry } from './value.js';
import { NoteError, openCheckpoint, parseVerifier, type Verifier } from './note.js';
import type { ProblemKind } from './verify.js';

export const BUNDLE_TYPE = 'wiretrail-audit-bundle';
export const BUNDLE_VERSION = 2;
/** Bundle formats verify-bundle reads. */
const READABLE_VERSIONS = new Set([1, 2]);
/** Records under one proof line: bounds what the exporter and the verifier hold at once. */
const GROUP_RECORDS = 4096;
const GROUP_BYTES = 16 << 20;

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
  const reader = new EntryReader(src.db, so);
  const emit = (text: string): Buffer => {
    const line = Buffer.from(text, 'utf8');
    digest.update(line);
    return line;
  };
  try {
    const f: Record<string, string | number> = {};
    if (filter.session !== undefined) f.session = filter.session;
    if (filter.since !== undefined) f.since = filter.since;
    if (filter.until !== undefined) f.until = filter.until;
    if (filter.user !== undefined) f.user = filter.user;
    const header = { type: BUNDLE_TYPE, version: BUNDLE_VERSION, origin: cp.origin, treeSize: cp.size, checkpoint: src.checkpointNote, publicKeys: src.publicKeys.map((k) => k.text), filter: f, createdAt: Date.now() };
    yield emit(canonicalBytes(header).toString('utf8') + '\n');
    const mth = rangeHashFromTiles(async (level, index) => {
      const v = await src.db.get(K.tileKey(level, index), so);
      return v ? unpackTile(v) : null;
    });
    const sessionsSeen = new Set<string>();
    let group: Entry[] = [];
    let groupBytes = 0;
    const flush = async (): Promise<Buffer> => {
      const seqs = group.map((e) => e.seq).sort((a, b) => a - b);
      const proof = Buffer.concat(await multiInclusionProof(seqs, cp.size, mth));
      let text = `{"proof":"${proof.toString('base64')}","records":${group.length},"type":"proof"}\n`;
      for (const e of group) text += recordLine(e, src.prunedBefore);
      stats.records += group.length;
      group = [];
      groupBytes = 0;
      return emit(text);
    };
    for await (const entries of selectEntries(src.db, reader, so, filter, cp.size, stats)) {
      for (const e of entries) {
        const r = decodeRecord(e.record);
        if (filter.since !== undefined && r.ts < filter.since) continue;
        if (filter.until !== undefined && r.ts > filter.until) continue;
        sessionsSeen.add(r.session);
        group.push(e);
        groupBytes += e.record.length + (e.body?.length ?? 0);
        if (group.length >= GROUP_RECORDS || groupBytes >= GROUP_BYTES) yield await flush();
      }
    }
    if (group.length) yield await flush();
    stats.sessions = sessionsSeen.size;
    const end = { type: 'end', records: stats.records, sha256: digest.digest('hex') };
    yield Buffer.concat([canonicalBytes(end), Buffer.from('\n')]);
  } finally {
    await reader.close();
    await snapshot.close();
  }
}

/**
 * One record line, written directly in canonical form (keys in RFC 8785 order; JSON.stringify
 * escapes a string exactly as RFC 8785 does), which costs a fraction of canonicalizing an object.
 */
function recordLine(e: Entry, prunedBefore: number): string {
  const text = e.record.toString('utf8');
  // bodyPruned: a body the record commits to is gone and retention removed it (below its cut).
  // bodyHash is the first key of a canonical record.
  const pruned = !e.body && e.seq < prunedBefore && !text.startsWith('{"bodyHash":null');
  return `{"body":${e.body ? `"${e.body.toString('base64')}"` : 'null'},"bodyPruned":${pruned},"record":${JSON.stringify(text)},"type":"record"}\n`;
}

/** Entries of matching records below `size`, in chunks, in bundle order (by session, or by seq). */
async function* selectEntries(db: Db, reader: EntryReader, so: object, filter: ExportFilter, size: number, stats: ExportStats): AsyncGenerator<Entry[]> {
  const sessions: SessionSummary[] = [];
  if (filter.session !== undefined) {
    const fs = await db.get(K.sessionIdKey(filter.session), so);
    const v = fs ? await db.get(K.summaryKey(K.parseHex(fs.toString(), 16) ?? -1), so) : undefined;
    if (!v) throw new NotFoundError(`no session ${JSON.stringify(filter.session)} in the log`);
    sessions.push(JSON.parse(v.toString('utf8')) as SessionSummary);
  } else if (filter.user !== undefined) {
    // A byte search before parsing: most summaries do not name the user at all.
    const needle = Buffer.from(JSON.stringify(filter.user));
    for await (const v of db.values({ ...K.prefixRange(K.SUMMARY_PREFIX), ...so }) as AsyncIterable<Buffer>) {
      if (!v.includes(needle)) continue;
      const s = JSON.parse(v.toString('utf8')) as SessionSummary;
      if (!s.users.includes(filter.user)) continue;
      if (filter.since !== undefined && s.lastTs < filter.since) continue;
      if (filter.until !== undefined && s.firstTs > filter.until) continue;
      sessions.push(s);
    }
  } else {
    yield* entriesInOrder(db, reader, so, filter, size, stats);
    return;
  }
  for (const s of sessions) {
    const last = await lastCoveredSeq(db, so, s, size);
    stats.uncovered += last.uncovered;
    if (last.seq < 0) continue;
    const all = await walkSession(reader, s, last.seq);
    for (let i = 0; i < all.length; i += 1024) yield all.slice(i, i + 1024);
  }
}

/**
 * The seq of a session's last record under the checkpoint (size), and how many of its records lie
 * past it. Summaries of open sessions are stored with each checkpoint, so a newer record of the
 * session can only lie past the summary's last seq, and only the records from there are scanned.
 */
async function lastCoveredSeq(db: Db, so: object, s: SessionSummary, size: number): Promise<{ seq: number; uncovered: number }> {
  let last = s.lastSeq;
  let uncovered = 0;
  if (!s.ended) {
    const cpNote = await latestCheckpointNote(db);
    const stored = cpNote ? Number(cpNote.split('\n')[1]) : 0;
    for await (const e of entriesFrom(db, Math.max(stored, s.lastSeq + 1), so)) if (decodeRecord(e.record).session === s.session) last = e.seq;
  }
  // Walk back from `last` past the records the checkpoint does not cover.
  let seq: number | null = last;
  while (seq !== null && seq >= size) {
    const e = await withReader(db, so, (r) => r.get(seq!));
    if (!e) throw new Error(`audit store is inconsistent: record ${seq} is missing; run wiretrail verify`);
    uncovered++;
    seq = e.prev;
  }
  return { seq: seq ?? -1, uncovered };
}

/** Whole log or a time window: seq order, starting where the window starts (ts is non-decreasing). */
async function* entriesInOrder(db: Db, reader: EntryReader, so: object, filter: ExportFilter, size: number, stats: ExportStats): AsyncGenerator<Entry[]> {
  let lo = 0;
  if (filter.since !== undefined) {
    let hi = size;
    const since = filter.since;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = await reader.get(mid);
      if (e && decodeRecord(e.record).ts < since) lo = mid + 1;
      else hi = mid;
    }
  }
  let out: Entry[] = [];
  for await (const e of entriesFrom(db, lo, so)) {
    if (e.seq >= size) {
      stats.uncovered++;
      continue;
    }
    if (filter.until !== undefined && decodeRecord(e.record).ts > filter.until) break;
    out.push(e);
    if (out.length >= 1024) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
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
  let version = 0;
  // Format 2: the proof line in force and the records it still has to cover.
  let group: Group | null = null;
  for await (const { line, complete } of lines(bytes)) {
    n++;
    if (ended) throw new BundleProblem('modified', null, 'data after the end of the bundle');
    if (!complete) throw new BundleProblem('truncated', null, `line ${n} is cut short (no end line)`);
    const obj = parseCanonicalLine(line, `line ${n}`);
    if (n === 1) {
      if (obj.type !== BUNDLE_TYPE || typeof obj.version !== 'number' || !READABLE_VERSIONS.has(obj.version)) throw new BundleProblem('malformed', null, `not a wiretrail audit bundle (version ${[...READABLE_VERSIONS].join(' or ')})`);
      version = obj.version;
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
      if (group) throw new BundleProblem('truncated', null, `the bundle ends ${group.remaining} records short of its last proof line`);
      if (obj.records !== report.records) throw new BundleProblem('modified', null, `the bundle says ${String(obj.records)} records but holds ${report.records}`);
      if (obj.sha256 !== digest.digest('hex')) throw new BundleProblem('modified', null, 'the bundle trailer hash does not match its content');
      ended = true;
      continue;
    }
    if (version >= 2 && obj.type === 'proof') {
      if (group) throw new BundleProblem('modified', null, `line ${n}: a proof line before the previous one's ${group.remaining} records`);
      group = openGroup(obj, n);
      digest.update(line);
      continue;
    }
    if (obj.type !== 'record' || typeof obj.record !== 'string' || (version === 1 ? !Array.isArray(obj.proof) : 'proof' in obj)) throw new BundleProblem('malformed', null, `line ${n} is not a record`);
    if (version >= 2 && !group) throw new BundleProblem('modified', null, `line ${n}: a record without a proof line before it`);
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
    const leaf = leafHash(bytes);
    if (group) {
      group.members.push({ seq, leaf });
      if (--group.remaining === 0) {
        checkGroup(group, header!.size, header!.root);
        group = null;
      }
    } else {
      const proof = (obj.proof as unknown[]).map((p) => {
        if (typeof p !== 'string' || !HEX64.test(p)) throw new BundleProblem('modified', seq, `record seq ${seq} has a malformed inclusion proof`);
        return Buffer.from(p, 'hex');
      });
      if (!verifyInclusion(seq, header!.size, leaf, proof, header!.root)) {
        throw new BundleProblem('modified', seq, `record seq ${seq} is not in the signed log (its inclusion proof fails)`);
      }
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

interface Group {
  remaining: number;
  proof: Buffer[];
  members: { seq: number; leaf: Buffer }[];
}

/** A format-2 proof line: how many record lines follow and the hashes that prove them. */
function openGroup(obj: Record<string, unknown>, n: number): Group {
  const count = obj.records;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > GROUP_RECORDS) throw new BundleProblem('malformed', null, `line ${n}: a proof line must cover 1 to ${GROUP_RECORDS} records`);
  if (typeof obj.proof !== 'string') throw new BundleProblem('malformed', null, `line ${n}: malformed proof`);
  const raw = Buffer.from(obj.proof, 'base64');
  if (raw.toString('base64') !== obj.proof || raw.length % 32 !== 0 || raw.length > 32 * 64 * count + 32 * 64) throw new BundleProblem('modified', null, `line ${n}: malformed proof`);
  const proof: Buffer[] = [];
  for (let i = 0; i < raw.length; i += 32) proof.push(raw.subarray(i, i + 32));
  return { remaining: count, proof, members: [] };
}

/** The records of a proof line, taken in seq order, must lead to the signed root. */
function checkGroup(g: Group, size: number, root: Buffer): void {
  const m = [...g.members].sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < m.length; i++) if (m[i]!.seq === m[i - 1]!.seq) throw new BundleProblem('modified', m[i]!.seq, `record seq ${m[i]!.seq} appears twice`);
  const got = rootFromMultiInclusion(
    m.map((x) => x.seq),
    size,
    m.map((x) => x.leaf),
    g.proof,
  );
  if (!got || !got.equals(root)) {
    const seqs = g.members.map((x) => x.seq);
    throw new BundleProblem('modified', g.members[0]!.seq, `records seq ${Math.min(...seqs)}..${Math.max(...seqs)} are not in the signed log (their inclusion proof fails)`);
  }
}

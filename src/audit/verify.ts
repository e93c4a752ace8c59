// Full-log verification, streaming in seq order with constant memory (plus one entry per session
// that is still open): every record against its tree leaf and its session chain, every body against
// its hash, every checkpoint's signature and root, the copies of the latest checkpoint kept outside
// the store (rollback), and the derived indexes. Stops at the first problem, which names the first
// bad seq and what failed.
import { hash } from 'node:crypto';
import type { Db } from './store.js';
import * as K from './layout.js';
import { checkIndexes } from './index/check.js';
import { RECORD_KINDS, RECORD_VERSION, decodeRecord, parseRecordText, recordAgents, recordUsers } from './record.js';
import type { AuditRecord, SessionSummary } from './types.js';
import { leafHashOfPrefixed } from './merkle.js';
import { ENTRY_HEADER, entryCount } from './value.js';
import { lastEntry, withReader } from './blocks.js';
import { TreeFrontier, TILE_WIDTH, rowCount, validTile, type TileWrite } from './tree.js';
import { NoteError, openCheckpoint, type Verifier } from './note.js';
import { MultisetDigest } from './multiset.js';
import { encodeSummary, mergeAgents, mergeUsers, summaryOf } from './session-state.js';
import { LATEST_CHECKPOINT, readCheckpointFile } from './publish.js';
import { join } from 'node:path';

/**
 * 'bad signature': a trusted key's signature does not verify (the checkpoint was changed or forged);
 * 'unknown key': signed only by keys that were not given (another instance's log, or a replaced key).
 */
export type ProblemKind = 'modified' | 'missing' | 'reordered' | 'truncated' | 'fork' | 'bad signature' | 'unknown key';

export interface VerifyProblem {
  kind: ProblemKind;
  /** First bad seq, when the problem sits at a position in the log. */
  seq: number | null;
  message: string;
}

export interface ExternalCheckpoint {
  /** Where it came from, for messages ("<data>/checkpoints/latest", a witness file…). */
  source: string;
  note: string;
}

export interface VerifyOptions {
  /** Public keys whose checkpoint signatures count. */
  trusted: Verifier[];
  /** Copies of signed checkpoints kept outside the store (rollback detection). */
  external?: ExternalCheckpoint[];
  onProgress?: (done: number, total: number) => void;
}

export interface VerifyReport {
  ok: boolean;
  problem: VerifyProblem | null;
  origin: string | null;
  records: number;
  sessions: number;
  openSessions: number;
  checkpoints: number;
  latestCheckpoint: { size: number; root: string } | null;
  /** Records after the latest checkpoint (not yet covered by a signature). */
  unsignedTail: number;
  bodies: number;
  prunedBodies: number;
  prunedBefore: number;
  /** Sources of external checkpoints that were checked. */
  external: { source: string; size: number }[];
  /** Verifier keys that signed the checked checkpoints. */
  signers: string[];
}

class Problem extends Error {
  constructor(readonly problem: VerifyProblem) {
    super(problem.message);
  }
}

const fail = (kind: ProblemKind, seq: number | null, message: string): never => {
  throw new Problem({ kind, seq, message: `${kind}: ${message}` });
};

interface SessionTrack {
  session: string;
  firstSeq: number;
  next: number;
  lastHash: string | null;
  lastSeq: number;
  firstTs: number;
  lastTs: number;
  users: string[];
  agents?: string[];
  /** The summary the writer last stored for this session while it is open. */
  expect: SessionSummary | null;
}

/** Pulls entries of one key range in batches, fetching the next batch while the current one is used. */
class Cursor {
  private buf: [string, Buffer][] = [];
  private i = 0;
  private done = false;
  private next: Promise<[string, Buffer][]> | null = null;
  private readonly it;
  constructor(db: Db, range: { gte: string; lt: string }, snapshot: unknown, private readonly size = 2048) {
    this.it = db.iterator({ ...range, snapshot } as object);
  }
  /** The current entry if buffered (undefined: call fill()), null at the end. */
  peekSync(): [string, Buffer] | null | undefined {
    if (this.i < this.buf.length) return this.buf[this.i]!;
    return this.done ? null : undefined;
  }
  async fill(): Promise<[string, Buffer] | null> {
    while (this.i >= this.buf.length) {
      if (this.done) return null;
      this.buf = await (this.next ?? (this.it.nextv(this.size) as Promise<[string, Buffer][]>));
      this.i = 0;
      this.next = null;
      if (!this.buf.length) {
        this.done = true;
        return null;
      }
      this.next = this.it.nextv(this.size) as Promise<[string, Buffer][]>;
    }
    return this.buf[this.i]!;
  }
  async peek(): Promise<[string, Buffer] | null> {
    const e = this.peekSync();
    return e === undefined ? this.fill() : e;
  }
  skip(): void {
    this.i++;
  }
  async close(): Promise<void> {
    await this.next?.catch(() => undefined);
    return this.it.close();
  }
}

interface PendingCp {
  size: number;
  root: Buffer;
  source: string | null; // null: stored in the log
  signer: string;
}

export async function verifyStore(db: Db, opts: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: false,
    problem: null,
    origin: null,
    records: 0,
    sessions: 0,
    openSessions: 0,
    checkpoints: 0,
    latestCheckpoint: null,
    unsignedTail: 0,
    bodies: 0,
    prunedBodies: 0,
    prunedBefore: 0,
    external: [],
    signers: [],
  };
  // External copies are read by the caller before this snapshot, so they can only be older.
  const snapshot = db.snapshot();
  const so = { snapshot } as object;
  const cursors: Cursor[] = [];
  try {
    await run(db, so, snapshot, opts, report, cursors);
    report.ok = true;
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    report.problem = err.problem;
  } finally {
    await Promise.all(cursors.map((c) => c.close().catch(() => undefined)));
    await snapshot.close();
  }
  return report;
}

function openCp(note: string, where: string, trusted: Verifier[], seqHint: number | null): { size: number; root: Buffer; origin: string; signer: string } {
  let c;
  try {
    c = openCheckpoint(note, trusted);
  } catch (err) {
    if (err instanceof NoteError) return fail('bad signature', seqHint, `${where}: ${err.message} (signature invalid)`);
    throw err;
  }
  if (!c.verifiedBy.length) return fail('unknown key', seqHint, unknownKeyMessage(where, c.size, c.unknown));
  return { size: c.size, root: c.root, origin: c.origin, signer: c.verifiedBy[0]!.text };
}

/** Names the key ids that did sign, so the reader can find the right key (or see that it was replaced). */
function unknownKeyMessage(where: string, size: number, unknown: { name: string; keyHash: string }[]): string {
  const ids = unknown.map((u) => `${u.name}+${u.keyHash}`).join(', ');
  return ids ? `${where} (size ${size}) is signed by a key you did not give me (key id ${ids})` : `${where} (size ${size}) carries no signature`;
}

async function run(db: Db, so: object, snapshot: unknown, opts: VerifyOptions, report: VerifyReport, cursors: Cursor[]): Promise<void> {
  const trusted = opts.trusted;
  const signers = new Set<string>();

  // Totals for progress and the retention cut (bodies below it may be gone).
  let total = 0;
  try {
    total = ((await lastEntry(db, { snapshot }))?.seq ?? -1) + 1;
  } catch {
    total = 0; // reported when the stream reaches it
  }
  let prunedBefore = 0;
  let retentionPtr: number | null = null;
  const rp = await db.get(K.RETENTION_KEY, so);
  if (rp !== undefined) {
    retentionPtr = K.parseHex(rp.toString(), 16);
    let rr: AuditRecord | null = null;
    try {
      const rv = retentionPtr === null ? null : await withReader(db, { snapshot }, (r) => r.get(retentionPtr!));
      rr = rv ? decodeRecord(rv.record) : null;
    } catch {
      rr = null;
    }
    const pb = rr?.meta.prunedBefore;
    if (!rr || rr.kind !== 'retention' || typeof pb !== 'number' || pb > rr.seq) {
      fail('modified', retentionPtr, 'the retention marker does not point at a retention record');
    }
    prunedBefore = pb as number;
  }
  report.prunedBefore = prunedBefore;

  // External checkpoints, checked when the tree reaches their size.
  const pendingExt: PendingCp[] = [];
  for (const e of opts.external ?? []) {
    const c = openCp(e.note, `the checkpoint in ${e.source}`, trusted, null);
    signers.add(c.signer);
    pendingExt.push({ size: c.size, root: c.root, source: e.source, signer: c.signer });
    report.external.push({ source: e.source, size: c.size });
  }
  pendingExt.sort((a, b) => a.size - b.size);

  const records = new Cursor(db, { gte: K.RECORD_PREFIX, lt: K.RECORD_END }, snapshot, 8);
  const cps = new Cursor(db, K.prefixRange(K.CHECKPOINT_PREFIX), snapshot);
  cursors.push(records, cps);

  const frontier = new TreeFrontier();
  const open = new Map<string, SessionTrack>();
  const touchedSinceCp = new Set<SessionTrack>();
  const expSummary = new MultisetDigest();
  const expIds = new MultisetDigest();
  let origin: string | null = null;
  let lastTs = 0;
  let lastCp: { size: number; root: Buffer } | null = null;
  let lastRetention: number | null = null;
  let tile0: Buffer | null = null;
  const full: TileWrite[] = [];
  const onFull = (t: TileWrite) => full.push(t);
  let tile0Index = -1;

  const checkTile = (t: TileWrite, exact: boolean) => async () => {
    const v = await db.get(K.tileKey(t.level, t.index), so);
    const stored = v && validTile(v) ? v : null;
    const want = t.data;
    const ok = stored && (exact ? stored.equals(want) : stored.length >= want.length && stored.subarray(0, want.length).equals(want));
    if (!ok) {
      const first = t.index * TILE_WIDTH * TILE_WIDTH ** t.level;
      const more = stored && stored.length > want.length;
      if (more) fail('truncated', report.records, `the tree tile ${t.level}/${t.index} covers more records than the log holds`);
      fail('modified', first, `the stored tree tile ${t.level}/${t.index} (from seq ${first}) does not match the records`);
    }
  };

  const checkCheckpointsAt = async (size: number) => {
    // Checkpoints stored in the log.
    for (;;) {
      const e = await cps.peek();
      if (!e) break;
      const keySize = K.parseHex(e[0].slice(2), 16);
      if (keySize === null) fail('modified', null, `unexpected checkpoint key ${e[0]}`);
      if (keySize! > size) break;
      cps.skip();
      const from = lastCp?.size ?? 0;
      const c = openCp(e[1].toString('utf8'), `checkpoint ${keySize}`, trusted, from);
      if (c.size !== keySize || keySize! < size) fail('modified', from, `checkpoint stored under size ${keySize} is misplaced (says ${c.size})`);
      if (origin !== null && c.origin !== origin) fail('modified', from, `checkpoint ${c.size} names origin "${c.origin}", records name "${origin}"`);
      if (!frontier.root().equals(c.root)) {
        fail('modified', from, `records ${from}..${size - 1} do not match the signed checkpoint ${size}`);
      }
      signers.add(c.signer);
      lastCp = { size, root: c.root };
      report.checkpoints++;
      // The writer refreshes the summaries of sessions touched since the previous checkpoint.
      for (const st of touchedSinceCp) st.expect = summaryOf({ ...st, ended: false });
      touchedSinceCp.clear();
    }
    while (pendingExt.length && pendingExt[0]!.size <= size) {
      const x = pendingExt.shift()!;
      if (x.size === 0) continue;
      if (!frontier.root().equals(x.root)) {
        fail('fork', lastCp && lastCp.size <= size ? lastCp.size : null, `the log at size ${size} disagrees with the signed checkpoint in ${x.source}`);
      }
    }
  };

  // Size of the next stored checkpoint (a malformed key counts as due now so it is reported).
  const cpSizeAhead = async (): Promise<number> => {
    const c = await cps.peek();
    if (!c) return Infinity;
    return K.parseHex(c[0].slice(2), 16) ?? 0;
  };

  let e = 0; // expected next seq
  let nextCp = await cpSizeAhead();
  for (;;) {
    let block = records.peekSync();
    if (block === undefined) block = await records.fill();
    if (!block) break;
    records.skip();
    const [key, value] = block;
    const first = K.parseHex(key.slice(2), 16);
    if (first === null) fail('modified', e, `unexpected record key ${JSON.stringify(key)}`);
    if (first! > e) fail('missing', e, `record seq ${e} is missing (the next stored record is seq ${first})`);
    if (first! < e) fail('modified', first, `the record block at seq ${first} overlaps records up to seq ${e - 1}`);
    const n = entryCount(value);
    if (n === null) fail('modified', e, `the stored record block from seq ${e} is malformed`);
    // Entries are walked in place (value.ts layout): no object or view per record beyond what hashing needs.
    let off = 0;
    for (let i = 0; i < n!; i++) {
      const recStart = off + ENTRY_HEADER;
      const recEnd = recStart + value.readUInt32BE(off + 8);
      const bodyEnd = recEnd + value.readUInt32BE(off + 12);
      const hasBody = (value[off + 1]! & 1) !== 0;
      const p = value.readUIntBE(off + 2, 6);
      const prev = p === 0 ? null : p - 1;
      const nextOff = bodyEnd;
      // Leaf hash SHA-256(0x00 ‖ record) over the block itself: the header byte before the record
      // is set to 0x00 for the call and restored.
      const saved = value[recStart - 1]!;
      value[recStart - 1] = 0;
      const h = leafHashOfPrefixed(value.subarray(recStart - 1, recEnd));
      value[recStart - 1] = saved;
      let r: AuditRecord;
      try {
        r = parseRecordText(value.toString('utf8', recStart, recEnd));
      } catch {
        fail('modified', e, `record seq ${e} is not a valid record`);
      }
      r = r!;
      if (r.seq !== e) {
        // A record further along where seq e belongs: e was removed, unless e turns up right after (a swap).
        let swapped = r.seq < e;
        try {
          if (!swapped && i + 1 < n!) {
            const nextRec = nextOff + ENTRY_HEADER;
            swapped = parseRecordText(value.toString('utf8', nextRec, nextRec + value.readUInt32BE(nextOff + 8))).seq === e;
          }
        } catch {
          /* the next one is broken too */
        }
        if (swapped) fail('reordered', e, `the record stored at seq ${e} carries seq ${r.seq}`);
        fail('missing', e, `record seq ${e} is missing (the record stored there carries seq ${r.seq})`);
      }
      // Leaf against the stored tree tile (pinpoints a changed record even before the next checkpoint).
      if (Math.floor(e / TILE_WIDTH) !== tile0Index) {
        tile0Index = Math.floor(e / TILE_WIDTH);
        const v = await db.get(K.tileKey(0, tile0Index), so);
        tile0 = v && validTile(v) ? v : null;
        if (!tile0) fail('modified', e, `the tree tile for seq ${e} is missing or malformed`);
      }
      const leafOff = (e % TILE_WIDTH) * 32;
      if (leafOff + 32 > tile0!.length) fail('modified', e, `the tree tile has no leaf for seq ${e}`);
      if (tile0!.toString('hex', leafOff, leafOff + 32) !== h) fail('modified', e, `record seq ${e} does not match the hash the tree holds for it`);

      if (r.ts < lastTs) fail('reordered', e, `record seq ${e} is older than seq ${e - 1}`);
      if (r.v !== RECORD_VERSION || !RECORD_KINDS.has(r.kind) || !Number.isSafeInteger(r.ts)) fail('modified', e, `record seq ${e} has an unexpected version, kind or time`);
      if (origin === null) origin = r.origin;
      else if (r.origin !== origin) fail('modified', e, `record seq ${e} names origin "${r.origin}", earlier records "${origin}"`);

      let st = open.get(r.session);
      if (!st) {
        if (r.sessionSeq !== 0 || r.sessionPrev !== null) {
          fail('missing', e, `session ${JSON.stringify(r.session)} starts at seq ${e} with position ${r.sessionSeq}: its earlier records are missing`);
        }
        if (prev !== null) fail('modified', e, `record seq ${e} starts session ${JSON.stringify(r.session)} but links back to seq ${prev}`);
        st = { session: r.session, firstSeq: e, next: 0, lastHash: null, lastSeq: e, firstTs: r.ts, lastTs: r.ts, users: [], expect: null };
        open.set(r.session, st);
        report.sessions++;
        expIds.add(`${K.sessionIdKey(r.session)}=${K.hex(e, 16)}`);
      } else {
        if (r.sessionSeq > st.next) fail('missing', st.lastSeq + 1, `session ${JSON.stringify(r.session)} jumps from position ${st.next - 1} (seq ${st.lastSeq}) to ${r.sessionSeq} (seq ${e})`);
        if (r.sessionSeq < st.next) fail('reordered', e, `record seq ${e} repeats position ${r.sessionSeq} of session ${JSON.stringify(r.session)}`);
        if (r.sessionPrev !== st.lastHash) {
          fail('modified', st.lastSeq, `record seq ${st.lastSeq} no longer matches the hash its successor seq ${e} (session ${JSON.stringify(r.session)}) committed to`);
        }
        if (prev !== st.lastSeq) fail('modified', e, `record seq ${e} links back to seq ${prev} instead of seq ${st.lastSeq}`);
      }
      if (r.kind === 'session-end' && (r.meta.count !== r.sessionSeq || r.meta.lastHash !== r.sessionPrev)) {
        fail('modified', e, `the session-end record seq ${e} does not match its session (count or last hash)`);
      }
      if (r.kind === 'retention') {
        if (typeof r.meta.prunedBefore !== 'number' || r.meta.prunedBefore > e) fail('modified', e, `retention record seq ${e} is malformed`);
        lastRetention = e;
      }

      // Body beside the record.
      if (r.bodyHash === null) {
        if (hasBody) fail('modified', e, `a body is stored for seq ${e} whose record has none`);
      } else if (hasBody) {
        if (hash('sha256', value.subarray(recEnd, bodyEnd), 'hex') !== r.bodyHash) fail('modified', e, `the body of seq ${e} does not match the hash its record commits to`);
        report.bodies++;
      } else if (e < prunedBefore) {
        report.prunedBodies++;
      } else {
        fail('missing', e, `the body of seq ${e} is missing`);
      }

      // Accept: tree, session state, expected index entries.
      frontier.appendHex(h, onFull);
      if (full.length) {
        for (const t of full) {
          if (t.level > 0) await checkTile(t, true)();
          else if (tile0!.length !== TILE_WIDTH * 32) fail('modified', e, `the tree tile ending at seq ${e} has the wrong length`);
        }
        full.length = 0;
      }
      st.next = r.sessionSeq + 1;
      st.lastHash = h;
      st.lastSeq = e;
      st.lastTs = r.ts;
      const users = recordUsers(r.meta);
      if (users.length) st.users = mergeUsers(st.users, users);
      const agents = recordAgents(r.meta);
      if (agents.length) st.agents = mergeAgents(st.agents, agents);
      if (r.sessionSeq === 0) st.expect = summaryOf({ ...st, ended: false });
      if (r.kind === 'session-end') {
        expSummary.add(summaryEntry(summaryOf({ ...st, ended: true })));
        open.delete(r.session);
        touchedSinceCp.delete(st);
      } else {
        touchedSinceCp.add(st);
      }
      lastTs = r.ts;
      e++;
      report.records = e;
      if (e >= nextCp || (pendingExt.length && pendingExt[0]!.size <= e)) {
        await checkCheckpointsAt(e);
        nextCp = await cpSizeAhead();
      }
      if (opts.onProgress && e % 16384 === 0) opts.onProgress(e, total);
      off = nextOff;
    }
  }
  report.origin = origin;

  // Checkpoints beyond the log: the tail was cut.
  const extraCp = await cps.peek();
  if (extraCp) {
    const n = K.parseHex(extraCp[0].slice(2), 16);
    fail('truncated', e, `the log ends at seq ${e - 1} but checkpoint ${n ?? extraCp[0]} covers ${n} records`);
  }
  if (pendingExt.length) {
    const x = pendingExt[pendingExt.length - 1]!;
    fail('truncated', e, `the store was rolled back or truncated: it holds ${e} records but the signed checkpoint in ${x.source} covers ${x.size}`);
  }

  // Tree tiles: the partial rows, and no tile beyond them.
  for (const t of frontier.partialTiles()) await checkTile(t, true)();
  const expectTiles = new Map<number, number>();
  for (let k = 0; rowCount(e, k) > 0; k++) expectTiles.set(k, Math.ceil(rowCount(e, k) / TILE_WIDTH));
  const seenTiles = new Map<number, number>();
  for await (const key of db.keys({ ...K.prefixRange(K.TILE_PREFIX), snapshot } as object)) {
    const m = /^t\/([0-9a-f]{2})\/([0-9a-f]{12})$/.exec(key);
    if (!m) fail('modified', null, `unexpected tree tile key ${JSON.stringify(key)}`);
    const level = parseInt(m![1]!, 16);
    const index = parseInt(m![2]!, 16);
    const want = expectTiles.get(level) ?? 0;
    if (index >= want) fail('truncated', e, `tree tile ${level}/${index} covers records beyond the end of the log (seq ${e - 1})`);
    seenTiles.set(level, (seenTiles.get(level) ?? 0) + 1);
  }
  for (const [level, n] of expectTiles) {
    if ((seenTiles.get(level) ?? 0) !== n) fail('modified', null, `tree tiles of level ${level} are missing`);
  }

  // Derived indexes must be exactly what the records imply.
  const openMarks = new MultisetDigest();
  for (const st of open.values()) {
    if (st.expect) expSummary.add(summaryEntry(st.expect));
    openMarks.add(`${K.openKey(st.firstSeq)}=`);
  }
  report.openSessions = open.size;
  await compareDigest(db, snapshot, K.SUMMARY_PREFIX, expSummary, 'the session summaries');
  await compareDigest(db, snapshot, K.SESSION_ID_PREFIX, expIds, 'the session id index');
  await compareDigest(db, snapshot, K.OPEN_PREFIX, openMarks, 'the open-session markers');
  if (retentionPtr !== lastRetention) fail('modified', lastRetention, 'the retention marker does not point at the latest retention record');

  // The secondary indexes (search aids derived from the records) must be intact.
  const badIndex = await checkIndexes(db, e, snapshot);
  if (badIndex) fail('modified', null, `the session index entry ${JSON.stringify(badIndex.key)} is damaged: ${badIndex.why}`);

  // Nothing else may live in the store.
  const known: readonly string[] = K.KNOWN_PREFIXES;
  let from = '';
  for (const p of known) {
    const stray = await db.keys({ gte: from, lt: p, limit: 1, snapshot } as object).all();
    if (stray[0] !== undefined) fail('modified', null, `unexpected key ${JSON.stringify(stray[0])} in the store`);
    from = K.prefixEnd(p);
  }
  const tail = await db.keys({ gte: from, limit: 1, snapshot } as object).all();
  if (tail[0] !== undefined) fail('modified', null, `unexpected key ${JSON.stringify(tail[0])} in the store`);
  for await (const key of db.keys({ ...K.prefixRange(K.META_PREFIX), snapshot } as object)) {
    if (key !== K.RETENTION_KEY) fail('modified', null, `unexpected key ${JSON.stringify(key)} in the store`);
  }

  report.latestCheckpoint = lastCp ? { size: (lastCp as { size: number }).size, root: (lastCp as { root: Buffer }).root.toString('hex') } : null;
  report.unsignedTail = e - (lastCp ? (lastCp as { size: number }).size : 0);
  report.signers = [...signers];
  if (e > 0 && !lastCp && !(opts.external ?? []).length) {
    // Records but no signed checkpoint at all: nothing vouches for them.
    fail('missing', 0, 'the log has records but no signed checkpoint');
  }
}

function summaryEntry(s: SessionSummary): string {
  return `${K.summaryKey(s.firstSeq)}=${encodeSummary(s).toString('utf8')}`;
}

async function compareDigest(db: Db, snapshot: unknown, prefix: string, expected: MultisetDigest, what: string): Promise<void> {
  const got = new MultisetDigest();
  const it = db.iterator({ gte: prefix, lt: K.prefixEnd(prefix), snapshot } as object);
  try {
    for (;;) {
      const batch = (await it.nextv(1000)) as [string, Buffer][];
      if (!batch.length) break;
      for (const [k, v] of batch) got.add(Buffer.concat([Buffer.from(`${k}=`), v]));
    }
  } finally {
    await it.close();
  }
  if (!got.equals(expected)) fail('modified', null, `${what} does not match the records (${got.count} entries stored, ${expected.count} expected)`);
}

/** The copies of the latest checkpoint kept outside the store: <dataDir>/checkpoints/latest and witness files. */
export async function readExternalCheckpoints(dataDir: string, witnessFiles: string[] = []): Promise<ExternalCheckpoint[]> {
  const out: ExternalCheckpoint[] = [];
  const latest = join(dataDir, LATEST_CHECKPOINT);
  const note = await readCheckpointFile(latest);
  if (note !== null) out.push({ source: latest, note });
  for (const f of witnessFiles) {
    const w = await readCheckpointFile(f);
    if (w === null) throw new Error(`witness checkpoint ${f} does not exist`);
    out.push({ source: f, note: w });
  }
  return out;
}

// The audit log writer: one writer, group commit into atomic LevelDB batches, per-session hash
// chains, the Merkle tree tiles and signed checkpoints. Fails closed when the store cannot write.
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import {
  StoreUnavailableError,
  type AppendInput,
  type AppendResult,
  type JsonObject,
  type Recorder,
  type SessionSummary,
  type StoredRecord,
  type AuditRecord,
} from './types.js';
import { RECORD_KINDS, RECORD_VERSION, MAX_SESSION_ID, decodeRecord, findNonCanonical, recordAgents, recordText, recordUsers, sha256Hex, wellFormed } from './record.js';
import * as K from './keys.js';
import { leafHashHex } from './merkle.js';
import { TreeFrontier, TILE_WIDTH, rowCount, unpackTile, validTile, rangeHashFromTiles } from './tree.js';
import { checkpointBody, openCheckpoint, signNote, validKeyName, type Signer, type Verifier } from './note.js';
import { loadOrCreateSigner, readPublicKeys, rotateSigningKey } from './signing-key.js';
import { recordSigningKey } from './key-record.js';
import { openDb, syncWriteAheadLog, type Db } from './store.js';
import { BlockBuilder, stripBodies } from './value.js';
import { entriesFrom, findBlock, lastEntry, withReader } from './blocks.js';
import { CheckpointPublisher, type WitnessTarget } from './publish.js';
import { encodeSummary, mergeAgents, mergeUsers, summaryOf, type SessionState } from './session-state.js';
import { checkpointNotes, listSessions, readPrunedBefore, readSession, sessionSummary, type SessionFilter } from './read.js';
import { readExternalCheckpoints, verifyStore, type VerifyReport } from './verify.js';
import { exportBundle, type ExportFilter, type ExportStats } from './bundle.js';

export interface AuditOptions {
  /** LevelDB lives in <dataDir>/log; the latest checkpoint is also copied to <dataDir>/checkpoints/latest. */
  dataDir: string;
  /** Holds the checkpoint signing key (audit-log.key, 0600) and the public keyring (audit-log.pub). */
  certsDir: string;
  /** Checkpoint origin line; default 'wiretrail.local/<hostname>/log'. */
  origin?: string;
  /** A checkpoint is signed when this much time passed since the last one and records arrived (1000 ms). */
  checkpointIntervalMs?: number;
  /** ...or when this many records arrived since the last one (1000). */
  checkpointEveryRecords?: number;
  /** Where else each checkpoint goes (rollback detection beyond this host). */
  witness?: WitnessTarget;
  /** Delete bodies of records older than this many days (records and commitments stay). */
  retentionDays?: number;
  logger?: Logger;
  /**
   * fsync every batch (default false). Either way a resolved append survives a crash of the process;
   * every checkpoint is made durable (the write-ahead log is synced right after its batch) before it
   * is published, so a power loss can lose at most the records after the last durable checkpoint.
   * true makes every resolved append survive a power loss, at the cost of one fsync per batch
   * (throughput and per-append latency).
   */
  syncEveryBatch?: boolean;
  /** Upper bounds of one group-commit batch (records, bytes). */
  maxBatchRecords?: number;
  maxBatchBytes?: number;
  /** Open without writing (CLI readers); append() rejects. */
  readOnly?: boolean;
}

type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

interface Pending {
  session: string;
  kind: AppendInput['kind'];
  meta: JsonObject;
  body: Uint8Array | undefined;
  end: boolean;
  extra?: (seq: number) => BatchOp[];
  resolve(r: AppendResult): void;
  reject(e: Error): void;
}

export interface CheckpointInfo {
  size: number;
  root: string;
  note: string;
}

const EMPTY = Buffer.alloc(0);
const DAY_MS = 86_400_000;

export function defaultOrigin(): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'localhost';
  return `wiretrail.local/${host}/log`;
}

export class AuditLog implements Recorder {
  readonly origin: string;
  private readonly originJson: string;
  readonly dataDir: string;
  readonly certsDir: string;
  private state: 'open' | 'failed' | 'closing' | 'closed' = 'open';
  private frontier = new TreeFrontier();
  private sessions = new Map<string, SessionState>();
  private queue: Pending[] = [];
  private pumping = false;
  private lastTs = 0;
  private cp: { size: number; root: Buffer; note: string; at: number } | null = null;
  private checkpointWanted = false;
  private prunedBefore = 0;
  private touchedSinceCp = new Set<SessionState>();
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private recoverTimer: NodeJS.Timeout | null = null;
  private recoverDelay = 250;
  private readonly log: Logger;
  private readonly publisher: CheckpointPublisher;
  private readonly intervalMs: number;
  private readonly everyRecords: number;
  private readonly sync: boolean;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private idle: Promise<void> = Promise.resolve();
  private unsynced: AuditLog['cp'] = null;
  private syncing: Promise<void> | null = null;

  private constructor(
    private db: Db,
    private signer: Signer | null,
    private readonly opts: AuditOptions,
  ) {
    this.origin = opts.origin ?? defaultOrigin();
    this.originJson = JSON.stringify(this.origin);
    this.dataDir = opts.dataDir;
    this.certsDir = opts.certsDir;
    this.log = opts.logger ?? pino({ name: 'audit' }, pino.destination(2));
    this.publisher = new CheckpointPublisher(opts.dataDir, opts.witness, this.log);
    this.intervalMs = opts.checkpointIntervalMs ?? 1000;
    this.everyRecords = opts.checkpointEveryRecords ?? 1000;
    this.sync = opts.syncEveryBatch ?? false;
    this.maxBatchRecords = opts.maxBatchRecords ?? 4096;
    this.maxBatchBytes = opts.maxBatchBytes ?? 16 << 20;
  }

  static async open(opts: AuditOptions): Promise<AuditLog> {
    const origin = opts.origin ?? defaultOrigin();
    if (!validKeyName(origin)) throw new Error(`audit origin "${origin}" must not contain spaces or '+'`);
    const signer = opts.readOnly ? null : loadOrCreateSigner(opts.certsDir, origin);
    const db = await openDb(opts.dataDir, { create: !opts.readOnly });
    const log = new AuditLog(db, signer, opts);
    try {
      // Only the process holding the store's lock says which key signs it.
      if (signer) recordSigningKey(opts.dataDir, opts.certsDir, signer);
      await log.loadState();
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    if (!opts.readOnly) {
      await log.recoverDangling();
      log.timer = setInterval(() => log.tick(), log.intervalMs);
      log.timer.unref();
      if (opts.retentionDays !== undefined) {
        log.retentionTimer = setInterval(() => void log.prune().catch((e) => log.log.error({ err: (e as Error).message }, 'audit: retention failed')), 3_600_000);
        log.retentionTimer.unref();
        await log.prune().catch((e) => log.log.error({ err: (e as Error).message }, 'audit: retention failed'));
      }
    }
    return log;
  }

  get writable(): boolean {
    return this.state === 'open' && !this.opts.readOnly;
  }

  /** Tree size of committed and in-flight records. */
  get size(): number {
    return this.frontier.size;
  }

  /** The database handle for the read side (verify, export). */
  get store(): Db {
    return this.db;
  }

  get prunedBeforeSeq(): number {
    return this.prunedBefore;
  }

  append(input: AppendInput): Promise<AppendResult> {
    const bad = validateInput(input);
    if (bad) return Promise.reject(new TypeError(`audit append: ${bad}`));
    return this.enqueue(input.session, input.kind, input.meta, input.body, false);
  }

  endSession(session: string, meta: JsonObject = {}): Promise<AppendResult> {
    const bad = validateInput({ session, kind: 'session-end', meta });
    if (bad) return Promise.reject(new TypeError(`audit endSession: ${bad}`));
    return this.enqueue(session, 'session-end', meta, undefined, true);
  }

  private enqueue(session: string, kind: AppendInput['kind'], meta: JsonObject, body: Uint8Array | undefined, end: boolean, extra?: Pending['extra']): Promise<AppendResult> {
    if (this.state !== 'open' || this.opts.readOnly) {
      return Promise.reject(new StoreUnavailableError(this.unavailableReason()));
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ session, kind, meta, body, end, extra, resolve, reject });
      this.kick();
    });
  }

  private unavailableReason(): string {
    if (this.opts.readOnly) return 'audit log opened read-only';
    if (this.state === 'failed') return 'audit store cannot write (see the audit log error); refusing to record';
    return 'audit log is closed';
  }

  private kick(): void {
    if (this.pumping) return;
    this.pumping = true;
    // setImmediate lets appends issued in the same tick join the first batch.
    this.idle = new Promise<void>((done) => setImmediate(() => void this.pump().finally(done)));
  }

  private async pump(): Promise<void> {
    try {
      while (this.state === 'open' || this.state === 'closing') {
        const want = this.checkpointWanted && this.frontier.size > (this.cp?.size ?? 0);
        if (!this.queue.length && !want) break;
        await this.commit(this.takeBatch());
      }
    } finally {
      this.pumping = false;
    }
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < this.maxBatchRecords) {
      bytes += (this.queue[n]!.body?.byteLength ?? 0) + 512;
      n++;
      if (bytes >= this.maxBatchBytes) break;
    }
    return this.queue.splice(0, n);
  }

  private async commit(items: Pending[]): Promise<void> {
    // Session ids seen for the first time in this process must not name an existing session.
    const unknown = [...new Set(items.filter((p) => !this.sessions.has(p.session)).map((p) => p.session))];
    const taken = new Set<string>();
    if (unknown.length) {
      try {
        const found = await this.db.getMany(unknown.map(K.sessionIdKey));
        found.forEach((v, i) => v !== undefined && taken.add(unknown[i]!));
      } catch (err) {
        this.fail(err, items);
        return;
      }
    }

    const ops: BatchOp[] = [];
    let estimate = 0;
    for (const p of items) estimate += 400 + (p.body?.byteLength ?? 0);
    const block = new BlockBuilder(estimate);
    const firstSeq = this.frontier.size;
    const done: { p: Pending; r: AppendResult }[] = [];
    const touched = new Set<SessionState>();
    const fresh = new Map<SessionState, Buffer>(); // new session -> its summary after its first record
    for (const p of items) {
      if (taken.has(p.session)) {
        p.reject(new Error(`audit: session "${p.session}" already exists in the log and has ended`));
        continue;
      }
      let st = this.sessions.get(p.session);
      if (st?.ended) {
        p.reject(new Error(`audit: session "${p.session}" has ended`));
        continue;
      }
      const seq = this.frontier.size;
      const now = Date.now();
      const ts = now > this.lastTs ? now : this.lastTs;
      const sessionSeq = st ? st.next : 0;
      const sessionPrev = st ? st.lastHash : null;
      const meta = p.end ? { ...p.meta, count: sessionSeq, lastHash: sessionPrev } : p.meta;
      const rec: AuditRecord = {
        v: RECORD_VERSION,
        origin: this.origin,
        seq,
        ts,
        session: p.session,
        sessionSeq,
        sessionPrev,
        kind: p.kind,
        meta,
        bodyHash: p.body ? sha256Hex(p.body) : null,
      };
      const sessionJson = st ? st.json : JSON.stringify(p.session);
      let text: string;
      try {
        text = recordText(rec, this.originJson, sessionJson);
      } catch (err) {
        p.reject(new TypeError(`audit append: ${(err as Error).message}`));
        continue;
      }
      const isNew = !st;
      if (!st) {
        st = { session: p.session, json: sessionJson, firstSeq: seq, next: 0, lastHash: null, lastSeq: seq, firstTs: ts, lastTs: ts, users: [], ended: false, committed: null };
        this.sessions.set(p.session, st);
      }
      const hash = block.add(isNew ? null : st.lastSeq, text, p.body);
      this.frontier.appendHex(hash);
      this.lastTs = ts;
      if (p.extra) ops.push(...p.extra(seq));
      st.next = sessionSeq + 1;
      st.lastHash = hash;
      st.lastSeq = seq;
      st.lastTs = ts;
      const users = recordUsers(meta);
      if (users.length) st.users = mergeUsers(st.users, users);
      const agents = recordAgents(meta);
      if (agents.length) st.agents = mergeAgents(st.agents, agents);
      if (p.end) st.ended = true;
      if (isNew) fresh.set(st, encodeSummary(summaryOf(st)));
      touched.add(st);
      this.touchedSinceCp.add(st);
      done.push({ p, r: { seq, hash } });
    }

    if (block.length) ops.push({ type: 'put', key: K.recordKey(firstSeq), value: block.finish() });
    const size = this.frontier.size;
    const now = Date.now();
    const cpSize = this.cp?.size ?? 0;
    const withCp = size > cpSize && (this.checkpointWanted || size - cpSize >= this.everyRecords || now - (this.cp?.at ?? 0) >= this.intervalMs);
    // Session summaries: at the first record, at the end, and for every open session touched since
    // the last checkpoint in the checkpoint's batch (so a restart only rescans the unsigned tail).
    const summaries = new Map<SessionState, Buffer>();
    for (const [st, first] of fresh) {
      ops.push({ type: 'put', key: K.sessionIdKey(st.session), value: Buffer.from(K.hex(st.firstSeq, 16)) });
      if (!st.ended) ops.push({ type: 'put', key: K.openKey(st.firstSeq), value: EMPTY });
      summaries.set(st, first);
    }
    for (const st of touched) {
      if (st.ended) {
        summaries.set(st, encodeSummary(summaryOf(st)));
        if (!fresh.has(st)) ops.push({ type: 'del', key: K.openKey(st.firstSeq) });
      }
    }
    if (withCp) for (const st of this.touchedSinceCp) if (!st.ended) summaries.set(st, encodeSummary(summaryOf(st)));
    for (const [st, v] of summaries) ops.push({ type: 'put', key: K.summaryKey(st.firstSeq), value: v });
    for (const t of this.frontier.takeWrites()) ops.push({ type: 'put', key: K.tileKey(t.level, t.index), value: t.data });

    let cp: AuditLog['cp'] = null;
    if (withCp) {
      const root = this.frontier.root();
      const note = signNote(checkpointBody({ origin: this.origin, size, root }), [this.signer!]);
      ops.push({ type: 'put', key: K.checkpointKey(size), value: Buffer.from(note) });
      cp = { size, root, note, at: now };
    }
    if (!ops.length) return;

    try {
      await this.db.batch(ops, { sync: this.sync });
    } catch (err) {
      this.fail(err, done.map((d) => d.p));
      return;
    }
    for (const st of touched) {
      st.committed = summaryOf(st);
      if (st.ended) this.sessions.delete(st.session);
    }
    if (cp) {
      this.cp = cp;
      this.checkpointWanted = false;
      this.touchedSinceCp.clear();
      this.settle(cp);
    }
    for (const { p, r } of done) p.resolve(r);
  }

  /**
   * A committed checkpoint goes outside the store (latest file, witness) only once it is durable.
   * Rather than a LevelDB sync write, which holds up every write queued behind it for the length of
   * an fsync (measured: a quarter of the append throughput with 64 sessions), the write-ahead log
   * is fdatasync'ed beside the writer; one sync at a time, covering every checkpoint before it.
   */
  private settle(cp: NonNullable<AuditLog['cp']>): void {
    if (this.sync) {
      this.publisher.publish(cp.note, cp.size);
      return;
    }
    this.unsynced = cp;
    this.syncing ??= this.syncLoop().finally(() => (this.syncing = null));
  }

  private async syncLoop(): Promise<void> {
    for (let cp = this.unsynced; cp; cp = this.unsynced) {
      this.unsynced = null;
      try {
        await syncWriteAheadLog(this.dataDir);
      } catch (err) {
        this.fail(err, []);
        return;
      }
      this.publisher.publish(cp.note, cp.size);
    }
  }

  /** Waits until every committed checkpoint is durable and handed to the publisher. */
  private async settled(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  /** Store failure: reject everything in flight, stop accepting, and retry until the store writes again. */
  private fail(err: unknown, inFlight: Pending[]): void {
    const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    if (this.state === 'open') {
      this.state = 'failed';
      this.log.fatal(
        { err: reason },
        'AUDIT LOG CANNOT WRITE: intercepted traffic is refused until the store recovers (check disk space and I/O errors)',
      );
    }
    const e = new StoreUnavailableError(`audit store cannot write: ${reason}`, { cause: err });
    for (const p of inFlight) p.reject(e);
    for (const p of this.queue.splice(0)) p.reject(e);
    this.scheduleRecover();
  }

  private scheduleRecover(): void {
    if (this.recoverTimer || this.state !== 'failed') return;
    this.recoverTimer = setTimeout(() => {
      this.recoverTimer = null;
      void this.recover();
    }, this.recoverDelay);
  }

  private async recover(): Promise<void> {
    if (this.state !== 'failed') return;
    try {
      // LevelDB keeps a sticky error after a failed write: reopen, then prove a synced write works.
      await this.db.close().catch(() => undefined);
      this.db = await openDb(this.dataDir, { create: true });
      await this.loadState();
      await this.db.batch(
        [
          { type: 'put', key: 'm/probe', value: Buffer.from(String(Date.now())) },
          { type: 'del', key: 'm/probe' },
        ],
        { sync: true },
      );
    } catch (err) {
      this.recoverDelay = Math.min(this.recoverDelay * 2, 5000);
      this.log.error({ err: (err as Error).message, retryMs: this.recoverDelay }, 'audit: store still cannot write');
      this.scheduleRecover();
      return;
    }
    this.recoverDelay = 250;
    this.state = 'open';
    this.checkpointWanted = true;
    this.log.warn({ size: this.frontier.size }, 'audit: store writes again; recording resumed');
    this.kick();
  }

  private tick(): void {
    if (this.state !== 'open') return;
    if (this.frontier.size > (this.cp?.size ?? 0)) {
      this.checkpointWanted = true;
      this.kick();
    }
  }

  /** Rebuilds the in-memory state (tree edge, open sessions, last checkpoint) from the store. */
  private async loadState(): Promise<void> {
    const last = await lastEntry(this.db);
    const size = last ? last.seq + 1 : 0;
    this.lastTs = last ? decodeRecord(last.record).ts : 0;
    const rows: Buffer[] = [];
    for (let k = 0; rowCount(size, k) > 0; k++) {
      const count = rowCount(size, k);
      const partial = count % TILE_WIDTH;
      rows[k] = Buffer.alloc(0);
      if (!partial) continue;
      const v = await this.db.get(K.tileKey(k, Math.floor(count / TILE_WIDTH)));
      if (!v || !validTile(v) || v.length < partial * 32) throw new Error(`audit store is inconsistent: tree tile ${k} does not match ${size} records; run wiretrail verify`);
      rows[k] = v.subarray(0, partial * 32);
    }
    this.frontier = TreeFrontier.restore(size, rows);

    this.cp = null;
    const cps = await this.db.values({ gte: 'c/', lt: 'c0', reverse: true, limit: 1 }).all();
    if (cps[0]) {
      const note = cps[0].toString('utf8');
      const c = openCheckpoint(note, []);
      if (c.size > size) throw new Error(`audit store is inconsistent: checkpoint covers ${c.size} records but only ${size} exist; run wiretrail verify`);
      const root = c.size === size ? this.frontier.root() : await this.rootAt(c.size);
      if (!root.equals(c.root)) throw new Error(`audit store is inconsistent: the tree does not match checkpoint ${c.size}; run wiretrail verify`);
      this.cp = { size: c.size, root: c.root, note, at: Date.now() };
    }

    // Open sessions: their summaries are current as of the last checkpoint; replay the unsigned tail.
    this.sessions.clear();
    this.touchedSinceCp.clear();
    const bySeq = new Map<number, SessionState>();
    for await (const key of this.db.keys({ gte: 'o/', lt: 'o0' })) {
      const v = await this.db.get(K.summaryKey(K.parseHex(key.slice(2), 16) ?? -1));
      if (!v) throw new Error(`audit store is inconsistent: open session ${key} has no summary; run wiretrail verify`);
      const s = JSON.parse(v.toString('utf8')) as SessionSummary;
      const st: SessionState = { ...s, json: JSON.stringify(s.session), next: s.count, lastHash: s.lastHash || null, committed: null };
      this.sessions.set(s.session, st);
      bySeq.set(s.firstSeq, st);
    }
    const from = this.cp?.size ?? 0;
    if (from < size) {
      for await (const { record } of entriesFrom(this.db, from)) {
        const r = decodeRecord(record);
        const st = this.sessions.get(r.session);
        if (!st || r.seq <= st.lastSeq) continue;
        if (r.sessionSeq !== st.next) throw new Error(`audit store is inconsistent at seq ${r.seq}; run wiretrail verify`);
        st.next = r.sessionSeq + 1;
        st.lastHash = leafHashHex(record);
        st.lastSeq = r.seq;
        st.lastTs = r.ts;
        const users = recordUsers(r.meta);
        if (users.length) st.users = mergeUsers(st.users, users);
        const agents = recordAgents(r.meta);
        if (agents.length) st.agents = mergeAgents(st.agents, agents);
        this.touchedSinceCp.add(st);
      }
    }
    for (const st of this.sessions.values()) st.committed = summaryOf(st);

    this.prunedBefore = await readPrunedBefore(this.db);
  }

  /** Sessions left open by a previous process (crash): end them so their chains are complete. */
  private async recoverDangling(): Promise<void> {
    const open = [...this.sessions.keys()];
    if (open.length) {
      this.log.warn({ sessions: open.length }, 'audit: ending sessions left open by a previous run');
      await Promise.all(open.map((s) => this.endSession(s, { reason: 'recovered-after-restart' })));
    }
    await this.checkpointNow();
  }

  /** Root hash of the tree at an earlier size, from the stored tiles. */
  async rootAt(size: number): Promise<Buffer> {
    return rangeHashFromTiles(this.tileSource())(0, size);
  }

  tileSource(opts: { snapshot?: unknown } = {}) {
    return async (level: number, index: number): Promise<Buffer[] | null> => {
      const v = await this.db.get(K.tileKey(level, index), opts as object);
      return v ? unpackTile(v) : null;
    };
  }

  /** Signs a checkpoint now if records arrived since the last one; resolves once it is committed. */
  async checkpointNow(): Promise<CheckpointInfo | null> {
    if (this.state === 'open' && !this.opts.readOnly) {
      this.checkpointWanted = true;
      this.kick();
      await this.drained();
      await this.settled();
      await this.publisher.flush();
    }
    return this.latestCheckpoint();
  }

  latestCheckpoint(): CheckpointInfo | null {
    return this.cp ? { size: this.cp.size, root: this.cp.root.toString('hex'), note: this.cp.note } : null;
  }

  /** Waits until every queued append is committed (or rejected). */
  async drained(): Promise<void> {
    while (this.pumping || this.queue.length) await this.idle;
  }

  /** Signed checkpoint notes, newest first. */
  checkpointHistory(limit: number): Promise<string[]> {
    return checkpointNotes(this.db, limit);
  }

  /** Public keys that verify this log's checkpoints (current and earlier ones). */
  publicKeys(): Verifier[] {
    return readPublicKeys(this.certsDir);
  }

  /** Replaces the signing key; checkpoints from now on carry the new key's signature. */
  async rotateKey(): Promise<Verifier> {
    if (this.opts.readOnly) throw new Error('audit log opened read-only');
    await this.drained();
    this.signer = rotateSigningKey(this.certsDir, this.origin);
    recordSigningKey(this.dataDir, this.certsDir, this.signer);
    this.log.info({ key: this.signer.text }, 'audit: checkpoint signing key rotated');
    return this.signer;
  }

  /**
   * Retention: deletes bodies of records older than retentionDays. A 'retention' record naming the
   * cut (prunedBefore) is committed first, so verify can tell pruned bodies from deleted ones.
   */
  async prune(now = Date.now()): Promise<{ prunedBefore: number; previous: number }> {
    const days = this.opts.retentionDays;
    const previous = this.prunedBefore;
    if (days === undefined || this.opts.readOnly) return { prunedBefore: previous, previous };
    const cutoff = now - days * DAY_MS;
    await this.drained();
    let lo = previous;
    let hi = this.frontier.size;
    await withReader(this.db, {}, async (reader) => {
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const e = await reader.get(mid);
        if (!e) throw new Error(`record ${mid} is missing; run wiretrail verify`);
        if (decodeRecord(e.record).ts < cutoff) lo = mid + 1;
        else hi = mid;
      }
    });
    if (lo <= previous) return { prunedBefore: previous, previous };
    // Commit the cut first (a 'retention' record plus the marker), then strip the bodies below it.
    const session = `wiretrail-retention-${lo}-${now}`;
    await this.enqueue(session, 'retention', { prunedBefore: lo, cutoff, days }, undefined, false, (seq) => [
      { type: 'put', key: K.RETENTION_KEY, value: Buffer.from(K.hex(seq, 16)) },
    ]);
    await this.endSession(session);
    this.prunedBefore = lo;
    // Blocks holding records below the cut, starting with the one that holds `previous`.
    const startBlock = await findBlock(this.db, previous);
    const from = startBlock ? startBlock[0]!.seq : 0;
    let blocks = 0;
    let batch: BatchOp[] = [];
    for await (const [key, value] of this.db.iterator({ gte: K.recordKey(from), lt: K.recordKey(lo) })) {
      const first = K.parseHex(key.slice(2), 16);
      if (first === null) continue;
      batch.push({ type: 'put', key, value: stripBodies(first, value, lo) });
      if (batch.length >= 64) {
        await this.db.batch(batch);
        blocks += batch.length;
        batch = [];
      }
    }
    if (batch.length) await this.db.batch(batch);
    blocks += batch.length;
    this.log.info({ prunedBefore: lo, days, blocks }, 'audit: retention pruned old bodies');
    return { prunedBefore: lo, previous };
  }

  /** The committed records of one session, in order, with bodies. [] when the session is unknown. */
  readSession(session: string): Promise<StoredRecord[]> {
    const live = this.sessions.get(session)?.committed;
    return readSession(this.db, session, this.prunedBefore, live ? live.lastSeq : undefined);
  }

  /** Session summaries in order of their first record (open sessions as committed so far). */
  async listSessions(filter: SessionFilter = {}): Promise<SessionSummary[]> {
    return listSessions(this.db, filter, (s) => this.sessions.get(s.session)?.committed ?? s);
  }

  async sessionSummary(session: string): Promise<SessionSummary | null> {
    return this.sessions.get(session)?.committed ?? sessionSummary(this.db, session);
  }

  /**
   * Verifies the whole log as it stands (a snapshot; writing goes on). The trusted keys are the
   * keyring in the certs folder; the outside copies are <data>/checkpoints/latest and the witness file.
   */
  async verify(opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<VerifyReport> {
    await this.settled();
    await this.publisher.flush();
    const external = await readExternalCheckpoints(this.dataDir, this.opts.witness?.file ? [this.opts.witness.file] : []);
    return verifyStore(this.db, { trusted: this.publicKeys(), external, onProgress: opts.onProgress });
  }

  /** Streams an export bundle; signs a fresh checkpoint first so every committed record is covered. */
  async *exportBundle(filter: ExportFilter, stats?: ExportStats): AsyncGenerator<Buffer> {
    const cp = await this.checkpointNow();
    if (!cp) throw new Error('the audit log is empty');
    yield* exportBundle({ db: this.db, checkpointNote: cp.note, publicKeys: this.publicKeys(), prunedBefore: this.prunedBefore }, filter, stats);
  }

  /** Flushes pending batches, writes a final checkpoint, releases the store. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') {
      await this.idle;
      return;
    }
    const wasOpen = this.state === 'open';
    if (this.timer) clearInterval(this.timer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.recoverTimer) clearTimeout(this.recoverTimer);
    this.recoverTimer = null;
    if (wasOpen && !this.opts.readOnly) {
      this.checkpointWanted = true;
      this.state = 'closing';
      this.kick();
      await this.drained();
      await this.settled();
      await this.publisher.flush();
    }
    this.state = 'closed';
    for (const p of this.queue.splice(0)) p.reject(new StoreUnavailableError('audit log is closed'));
    await this.db.close();
  }
}

function validateInput(input: AppendInput): string | null {
  if (typeof input.session !== 'string' || !input.session || input.session.length > MAX_SESSION_ID) {
    return `session must be a non-empty string of at most ${MAX_SESSION_ID} characters`;
  }
  if (!wellFormed(input.session)) return 'session contains a lone UTF-16 surrogate';
  if (!RECORD_KINDS.has(input.kind)) return `unknown record kind "${String(input.kind)}"`;
  if (input.meta === null || typeof input.meta !== 'object' || Array.isArray(input.meta)) return 'meta must be an object';
  const bad = findNonCanonical(input.meta);
  if (bad) return `meta is not canonical JSON: ${bad}`;
  if (input.body !== undefined && !(input.body instanceof Uint8Array)) return 'body must be a Uint8Array';
  return null;
}

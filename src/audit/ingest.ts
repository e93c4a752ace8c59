// The ingester: moves records from the segments into LevelDB in large atomic batches (one block of
// records, the Merkle tiles, session summaries, ids, open markers and, when due, a signed checkpoint)
// and makes each checkpoint durable before it is published and before the segments it covers go.
// Records reach it in memory from the writer (already encoded and hashed) or, on start, from the
// segment files. It keeps its own view of the sessions as of what LevelDB holds: the summaries are
// derived from ingested records only, so the store is always consistent on its own.
import type { Logger } from 'pino';
import type { AppendInput, SessionSummary } from './types.js';
import { decodeRecord, recordAgents, recordUsers } from './record.js';
import * as K from './layout.js';
import { leafHashHex } from './merkle.js';
import { TreeFrontier, TILE_WIDTH, rowCount, validTile, unpackTile, rangeHashFromTiles } from './tree.js';
import { checkpointBody, openCheckpoint, signNote, type Signer } from './note.js';
import { openDb, syncWriteAheadLog, type Db } from './store.js';
import { BlockBuilder } from './value.js';
import { entriesFrom, lastEntry } from './blocks.js';
import { CheckpointPublisher } from './publish.js';
import { encodeSummary, mergeAgents, mergeUsers, summaryOf, type SessionState } from './session-state.js';
import { readPrunedBefore } from './read.js';
import type { Frame } from './segment.js';
import { report } from '../metrics/events.js';
import { SessionIndexer } from './index/indexer.js';

/** One record on its way into LevelDB. */
export interface IngestItem {
  seq: number;
  ts: number;
  session: string;
  kind: AppendInput['kind'];
  /** Leaf hash (hex) of `record`. */
  hash: string;
  /** Canonical record bytes. */
  record: Buffer;
  body: Buffer | null;
  users: readonly string[];
  /** Agents (`name/version`) the record names (meta.agent). */
  agents: readonly string[];
  /** Memory this item holds (for back-pressure accounting). */
  bytes: number;
}

type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

export interface IngestOptions {
  dataDir: string;
  origin: string;
  /** The current checkpoint signer; null: ingest without signing (an offline reader replaying segments). */
  signer: () => Signer | null;
  intervalMs: number;
  everyRecords: number;
  /** fsync every LevelDB batch (power-loss mode); otherwise only checkpoints are synced. */
  sync: boolean;
  maxBatchRecords: number;
  maxBatchBytes: number;
  publisher: CheckpointPublisher | null;
  log: Logger;
  /** Every record below `size` is in LevelDB; `bytes` of queued memory were released. */
  onIngested?: (size: number, bytes: number) => void;
  /** A checkpoint of this size is durable in LevelDB (segments below it may go). */
  onDurable?: (size: number) => void;
}

interface CheckpointState {
  size: number;
  root: Buffer;
  note: string;
  at: number;
}

const EMPTY = Buffer.alloc(0);
/** How long records wait for more to join their LevelDB batch (readers see them in the tail meanwhile). */
const COALESCE_MS = 20;

export class Ingester {
  private state: 'open' | 'failed' | 'closed' = 'open';
  private frontier = new TreeFrontier();
  /** Sessions open as of what LevelDB holds (ended ones leave once their end is ingested). */
  readonly sessions = new Map<string, SessionState>();
  /** Secondary indexes (facts, field values, words), written in the same batches as the records. */
  readonly index = new SessionIndexer();
  private queue: IngestItem[] = [];
  private inflight: IngestItem[] = [];
  private pumping = false;
  private idle: Promise<void> = Promise.resolve();
  /** Starts a delayed pump now (set while one waits for its delay). */
  private wake: (() => void) | null = null;
  /** Callers waiting for ingest to catch up: no coalescing delay meanwhile. */
  private hurry = 0;
  private cp: CheckpointState | null = null;
  private checkpointWanted = false;
  private touchedSinceCp = new Set<SessionState>();
  private unsynced: CheckpointState | null = null;
  private syncing: Promise<void> | null = null;
  private recoverTimer: NodeJS.Timeout | null = null;
  private recoverDelay = 250;
  /** Records LevelDB holds (the frontier runs ahead of it while a batch is being written). */
  private stored = 0;
  prunedBefore = 0;
  lastTs = 0;

  private constructor(
    private database: Db,
    private readonly opts: IngestOptions,
  ) {}

  static async open(db: Db, opts: IngestOptions): Promise<Ingester> {
    const ing = new Ingester(db, opts);
    await ing.loadState();
    return ing;
  }

  get db(): Db {
    return this.database;
  }

  /** Records in LevelDB. */
  get size(): number {
    return this.stored;
  }

  /** True while LevelDB writes (false after a failed batch, until the store is reopened). */
  get healthy(): boolean {
    return this.state === 'open';
  }

  get latest(): CheckpointState | null {
    return this.cp;
  }

  /** Records handed over but not yet in LevelDB (queued or in the batch being written), in seq order. */
  tail(): IngestItem[] {
    return this.inflight.length ? [...this.inflight, ...this.queue] : [...this.queue];
  }

  push(items: IngestItem[]): void {
    for (const it of items) this.queue.push(it);
    this.kick();
  }

  /** Asks for a checkpoint with the next batch (or on its own when nothing is queued). */
  wantCheckpoint(): void {
    this.checkpointWanted = true;
    this.kick();
  }

  /** Periodic: a checkpoint when records arrived since the last one. */
  tick(): void {
    if (this.frontier.size > (this.cp?.size ?? 0) || this.queue.length) this.wantCheckpoint();
  }

  /**
   * Starts a pump. Unless someone waits for ingest (hurry), a full batch is queued or a checkpoint is
   * due, it starts COALESCE_MS later, so records of many turns share one LevelDB batch: each batch
   * rewrites the partial tree tiles (up to 8 KiB) and touched summaries, so a batch per event-loop
   * turn under a steady stream multiplied LevelDB's writes, memtable and compaction work.
   */
  private kick(): void {
    if (this.state !== 'open') return;
    if (this.pumping) {
      if (this.urgent()) this.wake?.();
      return;
    }
    this.pumping = true;
    const now = this.urgent();
    this.idle = new Promise<void>((done) => {
      const run = () => void this.pump().finally(done);
      // setImmediate at the least: records of the rest of this turn join the batch.
      if (now) return void setImmediate(run);
      const timer = setTimeout(() => {
        this.wake = null;
        run();
      }, COALESCE_MS);
      this.wake = () => {
        this.wake = null;
        clearTimeout(timer);
        setImmediate(run);
      };
    });
  }

  private urgent(): boolean {
    return this.hurry > 0 || this.checkpointWanted || this.queue.length >= this.opts.maxBatchRecords;
  }

  private async pump(): Promise<void> {
    let first = true;
    try {
      while (this.state === 'open') {
        const want = this.checkpointWanted && this.frontier.size + this.queue.length > (this.cp?.size ?? 0);
        if (!this.queue.length && !want) break;
        // What arrived while a batch was written waits for the next coalescing delay unless it is urgent.
        if (!first && !want && !this.urgent()) break;
        first = false;
        const batch = this.takeBatch();
        this.inflight = batch;
        try {
          const signed = await this.commit(batch);
          if (!batch.length && !signed) this.checkpointWanted = false; // nothing to sign (no signer)
        } catch (err) {
          this.queue.unshift(...batch); // still in memory: re-ingested after the store is reopened
          this.fail(err);
        } finally {
          this.inflight = [];
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.queue.length) this.kick();
  }

  private takeBatch(): IngestItem[] {
    let bytes = 0;
    let n = 0;
    // A batch ends where the next checkpoint is due, so a checkpoint covers at most everyRecords new records.
    const untilCp = (this.cp?.size ?? 0) + this.opts.everyRecords - this.frontier.size;
    const max = Math.min(this.opts.maxBatchRecords, untilCp > 0 ? untilCp : this.opts.everyRecords);
    while (n < this.queue.length && n < max) {
      bytes += this.queue[n]!.bytes;
      n++;
      if (bytes >= this.opts.maxBatchBytes) break;
    }
    return this.queue.splice(0, n);
  }

  /** Writes one batch; throws when LevelDB does (the caller keeps the items and fails over). True when it signed a checkpoint. */
  async commit(items: IngestItem[], opts: { checkpoint?: boolean } = {}): Promise<boolean> {
    const fresh = items.length && items[0]!.seq < this.frontier.size ? items.filter((i) => i.seq >= this.frontier.size) : items;
    const ops: BatchOp[] = [];
    let estimate = 0;
    for (const it of fresh) estimate += 32 + it.record.length + (it.body?.length ?? 0);
    const block = new BlockBuilder(estimate);
    const firstSeq = this.frontier.size;
    const touched = new Set<SessionState>();
    const firstSummary = new Map<SessionState, Buffer>();
    let bytes = 0;
    for (const it of fresh) {
      if (it.seq !== this.frontier.size) throw new Error(`audit ingest: record ${it.seq} arrived where ${this.frontier.size} was expected`);
      let st = this.sessions.get(it.session);
      const isNew = !st;
      if (!st) {
        st = { session: it.session, json: JSON.stringify(it.session), firstSeq: it.seq, next: 0, lastHash: null, lastSeq: it.seq, firstTs: it.ts, lastTs: it.ts, users: [], ended: false, committed: null };
        this.sessions.set(it.session, st);
      }
      block.addEncoded(isNew ? null : st.lastSeq, it.record, it.body);
      this.index.add(it, st.firstSeq, ops);
      this.frontier.appendHex(it.hash);
      if (it.kind === 'retention') ops.push({ type: 'put', key: K.RETENTION_KEY, value: Buffer.from(K.hex(it.seq, 16)) });
      st.next++;
      st.lastHash = it.hash;
      st.lastSeq = it.seq;
      st.lastTs = it.ts;
      if (it.ts > this.lastTs) this.lastTs = it.ts;
      if (it.users.length) st.users = mergeUsers(st.users, it.users);
      if (it.agents.length) st.agents = mergeAgents(st.agents, it.agents);
      if (it.kind === 'session-end') st.ended = true;
      if (isNew) firstSummary.set(st, encodeSummary(summaryOf(st)));
      touched.add(st);
      this.touchedSinceCp.add(st);
      bytes += it.bytes;
    }
    if (block.length) ops.push({ type: 'put', key: K.recordKey(firstSeq), value: block.finish() });
    this.index.flush(ops, (session) => this.sessions.get(session)?.ended !== false);

    const size = this.frontier.size;
    const now = Date.now();
    const cpSize = this.cp?.size ?? 0;
    const signer = this.opts.signer();
    const due = this.checkpointWanted || opts.checkpoint || size - cpSize >= this.opts.everyRecords || now - (this.cp?.at ?? 0) >= this.opts.intervalMs;
    const withCp = signer !== null && size > cpSize && due;
    // Session summaries: at the first record, at the end, and for every open session touched since
    // the last checkpoint in the checkpoint's batch (so a restart only rescans the unsigned tail).
    const summaries = new Map<SessionState, Buffer>();
    for (const [st, first] of firstSummary) {
      ops.push({ type: 'put', key: K.sessionIdKey(st.session), value: Buffer.from(K.hex(st.firstSeq, 16)) });
      if (!st.ended) ops.push({ type: 'put', key: K.openKey(st.firstSeq), value: EMPTY });
      summaries.set(st, first);
    }
    for (const st of touched) {
      if (st.ended) {
        summaries.set(st, encodeSummary(summaryOf(st)));
        if (!firstSummary.has(st)) ops.push({ type: 'del', key: K.openKey(st.firstSeq) });
      }
    }
    if (withCp) for (const st of this.touchedSinceCp) if (!st.ended) summaries.set(st, encodeSummary(summaryOf(st)));
    for (const [st, v] of summaries) ops.push({ type: 'put', key: K.summaryKey(st.firstSeq), value: v });
    for (const t of this.frontier.takeWrites()) ops.push({ type: 'put', key: K.tileKey(t.level, t.index), value: t.data });

    let cp: CheckpointState | null = null;
    if (withCp) {
      const root = this.frontier.root();
      const note = signNote(checkpointBody({ origin: this.opts.origin, size, root }), [signer]);
      ops.push({ type: 'put', key: K.checkpointKey(size), value: Buffer.from(note) });
      cp = { size, root, note, at: now };
    }
    if (ops.length) await this.database.batch(ops, { sync: this.opts.sync });
    this.stored = size;
    if (fresh.length) report.auditBatch(fresh.length); // records per LevelDB batch (wiretrail_audit_batch_records)
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
    this.opts.onIngested?.(size, bytes);
    return cp !== null;
  }

  /**
   * A committed checkpoint goes outside the store (latest file, witness) only once it is durable.
   * Rather than a LevelDB sync write, which holds up every write queued behind it for the length of
   * an fsync (measured: a quarter of the append throughput with 64 sessions), the write-ahead log
   * is fdatasync'ed beside the ingester; one sync at a time, covering every checkpoint before it.
   */
  private settle(cp: CheckpointState): void {
    if (this.opts.sync) {
      this.durable(cp);
      return;
    }
    this.unsynced = cp;
    this.syncing ??= this.syncLoop().finally(() => (this.syncing = null));
  }

  private durable(cp: CheckpointState): void {
    this.opts.publisher?.publish(cp.note, cp.size);
    this.opts.onDurable?.(cp.size);
  }

  private async syncLoop(): Promise<void> {
    for (let cp = this.unsynced; cp; cp = this.unsynced) {
      this.unsynced = null;
      try {
        await syncWriteAheadLog(this.opts.dataDir);
      } catch (err) {
        this.fail(err);
        return;
      }
      this.durable(cp);
    }
  }

  /** Waits until every committed checkpoint is durable and handed to the publisher. */
  async settled(): Promise<void> {
    while (this.syncing) await this.syncing;
    await this.opts.publisher?.flush();
  }

  /** Waits until everything handed over is in LevelDB (or the store failed). */
  async drained(): Promise<void> {
    this.hurry++;
    try {
      this.kick();
      while (this.state === 'open' && (this.pumping || this.queue.length)) await this.idle;
    } finally {
      this.hurry--;
    }
  }

  /** Waits until every record below `size` is in LevelDB, however long the store takes to recover. */
  async caughtUp(size: number): Promise<void> {
    this.hurry++;
    try {
      await this.waitFor(size);
    } finally {
      this.hurry--;
    }
  }

  private async waitFor(size: number): Promise<void> {
    this.kick();
    while (this.stored < size && this.state !== 'closed') {
      if (this.state === 'open' && (this.pumping || this.queue.length)) await this.idle;
      // Records still staged in the writer arrive at the end of the turn: yield to the event loop
      // (a microtask loop here would starve the very flush it waits for).
      else await new Promise((r) => (this.state === 'open' ? setImmediate(r) : setTimeout(r, 50)));
    }
  }

  /** Signs a checkpoint over everything handed over so far and waits until it is durable and published. */
  async checkpoint(): Promise<void> {
    if (this.state !== 'open') return;
    this.wantCheckpoint();
    await this.drained();
    await this.settled();
  }

  /** LevelDB failed a write: stop ingesting (records stay queued), reopen it until it writes again. */
  private fail(err: unknown): void {
    const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    if (this.state === 'open') {
      this.state = 'failed';
      this.opts.log.error({ err: reason }, 'audit: the store cannot write; records stay in the segments until it recovers');
    }
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
      await this.database.close().catch(() => undefined);
      this.database = await openDb(this.opts.dataDir, { create: true });
      await this.loadState();
      await this.database.batch(
        [
          { type: 'put', key: K.PROBE_KEY, value: Buffer.from(String(Date.now())) },
          { type: 'del', key: K.PROBE_KEY },
        ],
        { sync: true },
      );
    } catch (err) {
      this.recoverDelay = Math.min(this.recoverDelay * 2, 5000);
      this.opts.log.error({ err: (err as Error).message, retryMs: this.recoverDelay }, 'audit: store still cannot write');
      this.scheduleRecover();
      return;
    }
    this.recoverDelay = 250;
    this.state = 'open';
    // Records that clients already received get a signed checkpoint at once, not at the next interval.
    this.checkpointWanted = true;
    this.opts.log.warn({ size: this.frontier.size, queued: this.queue.length }, 'audit: store writes again; ingest resumed');
    this.kick();
  }

  /** Record frames read back from a segment, as items. */
  static itemOf(frame: Frame): IngestItem {
    const r = decodeRecord(frame.record);
    if (r.seq !== frame.seq) throw new Error(`segment frame ${frame.seq} holds record ${r.seq}`);
    const body = r.bodyHash !== null ? (frame.body ?? EMPTY) : null;
    return { seq: r.seq, ts: r.ts, session: r.session, kind: r.kind, hash: leafHashHex(frame.record), record: Buffer.from(frame.record), body: body && Buffer.from(body), users: recordUsers(r.meta), agents: recordAgents(r.meta), bytes: frame.record.length + (body?.length ?? 0) };
  }

  /** Rebuilds the in-memory state (tree edge, open sessions, last checkpoint) from LevelDB. */
  private async loadState(): Promise<void> {
    const db = this.database;
    const last = await lastEntry(db);
    const size = last ? last.seq + 1 : 0;
    this.lastTs = last ? decodeRecord(last.record).ts : 0;
    const rows: Buffer[] = [];
    for (let k = 0; rowCount(size, k) > 0; k++) {
      const count = rowCount(size, k);
      const partial = count % TILE_WIDTH;
      rows[k] = Buffer.alloc(0);
      if (!partial) continue;
      const v = await db.get(K.tileKey(k, Math.floor(count / TILE_WIDTH)));
      if (!v || !validTile(v) || v.length < partial * 32) throw new Error(`audit store is inconsistent: tree tile ${k} does not match ${size} records; run wiretrail verify`);
      rows[k] = v.subarray(0, partial * 32);
    }
    this.frontier = TreeFrontier.restore(size, rows);
    this.stored = size;

    this.cp = null;
    const cps = await db.values({ ...K.prefixRange(K.CHECKPOINT_PREFIX), reverse: true, limit: 1 }).all();
    if (cps[0]) {
      const note = cps[0].toString('utf8');
      const c = openCheckpoint(note, []);
      if (c.size > size) throw new Error(`audit store is inconsistent: checkpoint covers ${c.size} records but only ${size} exist; run wiretrail verify`);
      const root = c.size === size ? this.frontier.root() : await rangeHashFromTiles(this.tileSource())(0, c.size);
      if (!root.equals(c.root)) throw new Error(`audit store is inconsistent: the tree does not match checkpoint ${c.size}; run wiretrail verify`);
      this.cp = { size: c.size, root: c.root, note, at: Date.now() };
    }

    // Open sessions: their summaries are current as of the last checkpoint; replay the unsigned tail.
    this.sessions.clear();
    this.touchedSinceCp.clear();
    for await (const key of db.keys(K.prefixRange(K.OPEN_PREFIX))) {
      const v = await db.get(K.summaryKey(K.parseHex(key.slice(K.OPEN_PREFIX.length), 16) ?? -1));
      if (!v) throw new Error(`audit store is inconsistent: open session ${key} has no summary; run wiretrail verify`);
      const s = JSON.parse(v.toString('utf8')) as SessionSummary;
      this.sessions.set(s.session, { ...s, json: JSON.stringify(s.session), next: s.count, lastHash: s.lastHash || null, committed: null });
    }
    const from = this.cp?.size ?? 0;
    if (from < size) {
      for await (const { record } of entriesFrom(db, from)) {
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
    await this.index.restore(db, [...this.sessions.values()]);
    this.prunedBefore = await readPrunedBefore(db);
    // Queued records already in the store (a batch that committed although its write reported an error).
    const kept = this.queue.filter((i) => i.seq >= size);
    let released = 0;
    for (const i of this.queue) if (i.seq < size) released += i.bytes;
    this.queue = kept;
    if (released) this.opts.onIngested?.(size, released);
  }

  tileSource(opts: { snapshot?: unknown } = {}) {
    return async (level: number, index: number): Promise<Buffer[] | null> => {
      const v = await this.database.get(K.tileKey(level, index), opts as object);
      return v ? unpackTile(v) : null;
    };
  }

  /** Stops: the last batch and checkpoint are the caller's to request first (checkpoint()). */
  async close(): Promise<void> {
    this.state = 'closed';
    if (this.recoverTimer) clearTimeout(this.recoverTimer);
    this.recoverTimer = null;
    await this.idle;
    await this.database.close();
  }
}

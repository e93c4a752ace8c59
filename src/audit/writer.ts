// The writer: one invariant, "a returned append is in the OS". Every record is built synchronously
// (canonical JSON, leaf hash, session chain, seq) into the current write group; the group goes to
// the active segment with one write call, either at the end of the event-loop turn (append(), whose
// promise resolves then) or at once (appendSync(), which returns once the record is written). Written records
// are handed to the ingester in memory. A failed write (ENOSPC, EIO) fails closed: every record of
// the group is refused, later appends are refused, and the writer repairs the segment and resumes
// once a probe write succeeds and the ingester holds everything written before the failure.
import { closeSync, fdatasyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { StoreUnavailableError, type AppendInput, type AppendResult, type AuditRecord, type JsonObject } from './types.js';
import { RECORD_KINDS, RECORD_VERSION, MAX_SESSION_ID, recordAgents, recordText, recordUsers, sha256Hex, wellFormed } from './record.js';
import * as K from './layout.js';
import { ActiveSegment, FrameBuilder, Slab, removeSegment } from './segment.js';
import type { Ingester, IngestItem } from './ingest.js';

export interface WriterOptions {
  dataDir: string;
  origin: string;
  /** fdatasync the segment after every write group (power-loss mode). */
  sync: boolean;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  /** Written but not yet ingested bytes above which new work is refused (writable false); twice this refuses every append. */
  maxLagBytes: number;
  log: Logger;
}

interface WriterSession {
  json: string;
  next: number;
  lastHash: string | null;
  lastSeq: number;
  ended: boolean;
}

/** Where a staged record sits in the group buffer, and what the ingester needs to know about it. */
interface Staged {
  seq: number;
  ts: number;
  session: string;
  kind: AppendInput['kind'];
  hash: string;
  start: number;
  recordEnd: number;
  end: number;
  hasBody: boolean;
  users: readonly string[];
  agents: readonly string[];
}

interface Waiter {
  result: AppendResult;
  resolve(r: AppendResult): void;
  reject(e: Error): void;
}

interface ClosedSegment {
  path: string;
  lastSeq: number;
}

const EMPTY = Buffer.alloc(0);
const PROBE_BYTES = 64 * 1024;

export class AuditWriter {
  private state: 'open' | 'failed' | 'closed' = 'open';
  private seq: number;
  private lastTs: number;
  private readonly originJson: string;
  private sessions = new Map<string, WriterSession>();
  /** Ended sessions in end order; forgotten once the ingester holds their end (then i/ answers). */
  private ended: { session: string; seq: number }[] = [];
  private group: FrameBuilder | null = null;
  private readonly slab = new Slab();
  private staged: Staged[] = [];
  private waiters: Waiter[] = [];
  private flushScheduled = false;
  private segment: ActiveSegment;
  private closedSegments: ClosedSegment[] = [];
  private lag = 0;
  private backlogged = false;
  private recoverTimer: NodeJS.Timeout | null = null;
  private recoverDelay = 250;
  private failReason = '';

  constructor(
    private readonly ingester: Ingester,
    private readonly opts: WriterOptions,
    replayed: ClosedSegment[],
  ) {
    this.originJson = JSON.stringify(opts.origin);
    this.seq = ingester.size;
    this.lastTs = ingester.lastTs;
    this.adoptSessions();
    this.closedSegments = replayed;
    this.segment = ActiveSegment.create(opts.dataDir, this.seq, opts.sync);
  }

  /** Records appended (the next seq). */
  get size(): number {
    return this.seq;
  }

  /** False while failing or while ingest lags too far: new intercepted work is refused meanwhile. */
  get writable(): boolean {
    return this.state === 'open' && !this.backlogged;
  }

  get status(): 'writable' | 'failing' | 'backlogged' | 'closed' {
    return this.state === 'failed' ? 'failing' : this.state === 'closed' ? 'closed' : this.backlogged ? 'backlogged' : 'writable';
  }

  /** Written bytes the ingester has not yet put into LevelDB (held in memory until it does). */
  get lagBytes(): number {
    return this.lag;
  }

  /** Builds the record now; resolves once its write group is in the OS (end of this turn). */
  append(input: AppendInput, end = false): Promise<AppendResult> {
    let result: AppendResult;
    try {
      result = this.stage(input, end);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.waiters.push({ result, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Builds the record and writes it (with the rest of this turn's group) at once. Throws StoreUnavailableError on failure. */
  appendSync(input: AppendInput, end = false): AppendResult {
    const result = this.stage(input, end);
    this.flush();
    return result;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate: the end of this event-loop turn (after the I/O callbacks of the poll phase), so
    // every record produced in the turn goes out in one write; a microtask would cut the group
    // short and let a caller that awaits appends in a loop starve the event loop.
    setImmediate(() => {
      this.flushScheduled = false;
      try {
        this.flush();
      } catch {
        // the waiters were rejected by flush()
      }
    });
  }

  private stage(input: AppendInput, end: boolean): AppendResult {
    if (this.state !== 'open') throw new StoreUnavailableError(this.unavailableReason());
    if (this.lag >= 2 * this.opts.maxLagBytes) {
      throw new StoreUnavailableError(`audit ingest is ${Math.round(this.lag / 1048576)} MiB behind; refusing to record more until it catches up`);
    }
    const bad = validateInput(input);
    if (bad) throw new TypeError(`audit append: ${bad}`);
    const { session, kind, body } = input;
    let st = this.sessions.get(session);
    if (st?.ended) throw new Error(`audit: session "${session}" has ended`);
    if (!st && this.existsInStore(session)) throw new Error(`audit: session "${session}" already exists in the log and has ended`);
    const seq = this.seq;
    const now = Date.now();
    const ts = now > this.lastTs ? now : this.lastTs;
    const sessionSeq = st ? st.next : 0;
    const sessionPrev = st ? st.lastHash : null;
    const meta: JsonObject = end ? { ...input.meta, count: sessionSeq, lastHash: sessionPrev } : input.meta;
    const rec: AuditRecord = { v: RECORD_VERSION, origin: this.opts.origin, seq, ts, session, sessionSeq, sessionPrev, kind, meta, bodyHash: body ? sha256Hex(body) : null };
    const sessionJson = st ? st.json : JSON.stringify(session);
    let text: string;
    try {
      text = recordText(rec, this.originJson, sessionJson); // validates meta while it encodes it
    } catch (err) {
      throw new TypeError(`audit append: ${(err as Error).message}`);
    }
    const group = (this.group ??= new FrameBuilder(this.slab, 4096 + (body?.byteLength ?? 0) + text.length * 3));
    const f = group.add(seq, text, body);
    this.staged.push({ seq, ts, session, kind, hash: f.hash, start: f.start, recordEnd: f.recordEnd, end: f.end, hasBody: body !== undefined, users: recordUsers(meta), agents: recordAgents(meta) });
    if (!st) {
      st = { json: sessionJson, next: 0, lastHash: null, lastSeq: seq, ended: false };
      this.sessions.set(session, st);
    }
    st.next = sessionSeq + 1;
    st.lastHash = f.hash;
    st.lastSeq = seq;
    if (end) {
      st.ended = true;
      this.ended.push({ session, seq });
    }
    this.seq = seq + 1;
    this.lastTs = ts;
    return { seq, hash: f.hash };
  }

  /** A session id the store already holds (an ended session from earlier): ids are unique for the life of the log. */
  private existsInStore(session: string): boolean {
    try {
      return this.ingester.db.getSync(K.sessionIdKey(session)) !== undefined;
    } catch (err) {
      throw new StoreUnavailableError(`audit store cannot be read to check the session id: ${(err as Error).message}`, { cause: err });
    }
  }

  private unavailableReason(): string {
    if (this.state === 'failed') return `audit store cannot write: ${this.failReason}`;
    return 'audit log is closed';
  }

  /** Writes the staged group with one write call and hands its records to the ingester. */
  flush(): void {
    const group = this.group;
    if (!group) return;
    const staged = this.staged;
    const waiters = this.waiters;
    this.group = null;
    this.staged = [];
    this.waiters = [];
    const buf = group.finish();
    try {
      if (this.state !== 'open') throw new StoreUnavailableError(this.unavailableReason());
      this.segment.write(buf, staged[staged.length - 1]!.seq, this.opts.sync);
    } catch (err) {
      const e = err instanceof StoreUnavailableError ? err : this.fail(err);
      for (const w of waiters) w.reject(e);
      throw e;
    }
    const items: IngestItem[] = new Array(staged.length);
    for (let i = 0; i < staged.length; i++) {
      const s = staged[i]!;
      const body = s.hasBody ? (s.recordEnd < s.end ? buf.subarray(s.recordEnd, s.end) : EMPTY) : null;
      items[i] = { seq: s.seq, ts: s.ts, session: s.session, kind: s.kind, hash: s.hash, record: buf.subarray(s.start, s.recordEnd), body, users: s.users, agents: s.agents, bytes: s.end - s.start + 64 };
      this.lag += s.end - s.start + 64;
    }
    if (this.lag > this.opts.maxLagBytes && !this.backlogged) {
      this.backlogged = true;
      this.opts.log.warn({ lagBytes: this.lag }, 'audit: ingest is behind; refusing new intercepted work until it catches up');
    }
    this.ingester.push(items);
    for (const w of waiters) w.resolve(w.result);
    if (this.segment.size >= this.opts.segmentBytes) this.rotate();
  }

  /** The ingester holds every record below `size`; `bytes` of memory were released. */
  onIngested(size: number, bytes: number): void {
    this.lag = Math.max(0, this.lag - bytes);
    if (this.backlogged && this.lag < this.opts.maxLagBytes / 2) {
      this.backlogged = false;
      this.opts.log.info({ lagBytes: this.lag }, 'audit: ingest caught up; accepting new work');
    }
    let n = 0;
    while (n < this.ended.length && this.ended[n]!.seq < size) {
      const e = this.ended[n++]!;
      const st = this.sessions.get(e.session);
      if (st?.ended) this.sessions.delete(e.session);
    }
    if (n) this.ended.splice(0, n);
  }

  /** A checkpoint of `size` is durable in LevelDB: segments wholly below it go. */
  onDurable(size: number): void {
    let n = 0;
    while (n < this.closedSegments.length && this.closedSegments[n]!.lastSeq < size) removeSegment(this.closedSegments[n++]!.path);
    if (n) this.closedSegments.splice(0, n);
    // Keep the segment folder small on a quiet log: once everything written is covered, start afresh.
    if (this.state === 'open' && !this.group && this.segment.lastSeq >= this.segment.firstSeq && this.segment.lastSeq < size) {
      try {
        this.rotate();
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'audit: could not start a new segment (retried later)');
      }
    }
  }

  private rotate(): void {
    const next = ActiveSegment.create(this.opts.dataDir, this.seq, this.opts.sync);
    const old = this.segment;
    old.close();
    this.segment = next;
    if (old.lastSeq >= old.firstSeq) this.closedSegments.push({ path: old.path, lastSeq: old.lastSeq });
    else removeSegment(old.path);
  }

  private fail(err: unknown): StoreUnavailableError {
    const reason = (err as Error).message;
    if (this.state === 'open') {
      this.state = 'failed';
      this.failReason = reason;
      this.opts.log.fatal({ err: reason }, 'AUDIT LOG CANNOT WRITE: intercepted traffic is refused until the store recovers (check disk space and I/O errors)');
    }
    this.scheduleRecover();
    return new StoreUnavailableError(`audit store cannot write: ${reason}`, { cause: err });
  }

  private scheduleRecover(): void {
    if (this.recoverTimer || this.state !== 'failed') return;
    this.recoverTimer = setTimeout(() => {
      this.recoverTimer = null;
      void this.recover();
    }, this.recoverDelay);
  }

  /** Cut the segment back to its last whole frame, prove a synced write works, resume from what is recorded. */
  private async recover(): Promise<void> {
    if (this.state !== 'failed') return;
    try {
      this.segment.repair();
      probeWrite(K.segmentDir(this.opts.dataDir));
      await this.ingester.caughtUp(this.segment.lastSeq + 1);
      if (this.ingester.size !== this.segment.lastSeq + 1) throw new Error(`the store holds ${this.ingester.size} records, the segments ${this.segment.lastSeq + 1}`);
      if (!this.ingester.healthy) throw new Error('the store is still failing');
    } catch (err) {
      this.recoverDelay = Math.min(this.recoverDelay * 2, 5000);
      this.opts.log.error({ err: (err as Error).message, retryMs: this.recoverDelay }, 'audit: store still cannot write');
      this.scheduleRecover();
      return;
    }
    if (this.state !== 'failed') return;
    this.recoverDelay = 250;
    this.seq = this.ingester.size;
    this.adoptSessions();
    this.state = 'open';
    this.opts.log.warn({ size: this.seq }, 'audit: store writes again; recording resumed');
    // Records that clients received before the failure get a signed checkpoint now, not at the next interval.
    this.ingester.wantCheckpoint();
  }

  /** Session chains as the store holds them (start, and after a failed write whose records were refused). */
  private adoptSessions(): void {
    this.sessions.clear();
    this.ended = [];
    for (const st of this.ingester.sessions.values()) {
      if (!st.ended) this.sessions.set(st.session, { json: st.json, next: st.next, lastHash: st.lastHash, lastSeq: st.lastSeq, ended: false });
    }
  }

  /** Sessions still open (for ending them after a crash). */
  openSessions(): string[] {
    return [...this.sessions].filter(([, s]) => !s.ended).map(([id]) => id);
  }

  /** Test hook: the active segment's descriptor (closing it injects an I/O error). */
  get segmentDescriptor(): number {
    return this.segment.descriptor;
  }

  close(): void {
    if (this.state === 'open') {
      try {
        this.flush();
      } catch {
        // refused records were reported to their callers
      }
    }
    this.state = 'closed';
    if (this.recoverTimer) clearTimeout(this.recoverTimer);
    this.recoverTimer = null;
    for (const w of this.waiters.splice(0)) w.reject(new StoreUnavailableError('audit log is closed'));
    this.segment.close();
  }

  /** After close and a final durable checkpoint: remove every segment the store now holds. */
  removeIngestedSegments(size: number): void {
    this.onDurable(size);
    if (this.segment.lastSeq < size) removeSegment(this.segment.path);
  }
}

/** Proves the segment folder takes a synced write of real size (a full disk fails here). */
function probeWrite(dir: string): void {
  const path = join(dir, '.probe');
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, Buffer.alloc(PROBE_BYTES));
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
}

/** Cheap shape checks; meta values are checked while they are encoded (recordText), not walked twice. */
function validateInput(input: AppendInput): string | null {
  if (typeof input.session !== 'string' || !input.session || input.session.length > MAX_SESSION_ID) {
    return `session must be a non-empty string of at most ${MAX_SESSION_ID} characters`;
  }
  if (!wellFormed(input.session)) return 'session contains a lone UTF-16 surrogate';
  if (!RECORD_KINDS.has(input.kind)) return `unknown record kind "${String(input.kind)}"`;
  if (input.meta === null || typeof input.meta !== 'object' || Array.isArray(input.meta)) return 'meta must be an object';
  if (input.body !== undefined && !(input.body instanceof Uint8Array)) return 'body must be a Uint8Array';
  return null;
}

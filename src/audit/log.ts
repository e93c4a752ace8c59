// The audit log as the proxy and the admin API see it: a thin composition of the writer (segments,
// fail closed), the ingester (LevelDB, checkpoints), restore (replay at start, ending dangling
// sessions), retention and the read side. Each lives in its own module; this one wires their
// lifecycle together and adds nothing of its own.
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { StoreUnavailableError, type AppendInput, type AppendResult, type JsonObject, type Recorder, type SessionSummary, type StoredRecord } from './types.js';
import { validKeyName, type Signer, type Verifier } from './note.js';
import { loadOrCreateSigner, readPublicKeys, rotateSigningKey } from './signing-key.js';
import { recordSigningKey } from './key-record.js';
import { openDb, type Db } from './store.js';
import { CheckpointPublisher, type WitnessTarget } from './publish.js';
import { rangeHashFromTiles } from './tree.js';
import { Ingester } from './ingest.js';
import { AuditWriter } from './writer.js';
import { replaySegments } from './restore.js';
import { prune } from './retention.js';
import { LiveReader } from './live-read.js';
import type { AuditReader, SessionFilter } from './reader.js';
import type { VerifyReport } from './verify.js';
import type { ExportFilter, ExportStats } from './bundle.js';

export interface AuditOptions {
  /** LevelDB lives in <dataDir>/log, segments in <dataDir>/segments; the latest checkpoint is also copied to <dataDir>/checkpoints/latest. */
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
   * Power-loss mode (default false). Either way a returned append is in the OS (a crash of the
   * process loses nothing that was appended); true also fdatasyncs the segment after every write
   * group and every LevelDB batch, so every returned append survives a power loss.
   */
  syncEveryBatch?: boolean;
  /** Upper bounds of one LevelDB ingest batch (records, bytes). */
  maxBatchRecords?: number;
  maxBatchBytes?: number;
  /** A segment file is closed and a new one started past this size (64 MiB). */
  segmentBytes?: number;
  /** Written-but-not-ingested bytes above which new intercepted work is refused (32 MiB); twice this refuses every append. */
  maxIngestLagBytes?: number;
  /** Open without writing records (CLI readers); append() rejects. Segment records are still brought into the store. */
  readOnly?: boolean;
}

export interface CheckpointInfo {
  size: number;
  root: string;
  note: string;
}

export function defaultOrigin(): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'localhost';
  return `wiretrail.local/${host}/log`;
}

export class AuditLog implements Recorder {
  readonly origin: string;
  readonly dataDir: string;
  readonly certsDir: string;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private writer: AuditWriter | null = null;
  /** The read contract over this running log (records still only in a segment included). */
  readonly reader: AuditReader;

  private constructor(
    private readonly ingester: Ingester,
    private signer: Signer | null,
    private readonly publisher: CheckpointPublisher,
    private readonly log: Logger,
    private readonly opts: AuditOptions,
  ) {
    this.origin = opts.origin ?? defaultOrigin();
    this.dataDir = opts.dataDir;
    this.certsDir = opts.certsDir;
    const self = this;
    this.reader = new LiveReader({
      ingester,
      dataDir: opts.dataDir,
      witnessFiles: opts.witness?.file ? [opts.witness.file] : [],
      drained: () => self.drained(),
      checkpointNow: async () => (await self.checkpointNow())?.note ?? null,
      publicKeys: () => self.publicKeys(),
    });
  }

  static async open(opts: AuditOptions): Promise<AuditLog> {
    const origin = opts.origin ?? defaultOrigin();
    if (!validKeyName(origin)) throw new Error(`audit origin "${origin}" must not contain spaces or '+'`);
    const log = opts.logger ?? pino({ name: 'audit' }, pino.destination(2));
    const signer = opts.readOnly ? null : loadOrCreateSigner(opts.certsDir, origin);
    const db = await openDb(opts.dataDir, { create: !opts.readOnly });
    // Only the process holding the store's lock says which key signs it.
    if (signer) {
      try {
        recordSigningKey(opts.dataDir, opts.certsDir, signer);
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
    }
    const publisher = new CheckpointPublisher(opts.dataDir, opts.witness, log);
    let self: AuditLog | null = null;
    let ingester: Ingester;
    try {
      ingester = await Ingester.open(db, {
        dataDir: opts.dataDir,
        origin,
        signer: () => self?.signer ?? signer,
        intervalMs: opts.checkpointIntervalMs ?? 1000,
        everyRecords: opts.checkpointEveryRecords ?? 1000,
        sync: opts.syncEveryBatch ?? false,
        maxBatchRecords: opts.maxBatchRecords ?? 4096,
        maxBatchBytes: opts.maxBatchBytes ?? 16 << 20,
        publisher: opts.readOnly ? null : publisher,
        log,
        onIngested: (size, bytes) => self?.writer?.onIngested(size, bytes),
        onDurable: (size) => self?.writer?.onDurable(size),
      });
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    self = new AuditLog(ingester, signer, publisher, log, opts);
    try {
      const replay = await replaySegments(ingester, opts.dataDir, log, { cut: !opts.readOnly });
      if (!opts.readOnly) await self.startWriting(replay.segments);
    } catch (err) {
      await self.close().catch(() => undefined);
      throw err;
    }
    return self;
  }

  private async startWriting(replayed: { path: string; lastSeq: number }[]): Promise<void> {
    const writer = new AuditWriter(
      this.ingester,
      {
        dataDir: this.dataDir,
        origin: this.origin,
        sync: this.opts.syncEveryBatch ?? false,
        segmentBytes: this.opts.segmentBytes ?? 64 << 20,
        maxLagBytes: this.opts.maxIngestLagBytes ?? 32 << 20,
        log: this.log,
      },
      replayed,
    );
    this.writer = writer;
    // Sessions left open by a previous process (crash): end them so their chains are complete.
    const open = writer.openSessions();
    if (open.length) {
      this.log.warn({ sessions: open.length }, 'audit: ending sessions left open by a previous run');
      await Promise.all(open.map((s) => writer.append({ session: s, kind: 'session-end', meta: { reason: 'recovered-after-restart' } }, true)));
    }
    await this.checkpointNow();
    this.timer = setInterval(() => this.ingester.tick(), this.opts.checkpointIntervalMs ?? 1000);
    this.timer.unref();
    if (this.opts.retentionDays !== undefined) {
      const run = () => void this.prune().catch((e) => this.log.error({ err: (e as Error).message }, 'audit: retention failed'));
      this.retentionTimer = setInterval(run, 3_600_000);
      this.retentionTimer.unref();
      await this.prune().catch((e) => this.log.error({ err: (e as Error).message }, 'audit: retention failed'));
    }
  }

  /** False while the store fails or ingest lags too far behind: the proxy refuses new intercepted work (503). */
  get writable(): boolean {
    return !this.closed && this.writer !== null && this.writer.writable;
  }

  /** 'writable', 'failing' (a write failed; recovering), 'backlogged' (ingest behind), 'closed' or 'read-only'. */
  get status(): string {
    if (this.closed) return 'closed';
    return this.writer ? this.writer.status : 'read-only';
  }

  /** Records appended (committed to a segment or the store). */
  get size(): number {
    return this.writer ? this.writer.size : this.ingester.size;
  }

  /** Bytes written to segments and not yet in LevelDB. */
  get ingestLagBytes(): number {
    return this.writer?.lagBytes ?? 0;
  }

  /** The LevelDB handle (reopened after a store failure: read it anew each time). */
  get store(): Db {
    return this.ingester.db;
  }

  get prunedBeforeSeq(): number {
    return this.ingester.prunedBefore;
  }

  /** Appends a record; resolves once it is in the OS (end of this turn). */
  append(input: AppendInput): Promise<AppendResult> {
    if (!this.writer) return Promise.reject(new StoreUnavailableError('audit log opened read-only'));
    return this.writer.append(input);
  }

  /** Appends a record and returns once it is in the OS; throws StoreUnavailableError when it cannot be. */
  appendSync(input: AppendInput): AppendResult {
    if (!this.writer) throw new StoreUnavailableError('audit log opened read-only');
    return this.writer.appendSync(input);
  }

  endSession(session: string, meta: JsonObject = {}): Promise<AppendResult> {
    if (!this.writer) return Promise.reject(new StoreUnavailableError('audit log opened read-only'));
    return this.writer.append({ session, kind: 'session-end', meta }, true);
  }

  /** Root hash of the tree at an earlier size, from the stored tiles. */
  async rootAt(size: number): Promise<Buffer> {
    return rangeHashFromTiles(this.ingester.tileSource())(0, size);
  }

  tileSource(opts: { snapshot?: unknown } = {}) {
    return this.ingester.tileSource(opts);
  }

  /** Signs a checkpoint over every record appended so far; resolves once it is durable and published. */
  async checkpointNow(): Promise<CheckpointInfo | null> {
    if (this.writer && this.writer.status !== 'closed') {
      await this.ingester.caughtUp(this.writer.size);
      await this.ingester.checkpoint();
    }
    return this.latestCheckpoint();
  }

  latestCheckpoint(): CheckpointInfo | null {
    const cp = this.ingester.latest;
    return cp ? { size: cp.size, root: cp.root.toString('hex'), note: cp.note } : null;
  }

  /** Waits until every appended record is in LevelDB. */
  async drained(): Promise<void> {
    await this.ingester.caughtUp(this.size);
  }

  /** @deprecated Read through `reader.checkpoints(limit)`. */
  checkpointHistory(limit: number): Promise<string[]> {
    return this.reader.checkpoints(limit);
  }

  /** Public keys that verify this log's checkpoints (current and earlier ones). */
  publicKeys(): Verifier[] {
    return readPublicKeys(this.certsDir);
  }

  /** Replaces the signing key; checkpoints from now on carry the new key's signature. */
  async rotateKey(): Promise<Verifier> {
    if (!this.writer) throw new Error('audit log opened read-only');
    await this.drained();
    this.signer = rotateSigningKey(this.certsDir, this.origin);
    recordSigningKey(this.dataDir, this.certsDir, this.signer);
    this.log.info({ key: this.signer.text }, 'audit: checkpoint signing key rotated');
    return this.signer;
  }

  /** Retention (see retention.ts): prunes bodies older than retentionDays and compacts them away. */
  async prune(now = Date.now()): Promise<{ prunedBefore: number; previous: number }> {
    const days = this.opts.retentionDays;
    const previous = this.ingester.prunedBefore;
    if (days === undefined || !this.writer) return { prunedBefore: previous, previous };
    const writer = this.writer;
    return prune({ ingester: this.ingester, append: (i, end) => writer.append(i, end), size: () => writer.size, log: this.log }, days, now);
  }

  // Read shortcuts kept for callers written before the AuditReader contract; new code reads `log.reader`.

  /** @deprecated Use `reader.sessionRecords(id)`. */
  readSession(session: string): Promise<StoredRecord[]> {
    return this.reader.sessionRecords(session);
  }

  /** @deprecated Use `reader.listSessions(filter, page)`. */
  listSessions(filter: SessionFilter = {}): Promise<SessionSummary[]> {
    return this.reader.listSessions(filter);
  }

  /** @deprecated Use `reader.sessionSummary(id)`. */
  sessionSummary(session: string): Promise<SessionSummary | null> {
    return this.reader.sessionSummary(session);
  }

  /** @deprecated Use `reader.verify()`. */
  verify(opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<VerifyReport> {
    return this.reader.verify(opts);
  }

  /** @deprecated Use `reader.exportBundle(filter, stats)`. */
  exportBundle(filter: ExportFilter, stats?: ExportStats): AsyncGenerator<Buffer> {
    return this.reader.exportBundle(filter, stats);
  }

  /** Writes what is staged, ingests everything, signs a final checkpoint, removes covered segments, releases the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    const writer = this.writer;
    if (writer) {
      const writing = writer.status === 'writable' || writer.status === 'backlogged';
      writer.close();
      if (writing && this.ingester.healthy) {
        await this.ingester.caughtUp(writer.size);
        await this.ingester.checkpoint();
        const cp = this.ingester.latest;
        if (cp && cp.size === writer.size) writer.removeIngestedSegments(cp.size);
      }
    }
    await this.ingester.close();
  }
}

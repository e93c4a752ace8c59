// Masking large request bodies off the event loop. maskRequestBody (decode, JSON walk, re-serialise) of a
// 31 MiB body takes 0.7–1.6 s of CPU; on the proxy's thread that stalls every other client for as long
// (issue 9: another client's CONNECT waited 10 s during a flood). Bodies from `threshold` up go to a small
// pool of worker threads that run the same function on a session rebuilt from a snapshot of the caller's
// (engine options + numbering), so the result is byte for byte what the caller's thread would produce:
// same placeholders, same numbers, same findings. The numbering comes back and is adopted only if the
// session issued no placeholder meanwhile (checked by count, which only grows); otherwise the body is
// masked again on the calling thread, so two exchanges of one connection never get crossed numbers.
// Fail closed is the caller's: nothing is forwarded or recorded until this promise resolves.
import dc from 'node:diagnostics_channel';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SessionState } from '../mask/index.js';
import { maskRequestBody } from './request.js';
import type { ExchangeMeta, MaskSession, RequestMaskResult } from './types.js';

/** Published as `{ phase: 'queued' | 'started' | 'done', bytes, where: 'worker' | 'inline' }` (metrics, tests). */
export const REQUEST_MASK_CHANNEL = 'wiretrail:stream:request-mask';
const channel = dc.channel(REQUEST_MASK_CHANNEL);

export interface RequestMaskPoolOptions {
  /** Worker threads; default 1 on a 2-core machine, up to 2. 0 masks everything inline. */
  workers?: number;
  /** Bodies from this size go to a worker (smaller ones take a few ms inline). Default 128 KiB. */
  threshold?: number;
  /** While every worker is busy, bodies under this size are masked inline instead of queueing. Default 1 MiB. */
  inlineWhenBusy?: number;
}

export interface RequestMasker {
  mask(ex: ExchangeMeta, body: Buffer, session: MaskSession): Promise<RequestMaskResult>;
  close(): Promise<void>;
}

/** @internal the messages between the pool and request-worker.ts */
export interface JobMessage {
  id: number;
  ex: ExchangeMeta;
  body: Uint8Array;
  state: SessionState;
}
/** @internal */
export type ReplyMessage =
  | { id: number; kind: 'started' }
  | { id: number; kind: 'done'; result: Omit<RequestMaskResult, 'body'> & { body: Uint8Array | null }; state: SessionState }
  | { id: number; kind: 'failed'; message: string };

interface Job {
  id: number;
  /** Body size (the message's body moves to the worker and reads as empty here afterwards). */
  bytes: number;
  message: JobMessage;
  resolve(r: { result: ReplyMessage & { kind: 'done' } }): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

const KiB = 1024;

/**
 * The worker: request-worker.js next to this file when built. Run from source (tsx), the .ts file behind
 * a two-line bootstrap that registers tsx in the worker first (Node 20 does not pass a parent's
 * --import loader hooks to workers).
 */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./request-worker.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./request-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => api.register()).then(() => import(${JSON.stringify(entry)}));`;
  return new Worker(boot, { eval: true, workerData });
}

export class RequestMaskPool implements RequestMasker {
  private readonly size: number;
  private readonly threshold: number;
  private readonly inlineWhenBusy: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Set when a worker cannot start at all (e.g. an unknown loader): everything is masked inline. */
  private broken: string | null = null;
  /** 1 = open; 0 = workers hold each job before masking it (tests). */
  private readonly gate = new Int32Array(new SharedArrayBuffer(4));

  constructor(opts: RequestMaskPoolOptions = {}) {
    this.size = opts.workers ?? Math.max(1, Math.min(2, availableParallelism() - 1));
    this.threshold = opts.threshold ?? 128 * KiB;
    this.inlineWhenBusy = opts.inlineWhenBusy ?? 1024 * KiB;
    Atomics.store(this.gate, 0, 1);
  }

  /** Why workers are not used, or null. */
  get unavailable(): string | null {
    return this.broken;
  }

  async mask(ex: ExchangeMeta, body: Buffer, session: MaskSession): Promise<RequestMaskResult> {
    if (!this.offThread(body, session)) return this.inline(ex, body, session);
    const issued = session.issued;
    const state = session.snapshot!();
    // The worker gets its own copy, moved rather than cloned: one memcpy here instead of serialising the
    // body through postMessage (measured at ~0.5 s per 31 MiB on the event loop). The caller keeps `body`.
    const copy = new Uint8Array(body.length);
    copy.set(body);
    const message: JobMessage = { id: this.nextId++, ex: { method: ex.method, host: ex.host, path: ex.path, requestHeaders: ex.requestHeaders }, body: copy, state };
    publish('queued', body.length, 'worker');
    let reply: ReplyMessage & { kind: 'done' };
    try {
      reply = (await this.run(message)).result;
    } catch (err) {
      if (this.broken) return this.inline(ex, body, session);
      throw err;
    }
    publish('done', body.length, 'worker');
    // Someone numbered a placeholder on this session meanwhile: its numbering and ours would cross.
    if (session.issued !== issued) return this.inline(ex, body, session);
    session.adopt!(reply.state);
    const { result } = reply;
    return { ...result, body: result.body ? Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength) : body };
  }

  /** Tests: workers stop at the start of every job until the returned function is called. */
  hold(): () => void {
    Atomics.store(this.gate, 0, 0);
    return () => {
      Atomics.store(this.gate, 0, 1);
      Atomics.notify(this.gate, 0);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    Atomics.store(this.gate, 0, 1);
    Atomics.notify(this.gate, 0);
    for (const job of this.queue.splice(0)) job.reject(new Error('request masking stopped: wiretrail is closing'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private offThread(body: Buffer, session: MaskSession): boolean {
    if (this.closed || this.broken || this.size === 0 || body.length < this.threshold) return false;
    if (session.snapshot === undefined || session.adopt === undefined || session.issued === undefined) return false;
    // A mid-size body does not wait behind a flood of large ones: a few ms inline beats a queue.
    if (body.length < this.inlineWhenBusy && !this.idleSlot() && this.slots.length >= this.size) return false;
    return true;
  }

  private inline(ex: ExchangeMeta, body: Buffer, session: MaskSession): RequestMaskResult {
    publish('started', body.length, 'inline');
    const r = maskRequestBody(ex, body, session);
    publish('done', body.length, 'inline');
    return r;
  }

  private run(message: JobMessage): Promise<{ result: ReplyMessage & { kind: 'done' } }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: message.id, bytes: message.body.length, message, resolve, reject });
      this.dispatch();
    });
  }

  private idleSlot(): Slot | undefined {
    return this.slots.find((s) => s.job === null);
  }

  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.idleSlot() ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.queue.shift()!;
      try {
        slot.worker.postMessage(job.message, [job.message.body.buffer as ArrayBuffer]);
      } catch (err) {
        // Options a worker cannot receive (not cloneable): every job would fail the same way.
        this.broken = `request-mask jobs cannot be sent to a worker: ${(err as Error).message.split('\n')[0]}`;
        job.reject(err as Error);
        for (const j of this.queue.splice(0)) j.reject(err as Error);
        return;
      }
      slot.job = job;
    }
  }

  private spawn(): Slot {
    const worker = startWorker({ gate: this.gate.buffer });
    worker.unref();
    const slot: Slot = { worker, job: null };
    let online = false;
    worker.once('online', () => (online = true));
    worker.on('message', (m: ReplyMessage) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      if (m.kind === 'started') return void publish('started', job.bytes, 'worker');
      slot.job = null;
      if (m.kind === 'done') job.resolve({ result: m });
      else job.reject(new Error(`request masking failed: ${m.message}`));
      this.dispatch();
    });
    const lost = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      // A worker that never came up will not come up next time either: mask inline from now on.
      if (!online && !this.closed) this.broken = `request-mask worker could not start: ${err.message.split('\n')[0]}`;
      const job = slot.job;
      slot.job = null;
      job?.reject(err);
      if (this.broken) for (const j of this.queue.splice(0)) j.reject(err);
      else this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) lost(new Error(`request-mask worker exited (${code})`));
    });
    this.slots.push(slot);
    return slot;
  }
}

function publish(phase: 'queued' | 'started' | 'done', bytes: number, where: 'worker' | 'inline'): void {
  if (channel.hasSubscribers) channel.publish({ phase, bytes, where });
}

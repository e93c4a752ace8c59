// Worker-thread side of request-pool.ts: masks one request body with maskRequestBody — the very function
// the proxy's thread runs — on a session rebuilt from the caller's snapshot, and sends back the result and
// the session's numbering. Nothing here decides anything the calling thread would not have decided.
import { parentPort, workerData } from 'node:worker_threads';
import { sessionFromState } from '../mask/index.js';
import { maskRequestBody } from './request.js';
import type { JobMessage, ReplyMessage } from './request-pool.js';

const port = parentPort!;
/** 0 while the pool holds jobs (tests: proves the event loop is free while a body is being masked). */
const gate = new Int32Array(workerData.gate as SharedArrayBuffer);

port.on('message', (job: JobMessage) => {
  port.postMessage({ id: job.id, kind: 'started' } satisfies ReplyMessage);
  while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0);
  let reply: ReplyMessage;
  const transfer: ArrayBuffer[] = [];
  try {
    const session = sessionFromState(job.state);
    const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
    const r = maskRequestBody(job.ex, body, session);
    // The caller's own body (unchanged) is not sent back; any other (masked, or a refusal's empty one) moves.
    const out = r.body === body ? null : own(r.body);
    if (out) transfer.push(out.buffer as ArrayBuffer);
    reply = { id: job.id, kind: 'done', result: { ...r, body: out }, state: session.snapshot!() };
  } catch (err) {
    reply = { id: job.id, kind: 'failed', message: (err as Error).message.split('\n')[0]! };
  }
  port.postMessage(reply, transfer);
});

/** A view that owns its whole ArrayBuffer (pooled or shared buffers cannot be transferred). */
function own(b: Buffer): Uint8Array {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return new Uint8Array(b.buffer);
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return copy;
}

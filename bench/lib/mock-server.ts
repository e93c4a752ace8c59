// Child-process entry of the bench's mock upstream (`node --import tsx bench/lib/mock-server.ts`):
// the HTTPS mock of OpenAI chat completions from test/helpers, with a handler that paces SSE chunks and
// stamps each one with its send time. It runs in its own process so the bench client and the mock do
// not share one event loop. Prints one JSON line {port, caFile} when ready; exits when stdin closes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startMockUpstream } from '../../test/helpers/mock-upstream.js';
import { streamChunk, jsonCompletion, type MockRequest } from './mock-protocol.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function handler(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"no route"}}');
    return;
  }
  let r: MockRequest;
  try {
    r = JSON.parse(body) as MockRequest;
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"invalid JSON body"}}');
    return;
  }
  if (!r.stream) {
    const payload = jsonCompletion(r.messages?.at(-1)?.content ?? '');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    return;
  }
  const n = Math.max(1, Math.min(10_000, r.chunks ?? 200));
  const interval = Math.max(0, Math.min(1000, r.interval_ms ?? 5));
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_bench' });
  res.flushHeaders();
  let gone = false;
  res.on('close', () => (gone = true));
  for (let i = 0; i < n && !gone; i++) {
    if (interval > 0) await sleep(interval);
    // The stamp is taken just before the write: CLOCK_MONOTONIC (process.hrtime) is shared by all
    // processes on the machine, so the client can subtract it from its own arrival time.
    res.write(streamChunk(i, n, process.hrtime.bigint()));
  }
  if (!gone) res.end('data: [DONE]\n\n');
}

const mock = await startMockUpstream({ hosts: ['api.openai.com'], handler });
// The helper keeps every request for tests; a bench sends hundreds of thousands.
setInterval(() => (mock.seen.length = 0), 1000).unref();
process.stdout.write(JSON.stringify({ port: mock.port, caFile: mock.caFile }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => void mock.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void mock.close().then(() => process.exit(0)));

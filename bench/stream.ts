// Stream stage benchmark (npx tsx bench/stream.ts [chunks]): per-chunk latency that masking adds
// to a streamed answer holding no secret-like content, for each provider format.
//   off     : client masking off (policy), only the record lane works; the client gets raw bytes
//   on      : client and record lanes both masked
//   added   : on minus off, per chunk (the figure the p99 ≤ 1 ms target is about)
// One push = one upstream read holding one event (the common case), and a second run with four
// events per read. Time is measured around `await processor.push(chunk)`.
import { createMaskEngine } from '../src/mask/index.js';
import { createResponseProcessor, type ResponseProcessor } from '../src/stream/index.js';

const CHUNKS = Number(process.argv[2] ?? 4000);
const engine = createMaskEngine();

// A realistic code answer, tokenised roughly the way models stream it (1–8 characters per delta).
const ANSWER = `Here is how to retry a fetch with exponential backoff in TypeScript:

\`\`\`ts
export async function fetchWithRetry(url: string, init: RequestInit = {}, attempts = 5): Promise<Response> {
  let delay = 250;
  for (let i = 0; i < attempts; i++) {
    const res = await fetch(url, init);
    if (res.ok || res.status < 500) return res;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 8000);
  }
  throw new Error(\`giving up on \${url} after \${attempts} attempts\`);
}
\`\`\`

The delay doubles after each failure and is capped at eight seconds, so a flaky upstream does not
get hammered. Configuration values such as the base URL belong in your settings file.
`;

function tokens(n: number): string[] {
  const out: string[] = [];
  let i = 0;
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  while (out.length < n) {
    const len = 1 + Math.floor(rnd() * 8);
    let piece = '';
    for (let k = 0; k < len; k++) piece += ANSWER[(i + k) % ANSWER.length];
    i += len;
    out.push(piece);
  }
  return out;
}

interface Format {
  name: string;
  path: string;
  event(piece: string, n: number): string;
}

const FORMATS: Format[] = [
  {
    name: 'openai-chat',
    path: '/v1/chat/completions',
    event: (p) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1760000000, model: 'gpt-4.1-mini', system_fingerprint: 'fp_x', choices: [{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }], usage: null, obfuscation: 'abcdEF' })}\n\n`,
  },
  {
    name: 'anthropic-messages',
    path: '/v1/messages',
    event: (p) => `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } })}\n\n`,
  },
  {
    name: 'openai-responses',
    path: '/v1/responses',
    event: (p, n) =>
      `event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', sequence_number: n, item_id: 'msg_bench', output_index: 0, content_index: 0, delta: p, logprobs: [], obfuscation: 'xyz' })}\n\n`,
  },
];

function processor(f: Format, clientOn: boolean): ResponseProcessor {
  return createResponseProcessor(
    { method: 'POST', host: 'bench', path: f.path, requestHeaders: {} },
    { status: 200, headers: { 'content-type': 'text/event-stream' } },
    { client: clientOn ? engine.session() : null, record: engine.session() },
  );
}

async function timeRun(f: Format, clientOn: boolean, reads: Buffer[]): Promise<number[]> {
  const p = processor(f, clientOn);
  const times: number[] = [];
  for (const r of reads) {
    const t0 = process.hrtime.bigint();
    await p.push(r);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await p.end();
  return times;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const fmt = (ms: number) => `${(ms * 1000).toFixed(1).padStart(7)} µs`;

const pieces = tokens(CHUNKS);
console.log(`stream bench: ${CHUNKS} deltas of 1–8 characters, no secret-like content; node ${process.version}`);
for (const perRead of [1, 4]) {
  console.log(`\n${perRead} event(s) per upstream read`);
  console.log('format               off p50     off p99     on p50      on p99      added p50   added p99');
  for (const f of FORMATS) {
    const reads: Buffer[] = [];
    for (let i = 0; i < pieces.length; i += perRead) {
      reads.push(Buffer.from(pieces.slice(i, i + perRead).map((p, k) => f.event(p, i + k)).join('')));
    }
    // warm up both paths, then interleave several runs so machine noise hits both alike
    await timeRun(f, true, reads.slice(0, 500));
    await timeRun(f, false, reads.slice(0, 500));
    const on: number[] = [];
    const off: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      off.push(...(await timeRun(f, false, reads)));
      on.push(...(await timeRun(f, true, reads)));
    }
    const row = [pct(off, 50), pct(off, 99), pct(on, 50), pct(on, 99), pct(on, 50) - pct(off, 50), pct(on, 99) - pct(off, 99)];
    console.log(f.name.padEnd(18) + row.map(fmt).join(' '));
  }
}

// Masking benchmark (issue 4): `npx tsx bench/mask.ts [KB]`.
// 1. Throughput (MB/s of CPU time on one core): a realistic code answer masked whole (maskText)
//    and streamed in LLM-sized chunks (push), plus a secret-dense text (the corpus positives).
// 2. Hold-back distribution: characters held after each push while the code answer streams.
// 3. Added latency per push for text with no secret-like content: time of push() with masking on,
//    against the same loop with masking off (the chunk passed through), p50/p99/max.
import { mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createMaskEngine } from '../src/mask/index.js';
import { loadJsonl } from '../test/mask/corpus/evaluate.js';
import { makeGenerators, NAMED, type PositiveCase } from '../test/mask/corpus/generate.js';
import { rng } from '../test/mask/corpus/rng.js';
import { evaluateCorpus } from '../test/mask/independent/evaluate.js';
import { generateCorpus } from '../test/mask/independent/generate.js';
import { reportMarkdown } from '../test/mask/independent/report.js';

export interface Quantiles {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

function quantiles(xs: number[]): Quantiles {
  const s = Float64Array.from(xs).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { n: s.length, mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), p50: q(0.5), p99: q(0.99), max: s[s.length - 1] ?? 0 };
}

const PROSE = [
  'Here is a minimal client that retries on rate limits and streams the answer.',
  'First install the dependencies, then create the file below and run it with your favourite runner.',
  'The function returns an async iterator, so the caller can render tokens as they arrive.',
  'Keep the configuration in environment variables and never commit them to the repository.',
  'If the request fails with a 429, back off exponentially and try again up to five times.',
];
const CODE = `\`\`\`ts
import OpenAI from "openai";
import { setTimeout as sleep } from "node:timers/promises";

const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });

export async function* ask(prompt: string, model = "gpt-4.1-mini"): AsyncGenerator<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const stream = await client.chat.completions.create({
        model,
        stream: true,
        max_tokens: 1024,
        messages: [{ role: "user", content: prompt }],
      });
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) yield delta;
      }
      return;
    } catch (err) {
      if ((err as { status?: number }).status !== 429) throw err;
      await sleep(2 ** attempt * 250);
    }
  }
  throw new Error("rate limited");
}
\`\`\`
`;
const YAML = `\`\`\`yaml
service:
  name: answers
  replicas: 3
  env:
    - name: LOG_LEVEL
      value: info
    - name: OPENAI_API_KEY
      valueFrom: { secretKeyRef: { name: openai, key: api-key } }
\`\`\`
`;

/** A code answer of about `kb` KB; with `secrets`, a few real-looking keys in .env snippets. */
function codeAnswer(kb: number, secrets: boolean, seed = 1): string {
  const r = rng(seed);
  const g = makeGenerators(rng(seed + 1));
  let out = '';
  while (out.length < kb * 1024) {
    out += r.pick(PROSE) + ' ' + r.pick(PROSE) + '\n\n';
    out += r.int(2) ? CODE : YAML;
    if (secrets && r.int(4) === 0) {
      const tk = r.pick(Object.values(g.tokens));
      out += '\n' + NAMED.markdown!(tk.env, r.pick(tk.make)(), r) + '\n';
    }
  }
  return out;
}

/** Splits like an LLM stream: pieces of 1–12 characters, mostly word-sized. */
function llmChunks(text: string, seed = 3): string[] {
  const r = rng(seed);
  const parts: string[] = [];
  const re = /\s*[A-Za-z]+|\s*\d+|\s*[^\sA-Za-z\d]{1,3}|\s+/g;
  for (const m of text.matchAll(re)) {
    let w = m[0];
    while (w.length > 12) {
      const k = 4 + r.int(8);
      parts.push(w.slice(0, k));
      w = w.slice(k);
    }
    parts.push(w);
  }
  return parts;
}

function mbps(chars: number, ms: number): number {
  return chars / 1e6 / (ms / 1000);
}

export interface MaskBench {
  textChars: number;
  chunks: number;
  wholeMBps: number;
  streamMBps: number;
  denseMBps: number;
  denseChars: number;
  held: Quantiles;
  heldNoSecrets: Quantiles;
  pushUsOn: Quantiles;
  pushUsOff: Quantiles;
  /** Cost of push() per chunk on the code answer with secrets (masking work included). */
  pushUsSecrets: Quantiles;
  addedP99Us: number;
}

export function runMaskBench(kb = 512): MaskBench {
  const engine = createMaskEngine();
  const answer = codeAnswer(kb, true);
  const plain = codeAnswer(kb, false, 5);
  const chunks = llmChunks(answer);
  const plainChunks = llmChunks(plain, 9);
  // secret-dense: every positive of the corpus (one or more secrets per 100–2000 characters)
  const dense = loadJsonl<PositiveCase>('positives.jsonl')
    .map((c) => c.text)
    .join('\n')
    .repeat(8);

  // warm-up so the JIT has compiled the hot paths
  for (let i = 0; i < 3; i++) {
    engine.session().maskText(answer.slice(0, 64 * 1024));
    engine.session().maskText(dense);
  }

  // CPU time of this process (user + system), so other load on the machine does not count
  const cpuMs = (f: () => void) => {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const best = (f: () => void) => Math.min(cpuMs(f), cpuMs(f), cpuMs(f));
  const wholeMs = best(() => engine.session().maskText(answer));
  const streamMs = best(() => {
    const m = engine.session().stream();
    for (const c of chunks) m.push(c);
    m.flush();
  });
  const denseMs = best(() => engine.session().maskText(dense));

  // hold-back after each push, and the cost of each push, on the answer with secrets
  const held: number[] = [];
  const withSecrets: number[] = [];
  const m = engine.session().stream();
  for (const c of chunks) {
    const t0 = process.hrtime.bigint();
    m.push(c);
    withSecrets.push(Number(process.hrtime.bigint() - t0) / 1000);
    held.push(m.held);
  }
  m.flush();
  const heldPlain: number[] = [];
  const mp = engine.session().stream();
  for (const c of plainChunks) {
    mp.push(c);
    heldPlain.push(mp.held);
  }
  mp.flush();

  // added latency per push, text without secrets: on = push(), off = the chunk passed through
  const on: number[] = [];
  const off: number[] = [];
  const mo = engine.session().stream();
  let sink = 0;
  for (const c of plainChunks) {
    let t0 = process.hrtime.bigint();
    sink += c.length;
    off.push(Number(process.hrtime.bigint() - t0) / 1000);
    t0 = process.hrtime.bigint();
    sink += mo.push(c).length;
    on.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  mo.flush();
  if (sink < 0) console.log(sink);
  const pushUsOn = quantiles(on);
  const pushUsOff = quantiles(off);
  return {
    textChars: answer.length,
    chunks: chunks.length,
    wholeMBps: mbps(answer.length, wholeMs),
    streamMBps: mbps(answer.length, streamMs),
    denseMBps: mbps(dense.length, denseMs),
    denseChars: dense.length,
    held: quantiles(held),
    heldNoSecrets: quantiles(heldPlain),
    pushUsOn,
    pushUsOff,
    pushUsSecrets: quantiles(withSecrets),
    addedP99Us: pushUsOn.p99 - pushUsOff.p99,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const kb = Number(process.argv[2] ?? 512);
  const r = runMaskBench(kb);
  const q = (x: Quantiles, unit: string, d = 1) => `p50 ${x.p50.toFixed(d)}${unit}  p99 ${x.p99.toFixed(d)}${unit}  max ${x.max.toFixed(d)}${unit}  mean ${x.mean.toFixed(2)}${unit}`;
  console.log(`mask bench: ${(r.textChars / 1024).toFixed(0)} KB code answer in ${r.chunks} chunks (1 core, ${process.version})`);
  console.log(`throughput  whole text (maskText)     ${r.wholeMBps.toFixed(1)} MB/s`);
  console.log(`throughput  streamed (push per chunk) ${r.streamMBps.toFixed(1)} MB/s`);
  console.log(`throughput  secret-dense corpus       ${r.denseMBps.toFixed(1)} MB/s (${(r.denseChars / 1024).toFixed(0)} KB)`);
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISS');
  console.log(`hold-back   code answer with secrets  ${q(r.held, ' ch', 0)}  (target p99 ≤ 64: ${mark(r.held.p99 <= 64)})`);
  console.log(`hold-back   code answer, no secrets   ${q(r.heldNoSecrets, ' ch', 0)}  (target p99 ≤ 64: ${mark(r.heldNoSecrets.p99 <= 64)})`);
  console.log(`push()      code answer with secrets  ${q(r.pushUsSecrets, ' µs')}  (target p99 ≤ 1 ms: ${mark(r.pushUsSecrets.p99 <= 1000)})`);
  console.log(`push()      masking on, no secrets    ${q(r.pushUsOn, ' µs')}`);
  console.log(`push()      masking off               ${q(r.pushUsOff, ' µs')}`);
  console.log(`added latency per push p99            ${(r.addedP99Us / 1000).toFixed(4)} ms (target ≤ 1 ms)`);
  // issue 10: the independent corpus (test/mask/independent), worst case over adversarial splits
  const t0 = Date.now();
  const c = generateCorpus();
  const md = reportMarkdown(evaluateCorpus(c.positives, c.negatives), Date.now() - t0);
  console.log('\n' + md);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('mask-independent.md', dir), md);
  console.log('(written to bench/results/mask-independent.md)');
}

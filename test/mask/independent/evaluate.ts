// Scores a mask engine on the independent corpus, worst case over adversarial splits, in the way
// each SSE flavour hands text to the masker (through the public masker interface only):
//   openai-chat   content deltas streamed on one channel
//   responses     output_text deltas streamed, and the `*.done` / `response.completed` repeats,
//                 which carry the whole text (masked whole when they differ from the deltas)
//   anthropic     text_delta streamed, and the text as a tool_use input streamed as
//                 input_json_delta.partial_json (JSON-escaped)
//   gemini        text parts streamed, and functionCall.args masked value by value
//   chat-tools    OpenAI-compatible tool_calls arguments streamed, the text nested in a JSON
//                 document that is itself a JSON string argument (MCP-style, escaped twice)
// A split is "every cut inside every secret" (2 chunks cut at each position of each secret's
// spelling in that input; long secrets: the first and last 48 positions and 64 spread between)
// plus a tokenised chunking (1-4 characters). A positive is recalled when no output, in any
// flavour and split, keeps a 6-character run of a secret or its identifying prefix next to a
// placeholder. A negative is kept when every output equals its input.
import { createMaskEngine, type MaskEngine } from '../../../src/mask/index.js';
import { rng } from '../corpus/rng.js';
import type { Positive } from './generate.js';
import type { Negative } from './negatives.js';

const json1 = (s: string) => JSON.stringify(s).slice(1, -1);

interface Input {
  /** What the masker receives. */
  text: string;
  /** How the secrets are spelled in it. */
  enc: (s: string) => string;
  /** Masked whole (a repeat or a value masked by itself) instead of streamed. */
  whole?: boolean;
}

export const FLAVOURS: Record<string, (text: string) => Input[]> = {
  'openai-chat': (t) => [{ text: t, enc: (s) => s }],
  responses: (t) => [{ text: t, enc: (s) => s }, { text: t, enc: (s) => s, whole: true }],
  anthropic: (t) => [
    { text: t, enc: (s) => s },
    { text: JSON.stringify({ path: 'notes.md', content: t }), enc: json1 },
  ],
  gemini: (t) => [{ text: t, enc: (s) => s }, { text: t, enc: (s) => s, whole: true }],
  'chat-tools': (t) => [{ text: JSON.stringify({ tool: 'run', input: JSON.stringify({ content: t }) }), enc: (s) => json1(json1(s)) }],
};

/** 6-character runs of a secret left in the output that the rest of the input does not explain. */
export function leak(input: string, output: string, secrets: string[], prefix?: string): string | null {
  const out = output.replace(/\[MASKED:[^\]]*\]/g, '\u0000');
  let rest = input;
  for (const s of secrets) rest = rest.split(s).join('\u0000');
  for (const s of secrets) {
    for (let i = 0; i + 6 <= s.length; i++) {
      const run = s.slice(i, i + 6);
      if (out.includes(run) && !rest.includes(run)) return run;
    }
  }
  if (prefix) {
    // the identifying prefix (or 3+ characters of the token) right before a placeholder
    for (const s of secrets) for (let k = 3; k < Math.min(s.length, 24); k++) if (output.includes(s.slice(0, k) + '[MASKED:')) return s.slice(0, k) + '…';
  }
  return null;
}

function cutsInside(text: string, spans: [number, number][]): number[] {
  const cuts = new Set<number>();
  for (const [a, b] of spans) {
    const len = b - a;
    if (len <= 160) for (let p = a; p <= b; p++) cuts.add(p);
    else {
      for (let p = a; p <= a + 48; p++) cuts.add(p);
      for (let p = b - 48; p <= b; p++) cuts.add(p);
      for (let k = 1; k < 64; k++) cuts.add(a + Math.round((k * len) / 64));
    }
  }
  return [...cuts].filter((p) => p > 0 && p < text.length).sort((x, y) => x - y);
}

function spansOf(text: string, secrets: string[]): [number, number][] {
  const spans: [number, number][] = [];
  for (const s of secrets) for (let i = text.indexOf(s); i >= 0 && s; i = text.indexOf(s, i + 1)) spans.push([i, i + s.length]);
  return spans;
}

function stream(engine: MaskEngine, parts: string[]): string {
  const m = engine.session().stream();
  let out = '';
  for (const p of parts) out += m.push(p);
  return out + m.flush();
}

/** Every output the masker gives for one input: whole, or streamed under each adversarial split. */
function* outputs(engine: MaskEngine, inp: Input, secrets: string[], seed: number): Generator<[string, string]> {
  if (inp.whole) {
    yield ['whole', engine.session().maskText(inp.text).text];
    return;
  }
  const text = inp.text;
  yield ['1 chunk', stream(engine, [text])];
  const spans = spansOf(text, secrets.map(inp.enc));
  for (const p of cutsInside(text, spans)) yield [`cut@${p}`, stream(engine, [text.slice(0, p), text.slice(p)])];
  const r = rng(seed);
  const parts: string[] = [];
  for (let i = 0; i < text.length; ) {
    const l = 1 + r.int(4);
    parts.push(text.slice(i, i + l));
    i += l;
  }
  yield ['tokenised', stream(engine, parts)];
}

export interface CaseResult {
  ok: boolean;
  detail: string;
}

export function scorePositive(engine: MaskEngine, c: Positive, seed: number, flavours = Object.keys(FLAVOURS)): CaseResult {
  for (const fl of flavours) {
    for (const inp of FLAVOURS[fl]!(c.text)) {
      const secrets = c.secrets.map(inp.enc);
      for (const [split, out] of outputs(engine, inp, c.secrets, seed)) {
        const l = leak(inp.text, out, secrets, c.prefix);
        if (l) return { ok: false, detail: `${fl} ${split}: leaked "${l}"` };
      }
    }
  }
  return { ok: true, detail: '' };
}

export function scoreNegative(engine: MaskEngine, c: Negative, seed: number, flavours = Object.keys(FLAVOURS)): CaseResult {
  for (const fl of flavours) {
    for (const inp of FLAVOURS[fl]!(c.text)) {
      // negatives are whole look-alike texts: 48 cuts spread over the text plus both ends
      const len = inp.text.length;
      const cuts = new Set<number>();
      for (let k = 1; k < 48; k++) cuts.add(Math.round((k * len) / 48));
      for (let k = 1; k <= 8; k++) cuts.add(k), cuts.add(len - k);
      if (inp.whole) {
        const out = engine.session().maskText(inp.text).text;
        if (out !== inp.text) return { ok: false, detail: `${fl} whole: ${diff(inp.text, out)}` };
        continue;
      }
      for (const p of [0, ...[...cuts].filter((x) => x > 0 && x < len)]) {
        const out = p === 0 ? stream(engine, [inp.text]) : stream(engine, [inp.text.slice(0, p), inp.text.slice(p)]);
        if (out !== inp.text) return { ok: false, detail: `${fl} cut@${p}: ${diff(inp.text, out)}` };
      }
    }
  }
  return { ok: true, detail: '' };
}

function diff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return JSON.stringify(a.slice(Math.max(0, i - 40), i + 60)) + ' → ' + JSON.stringify(b.slice(Math.max(0, i - 40), i + 60));
}

export interface Tally {
  total: number;
  ok: number;
  failures: { id: string; detail: string }[];
}

export interface Report {
  byType: Map<string, Tally>;
  byCategory: Map<string, Tally>;
  recall: number;
  /** Positives masked / (positives masked + negatives changed). */
  precision: number;
  negativesKept: number;
  positives: number;
  negatives: number;
}

function add(m: Map<string, Tally>, key: string, id: string, r: CaseResult) {
  const t = m.get(key) ?? { total: 0, ok: 0, failures: [] };
  t.total++;
  if (r.ok) t.ok++;
  else t.failures.push({ id, detail: r.detail });
  m.set(key, t);
}

export function evaluateCorpus(positives: Positive[], negatives: Negative[], engine = createMaskEngine()): Report {
  const byType = new Map<string, Tally>();
  const byCategory = new Map<string, Tally>();
  positives.forEach((c, i) => add(byType, c.type, `${c.id} ${c.context}`, scorePositive(engine, c, i)));
  negatives.forEach((c, i) => add(byCategory, c.category, `${c.category}#${i}`, scoreNegative(engine, c, 1e5 + i)));
  const sum = (m: Map<string, Tally>, f: (t: Tally) => number) => [...m.values()].reduce((a, t) => a + f(t), 0);
  const tp = sum(byType, (t) => t.ok);
  const fp = sum(byCategory, (t) => t.total - t.ok);
  return {
    byType,
    byCategory,
    recall: tp / Math.max(1, positives.length),
    precision: tp / Math.max(1, tp + fp),
    negativesKept: sum(byCategory, (t) => t.ok) / Math.max(1, negatives.length),
    positives: positives.length,
    negatives: negatives.length,
  };
}

// Scores the engine on the corpus: recall on positives, untouched rate on negatives, rule
// attribution, each over adversarial splits (every split point for short cases, one character
// at a time, and seeded random chunkings). Used by the corpus test and runnable by hand:
//   npx tsx test/mask/corpus/evaluate.ts [--verbose]
import { readFileSync } from 'node:fs';
import { createMaskEngine, type MaskEngine } from '../../../src/mask/index.js';
import type { NegativeCase, PositiveCase } from './generate.js';
import { rng } from './rng.js';

const dir = new URL('../../fixtures/mask/', import.meta.url);
export const loadJsonl = <T>(name: string): T[] =>
  readFileSync(new URL(name, dir), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

/** A 6-character run of any secret left in the output (ignoring runs the rest of the text also has). */
export function leak(input: string, masked: string, secrets: string[]): string | null {
  const output = masked.replace(/\[MASKED:[^\]]*\]/g, '\u0000');
  let rest = input;
  for (const s of secrets) rest = rest.split(s).join('\u0000');
  for (const s of secrets) {
    for (let i = 0; i + 6 <= s.length; i++) {
      const run = s.slice(i, i + 6);
      if (output.includes(run) && !rest.includes(run)) return run;
    }
  }
  return null;
}

/** All chunkings used for one text: whole, 2-way at every point (short texts), 1-char, random. */
export function* chunkings(text: string, seed: number, everySplitMax = 400): Generator<string[]> {
  yield [text];
  if (text.length <= everySplitMax) for (let k = 1; k < text.length; k++) yield [text.slice(0, k), text.slice(k)];
  else {
    const r = rng(seed ^ 0x5eed);
    for (let j = 0; j < 64; j++) {
      const k = 1 + r.int(text.length - 1);
      yield [text.slice(0, k), text.slice(k)];
    }
  }
  yield [...text];
  const r = rng(seed);
  for (let j = 0; j < 8; j++) {
    const parts: string[] = [];
    for (let i = 0; i < text.length; ) {
      const l = 1 + r.int(j % 2 ? 24 : 6);
      parts.push(text.slice(i, i + l));
      i += l;
    }
    yield parts;
  }
}

export function runChunks(engine: MaskEngine, parts: string[]): { text: string; rules: string[] } {
  const m = engine.session().stream();
  let out = '';
  for (const p of parts) out += m.push(p);
  out += m.flush();
  return { text: out, rules: m.findings.map((f) => f.rule) };
}

export interface Score {
  positives: number;
  recalled: number;
  attributed: number;
  negatives: number;
  untouched: number;
  splitMismatches: number;
  misses: { id: string; rule: string; context: string; detail: string }[];
  falsePositives: { id: string; rule: string; text: string; out: string }[];
}

export function evaluate(engine = createMaskEngine(), everySplitMax = 400): Score {
  const positives = loadJsonl<PositiveCase>('positives.jsonl');
  const negatives = loadJsonl<NegativeCase>('negatives.jsonl');
  const score: Score = { positives: positives.length, recalled: 0, attributed: 0, negatives: negatives.length, untouched: 0, splitMismatches: 0, misses: [], falsePositives: [] };
  positives.forEach((c, idx) => {
    const whole = engine.session().maskText(c.text);
    let ok = true;
    let detail = '';
    for (const parts of chunkings(c.text, idx, everySplitMax)) {
      const r = runChunks(engine, parts);
      if (r.text !== whole.text) score.splitMismatches++;
      const l = leak(c.text, r.text, c.secrets);
      if (l) {
        ok = false;
        detail = `leaked "${l}" with ${parts.length} chunk(s): ${r.text.slice(0, 300)}`;
        break;
      }
    }
    if (ok) score.recalled++;
    else score.misses.push({ id: c.id, rule: c.rule, context: c.context, detail });
    if (whole.findings.some((f) => f.rule === c.rule)) score.attributed++;
    else if (ok) score.misses.push({ id: c.id, rule: c.rule, context: c.context, detail: `masked as ${whole.findings.map((f) => f.rule).join(',') || 'nothing'}` });
  });
  negatives.forEach((c, idx) => {
    let ok = true;
    let out = '';
    for (const parts of chunkings(c.text, 1000 + idx, everySplitMax)) {
      out = runChunks(engine, parts).text;
      if (out !== c.text) {
        ok = false;
        break;
      }
    }
    if (ok) score.untouched++;
    else score.falsePositives.push({ id: c.id, rule: c.rule, text: c.text, out });
  });
  return score;
}

if (process.argv[1]?.endsWith('evaluate.ts')) {
  const t0 = Date.now();
  const s = evaluate();
  const verbose = process.argv.includes('--verbose');
  for (const m of s.misses) console.log('MISS', m.id, m.rule, m.context, verbose ? m.detail : m.detail.slice(0, 160));
  for (const f of s.falsePositives) console.log('FP  ', f.id, f.rule, JSON.stringify(f.text).slice(0, 140), '→', JSON.stringify(f.out).slice(0, 160));
  console.log(
    `recall ${(s.recalled / s.positives).toFixed(4)} (${s.recalled}/${s.positives}), attribution ${(s.attributed / s.positives).toFixed(4)}, ` +
      `negatives untouched ${(s.untouched / s.negatives).toFixed(4)} (${s.untouched}/${s.negatives}), split mismatches ${s.splitMismatches}, ${Date.now() - t0} ms`,
  );
}

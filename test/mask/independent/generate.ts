// The independent evaluation corpus, generated in memory with a fixed seed (nothing to commit):
// positives spread over every format × its contexts, negatives over every look-alike category.
import { rng } from '../corpus/rng.js';
import { CONTEXTS, contextsFor } from './contexts.js';
import { FORMATS, type SecretFormat } from './formats.js';
import { generateNegatives, type Negative } from './negatives.js';

export const SEED = 0x1d3b_2026;

export interface Positive {
  id: string;
  type: string;
  context: string;
  text: string;
  secrets: string[];
  /** Identifying prefix of the token (sk-ant-admin01-, github_pat_), if it has one. */
  prefix?: string;
}

export interface Corpus {
  positives: Positive[];
  negatives: Negative[];
  formats: SecretFormat[];
}

export function generateCorpus(perType = 11, perCategory = 50, seed = SEED): Corpus {
  const r = rng(seed);
  const positives: Positive[] = [];
  FORMATS.forEach((fmt, t) => {
    const ctxs = contextsFor(fmt);
    let made = 0;
    for (let i = 0; made < perType && i < perType * 4; i++) {
      const context = ctxs[(t + i) % ctxs.length]!;
      const placed = CONTEXTS[context]!(fmt, fmt.make(r), r);
      if (!placed) continue;
      positives.push({ id: `${fmt.type}#${i}`, type: fmt.type, context, ...placed, ...(fmt.prefix ? { prefix: fmt.prefix } : {}) });
      made++;
    }
  });
  return { positives, negatives: generateNegatives(r, perCategory), formats: FORMATS };
}

if (process.argv[1]?.endsWith('generate.ts')) {
  const c = generateCorpus();
  const types = new Set(c.positives.map((p) => p.type));
  const cats = new Set(c.negatives.map((n) => n.category));
  console.log(`${c.positives.length} positives over ${types.size} types, ${c.negatives.length} negatives over ${cats.size} categories`);
  for (const cat of cats) console.log(cat, c.negatives.filter((n) => n.category === cat).length);
  if (process.argv.includes('--show')) for (const p of c.positives.slice(0, 40)) console.log('---', p.id, p.context, '\n' + p.text);
}

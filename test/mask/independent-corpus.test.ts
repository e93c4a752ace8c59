// The independent evaluation corpus itself (test/mask/independent): its size and spread, and that
// the scorer catches what it must (a masker that masks nothing recalls nothing; one that masks
// everything keeps no negative; a prefix left before a placeholder counts as a leak).
import t from 'tap';
import type { MaskEngine, StreamMasker } from '../../src/mask/index.js';
import { CONTEXTS } from './independent/contexts.js';
import { leak, scoreNegative, scorePositive } from './independent/evaluate.js';
import { generateCorpus } from './independent/generate.js';

const corpus = generateCorpus();

t.test('size and spread', async (t) => {
  const types = new Set(corpus.positives.map((p) => p.type));
  const cats = new Set(corpus.negatives.map((n) => n.category));
  t.ok(corpus.positives.length >= 1500, `${corpus.positives.length} positives`);
  t.ok(types.size >= 100, `${types.size} types`);
  t.ok(corpus.negatives.length >= 800, `${corpus.negatives.length} negatives`);
  t.ok(cats.size >= 15, `${cats.size} categories`);
  const used = new Set(corpus.positives.map((p) => p.context));
  for (const c of Object.keys(CONTEXTS)) t.ok(used.has(c), `context ${c} is used`);
  t.equal(JSON.stringify(generateCorpus()), JSON.stringify(corpus), 'fixed seed: the same corpus every run');
  for (const p of corpus.positives) for (const s of p.secrets) if (!p.text.includes(s)) t.fail(`${p.id}: secret spelling not in its text`);
});

/** Engines that mask nothing and everything, to check the scorer itself. */
function engine(mask: (s: string) => string): MaskEngine {
  const stream = (): StreamMasker => {
    let buf = '';
    return { push: (s) => ((buf += s), ''), flush: () => mask(buf), held: 0, findings: [] };
  };
  return { session: () => ({ maskText: (s) => ({ text: mask(s), findings: [] }), stream }) };
}

t.test('the scorer', async (t) => {
  const none = engine((s) => s);
  const all = engine((s) => s.replace(/[A-Za-z0-9+/=_-]{6,}/g, '[MASKED:x#1]'));
  const sample = corpus.positives.filter((_, i) => i % 50 === 0);
  t.ok(sample.every((p, i) => !scorePositive(none, p, i).ok), 'masking nothing recalls nothing');
  t.ok(corpus.negatives.filter((_, i) => i % 50 === 0).every((n, i) => !scoreNegative(all, n, i).ok), 'masking every word keeps no negative');
  t.equal(leak('key ghp_abcdef123456', 'key ghp_[MASKED:github-pat#1]', ['ghp_abcdef123456'], 'ghp_'), 'ghp_…', 'a prefix before the placeholder is a leak');
  t.equal(leak('key ghp_abcdef123456', 'key [MASKED:github-pat#1]', ['ghp_abcdef123456'], 'ghp_'), null, 'the whole token masked is no leak');
});

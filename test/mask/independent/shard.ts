// One shard of the independent-corpus targets test (issue 10): the types whose index ≡ shard
// (mod SHARDS), or the negatives. Split so each file stays well under the per-file time budget.
import type { Test } from 'tap';
import { createMaskEngine } from '../../../src/mask/index.js';
import { evaluateCorpus } from './evaluate.js';
import { generateCorpus } from './generate.js';
import { TARGETS } from './report.js';

export const SHARDS = 5;

export function positivesShard(t: Test, shard: number): void {
  const corpus = generateCorpus();
  const types = [...new Set(corpus.positives.map((p) => p.type))].filter((_, i) => i % SHARDS === shard);
  const mine = corpus.positives.filter((p) => types.includes(p.type));
  const rep = evaluateCorpus(mine, [], createMaskEngine());
  t.comment(`shard ${shard}: ${mine.length} positives over ${types.length} types, worst-case recall ${rep.recall.toFixed(4)}`);
  for (const [type, tally] of rep.byType) {
    for (const f of tally.failures) t.comment(`miss ${f.id}: ${f.detail}`);
    t.ok(tally.ok / tally.total >= TARGETS.typeRecall, `${type}: recall ${tally.ok}/${tally.total} ≥ ${TARGETS.typeRecall}`);
  }
  // every shard at ≥ 0.99 keeps the whole corpus at ≥ 0.99
  t.ok(rep.recall >= TARGETS.recall, `recall ${rep.recall.toFixed(4)} ≥ ${TARGETS.recall}`);
}

export function negativesShard(t: Test, shard: number, of: number): void {
  const corpus = generateCorpus();
  const cats = [...new Set(corpus.negatives.map((n) => n.category))].filter((_, i) => i % of === shard);
  const rep = evaluateCorpus([], corpus.negatives.filter((n) => cats.includes(n.category)), createMaskEngine());
  let changed = 0;
  for (const [cat, tally] of rep.byCategory) {
    for (const f of tally.failures) t.comment(`changed ${f.id}: ${f.detail}`);
    changed += tally.total - tally.ok;
    t.ok(tally.ok / tally.total >= TARGETS.categoryKept, `${cat}: kept ${tally.ok}/${tally.total} ≥ ${TARGETS.categoryKept}`);
  }
  // precision TP / (TP + FP) ≥ 0.99 with TP at least the recall target's share of the positives
  // (each shard within its share of the allowance)
  changed *= of;
  const minTp = Math.ceil(TARGETS.recall * corpus.positives.length);
  t.ok(minTp / (minTp + changed) >= TARGETS.precision, `${changed} negatives changed: precision ≥ ${(minTp / (minTp + changed)).toFixed(4)} ≥ ${TARGETS.precision}`);
}

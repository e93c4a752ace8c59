// npx tsx test/mask/independent/run.ts [--verbose] [--type T] — prints the independent corpus score.
import { generateCorpus } from './generate.js';
import { evaluateCorpus } from './evaluate.js';

const args = process.argv.slice(2);
const only = args.includes('--type') ? args[args.indexOf('--type') + 1] : undefined;
const t0 = Date.now();
const c = generateCorpus();
const pos = only ? c.positives.filter((p) => p.type === only) : c.positives;
const rep = evaluateCorpus(pos, only ? [] : c.negatives);
for (const [type, t] of [...rep.byType].sort()) {
  if (t.ok === t.total) continue;
  console.log(`type ${type}: ${t.ok}/${t.total}`);
  for (const f of t.failures) console.log(`   ${f.id}: ${args.includes('--verbose') ? f.detail : f.detail.slice(0, 140)}`);
}
for (const [cat, t] of [...rep.byCategory].sort()) {
  if (t.ok === t.total) continue;
  console.log(`category ${cat}: ${t.ok}/${t.total}`);
  for (const f of t.failures) console.log(`   ${f.id}: ${args.includes('--verbose') ? f.detail : f.detail.slice(0, 240)}`);
}
console.log(`recall ${rep.recall.toFixed(4)} precision ${rep.precision.toFixed(4)} negatives kept ${rep.negativesKept.toFixed(4)} (${rep.positives} positives, ${rep.negatives} negatives) ${Date.now() - t0} ms`);

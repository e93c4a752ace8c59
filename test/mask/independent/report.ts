// Markdown report of the independent corpus score: overall, every type under 1.00, every
// negative category, with the targets of issue 10. Printed by `npm run bench -- mask` and
// written to bench/results/mask-independent.md.
import type { Report, Tally } from './evaluate.js';

export const TARGETS = { recall: 0.99, typeRecall: 0.95, precision: 0.99, categoryKept: 0.99 };

const pct = (t: Tally) => (t.ok / t.total).toFixed(2);
const mark = (ok: boolean) => (ok ? 'ok' : 'MISS');

export function reportMarkdown(rep: Report, ms: number): string {
  const lines: string[] = [];
  const types = [...rep.byType].sort(([a], [b]) => a.localeCompare(b));
  const cats = [...rep.byCategory].sort(([a], [b]) => a.localeCompare(b));
  const worstType = Math.min(...types.map(([, t]) => t.ok / t.total));
  const worstCat = Math.min(...cats.map(([, t]) => t.ok / t.total));
  lines.push(`# Independent masking corpus (worst case over adversarial splits, 5 SSE flavours)`);
  lines.push('');
  lines.push(`${rep.positives} positives over ${types.length} types, ${rep.negatives} negatives over ${cats.length} categories; ${(ms / 1000).toFixed(0)} s.`);
  lines.push('');
  lines.push(`| figure | value | target | |`);
  lines.push(`|---|---|---|---|`);
  lines.push(`| recall | ${rep.recall.toFixed(4)} | ≥ ${TARGETS.recall} | ${mark(rep.recall >= TARGETS.recall)} |`);
  lines.push(`| worst type recall | ${worstType.toFixed(2)} | ≥ ${TARGETS.typeRecall} | ${mark(worstType >= TARGETS.typeRecall)} |`);
  lines.push(`| precision | ${rep.precision.toFixed(4)} | ≥ ${TARGETS.precision} | ${mark(rep.precision >= TARGETS.precision)} |`);
  lines.push(`| negatives kept, worst category | ${worstCat.toFixed(2)} | ≥ ${TARGETS.categoryKept} | ${mark(worstCat >= TARGETS.categoryKept)} |`);
  lines.push('');
  const under = types.filter(([, t]) => t.ok < t.total);
  lines.push(`## Types under 1.00 (${under.length} of ${types.length})`);
  lines.push('');
  if (under.length) {
    lines.push('| type | recall | missed (case: flavour, split, what leaked) |');
    lines.push('|---|---|---|');
    for (const [type, t] of under) lines.push(`| ${type} | ${pct(t)} (${t.ok}/${t.total}) | ${t.failures.map((f) => f.id + ': ' + f.detail.replace(/\|/g, '\\|')).join('<br>')} |`);
  } else lines.push('none');
  lines.push('');
  lines.push('## Negative categories');
  lines.push('');
  lines.push('| category | kept | changed |');
  lines.push('|---|---|---|');
  for (const [cat, t] of cats) lines.push(`| ${cat} | ${pct(t)} (${t.ok}/${t.total}) | ${t.failures.slice(0, 3).map((f) => f.id).join(', ')}${t.failures.length > 3 ? ' …' : ''} |`);
  return lines.join('\n') + '\n';
}

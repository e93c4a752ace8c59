// Hunts false positives: masks every text file under the given directories and prints counts per
// rule and the context around each placeholder (never the secret itself).
//   npx tsx test/mask/corpus/scan.ts node_modules/openai /usr/lib/python3.11
import { createMaskEngine } from '../../../src/mask/index.js';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const e = createMaskEngine();
const roots = process.argv.slice(2);
let files = 0, bytes = 0; const hits = new Map<string, number>();
const samples: string[] = [];
function walk(d: string) {
  for (const f of readdirSync(d)) {
    const p = join(d, f); const st = statSync(p);
    if (st.isDirectory()) { if (f !== '.bin') walk(p); continue; }
    if (!/\.(md|ts|js|mjs|cjs|json|ya?ml|py|txt)$/.test(f) || st.size > 400_000) continue;
    const t = readFileSync(p, 'utf8'); files++; bytes += t.length;
    const r = e.session().maskText(t);
    for (const fd of r.findings) hits.set(fd.rule, (hits.get(fd.rule) ?? 0) + 1);
    if (r.findings.length) {
      // show context of each placeholder
      const re = /\[MASKED:[^\]]+\]/g; let m; let k = 0;
      while ((m = re.exec(r.text)) && k < 3) { samples.push(p.replace(/^.*node_modules\//,'') + ': ' + JSON.stringify(r.text.slice(Math.max(0, m.index - 60), m.index + m[0].length + 30))); k++; }
    }
  }
}
for (const r of roots) walk(r);
console.log(files, 'files', (bytes/1e6).toFixed(1), 'MB');
console.log([...hits].sort((a,b)=>b[1]-a[1]));
for (const s of samples.slice(0, 80)) console.log(s);

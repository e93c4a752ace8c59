// Summarises a V8 .cpuprofile (from `bench/proxy.ts --cpu-prof DIR`): self time per function and per
// source file, and inclusive time of the functions under a name filter.
// (--stages) each sample attributed to the innermost wiretrail stage (src/<stage>/) or package on its stack,
// and (--long MS) the stretches of busy samples longer than MS: what blocked the event loop.
// Usage: node --import tsx bench/lib/profile-summary.ts FILE.cpuprofile [--top N] [--incl REGEX] [--stages] [--long MS]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node --import tsx bench/lib/profile-summary.ts FILE.cpuprofile [--top N] [--incl REGEX] [--stages] [--long MS]\n');
  process.exit(2);
}
const top = Number(rest[rest.indexOf('--top') + 1] ?? 25) || 25;
const inclIdx = rest.indexOf('--incl');
const incl = inclIdx >= 0 ? new RegExp(rest[inclIdx + 1]!) : null;

const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
let total = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  total += dt;
  self.set(id, (self.get(id) ?? 0) + dt);
});

const short = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/').replace(/^node:/, 'node:');
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const fnSelf = new Map<string, number>();
const fileSelf = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  fnSelf.set(label(n), (fnSelf.get(label(n)) ?? 0) + t);
  const f = short(n.callFrame.url) || `(${n.callFrame.functionName})`;
  fileSelf.set(f, (fileSelf.get(f) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`profile: ${(total / 1e6).toFixed(2)} s sampled`);
print('self time by function', fnSelf);
print('self time by file', fileSelf);

if (incl) {
  // Inclusive time: a sample counts once for every distinct matching frame on its stack.
  const inclusive = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const l = label(n);
      if (incl.test(l) && !seen.has(l)) {
        seen.add(l);
        inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
      }
    }
  });
  print(`inclusive time of frames matching ${incl}`, inclusive);
}

if (rest.includes('--stages')) {
  // The innermost frame of our own code (src/<stage>/) or of a package decides; else the leaf's file.
  const stageOf = (n: Node): string | null => {
    const u = n.callFrame.url;
    const m = /\/(?:dist\/)?src\/([^/]+)\//.exec(u);
    if (m && !u.includes('node_modules')) return `src/${m[1]}`;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    return pkg ? `pkg ${pkg[1]}` : null;
  };
  const stages = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    let key: string | null = null;
    for (let cur: number | undefined = id; cur !== undefined && key === null; cur = parent.get(cur)) key = stageOf(byId.get(cur)!);
    if (key === null) {
      const leaf = byId.get(id)!;
      key = leaf.callFrame.url ? `node ${short(leaf.callFrame.url)}` : `(${leaf.callFrame.functionName})`;
    }
    stages.set(key, (stages.get(key) ?? 0) + dt);
  });
  print('self time by innermost stage or package on the stack (else the leaf file)', stages);
}

const longIdx = rest.indexOf('--long');
if (longIdx >= 0) {
  const minMs = Number(rest[longIdx + 1] ?? 3) || 3;
  // A stretch: consecutive samples that are not (idle); its weight goes to the frames on its stacks.
  const isIdle = (id: number) => byId.get(id)!.callFrame.functionName === '(idle)';
  const stretches: { start: number; ms: number; frames: Map<string, number> }[] = [];
  let cur: { start: number; ms: number; frames: Map<string, number> } | null = null;
  let t = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    t += dt;
    if (isIdle(id)) {
      if (cur && cur.ms >= minMs) stretches.push(cur);
      cur = null;
      return;
    }
    cur ??= { start: t, ms: 0, frames: new Map() };
    cur.ms += dt;
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const node = byId.get(n)!;
      const u = node.callFrame.url;
      if (!u || u.startsWith('node:internal/process') || u.startsWith('node:internal/timers')) continue;
      const l = label(node);
      if (seen.has(l)) continue;
      seen.add(l);
      cur.frames.set(l, (cur.frames.get(l) ?? 0) + dt);
    }
  });
  console.log(`\nbusy stretches of ${minMs} ms or more: ${stretches.length}`);
  const byFrame = new Map<string, { n: number; ms: number }>();
  for (const st of stretches) {
    // the outermost frames present in (nearly) the whole stretch say what the task was
    const top = [...st.frames].filter(([, ms]) => ms >= 0.8 * st.ms).map(([l]) => l).slice(0, 4).join(' < ');
    const a = byFrame.get(top) ?? { n: 0, ms: 0 };
    a.n++;
    a.ms += st.ms;
    byFrame.set(top, a);
  }
  for (const [k, a] of [...byFrame].sort((x, y) => y[1].ms - x[1].ms).slice(0, top)) console.log(`${String(a.n).padStart(5)} × ${(a.ms / a.n).toFixed(1).padStart(6)} ms avg  ${k || '(mixed)'}`);
}

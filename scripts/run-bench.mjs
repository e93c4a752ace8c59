// npm run bench [-- --quick] [--benches proxy,audit,mask,stream] [proxy bench flags]
// Builds wiretrail (the proxy bench starts the built CLI), then runs each bench in its own process, one
// after the other so they do not compete for the cores: the proxy bench (bench/proxy.ts: s1–s6, its table
// also goes to bench/results/), then the audit log, mask and stream stage benches. Each prints its figures.
// A benchmark reports; a missed target does not fail the run. A bench that crashes does (exit 1).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
let benches = ['proxy', 'audit', 'mask', 'stream', 'metrics'];
const passThrough = [];
const positional = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--benches') benches = (argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  else if (a === '--help') {
    console.log('usage: npm run bench -- [--quick] [--benches proxy,audit,mask,stream] [--no-mitmproxy] [--only s1,...,s6] [--cpu-prof DIR]');
    process.exit(0);
  } else if (['proxy', 'audit', 'mask', 'stream', 'metrics'].includes(a) && !a.startsWith('-')) positional.push(a);
  else passThrough.push(a);
}
// `npm run bench -- mask` (bench names as words) runs just those
if (positional.length) benches = positional;
const known = new Set(['proxy', 'audit', 'mask', 'stream', 'metrics']);
for (const b of benches) {
  if (!known.has(b)) {
    console.error(`run-bench: unknown bench "${b}" (known: ${[...known].join(', ')})`);
    process.exit(2);
  }
}

// Arguments of the other benches: their sizes, smaller with --quick.
const ARGS = {
  proxy: passThrough,
  audit: [quick ? '20000' : '200000'],
  mask: [quick ? '128' : '512'],
  stream: [quick ? '1000' : '4000'],
  metrics: [quick ? '200000' : '1000000'],
};

const started = Date.now();
const node = process.execPath;
const run = (args, opts = {}) => spawnSync(node, args, { cwd: root, stdio: 'inherit', ...opts });

if (benches.includes('proxy')) {
  console.log('# build (tsc)');
  const tsc = run([join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  if (tsc.status !== 0) {
    if (!existsSync(join(root, 'dist/src/cli/main.js'))) {
      console.error('run-bench: the build failed and there is no dist/ to run');
      process.exit(1);
    }
    console.log('run-bench: tsc reported errors (see above); benchmarking the build it emitted');
  }
}

const failed = [];
for (const b of benches) {
  console.log(`\n# bench/${b}.ts ${ARGS[b].join(' ')}`.trimEnd());
  const t0 = Date.now();
  const r = run(['--import', 'tsx', join(root, 'bench', `${b}.ts`), ...ARGS[b]]);
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed.push(b);
    console.log(`bench/${b}.ts failed (exit ${r.status ?? r.signal}) after ${secs} s`);
  } else console.log(`(bench/${b}.ts: ${secs} s)`);
}
console.log(`\nbench run: ${((Date.now() - started) / 1000).toFixed(0)} s${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exit(failed.length ? 1 : 0);

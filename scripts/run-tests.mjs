// npm test: type-check and build (tsc), then run every tap test and print "N passed, N failed".
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tscRun = (project) => spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: root, stdio: 'inherit' });
// The server and its tests, then the admin UI's browser script (served from dist/ui).
const tsc = tscRun('tsconfig.json');
if (tsc.status === 0) Object.assign(tsc, tscRun('src/admin/ui/client/tsconfig.json'));
if (tsc.status !== 0) {
  console.log('type check failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function findTests(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e !== 'fixtures') out.push(...findTests(p));
    } else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}
const files = process.argv.slice(2).length ? process.argv.slice(2) : findTests(join(root, 'test'));

// tap's TAP output is parsed for top-level test points of each file: every `ok`/`not ok` at depth 1.
const child = spawn(process.execPath, [join(root, 'node_modules/tap/dist/esm/run.mjs'), '--reporter=tap', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let passed = 0;
let failed = 0;
let buf = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  buf += d.toString('utf8');
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    // depth-2 points: the tests inside each file (depth 1 is the file itself)
    const m = /^ {4}(not ok|ok) \d+/.exec(line);
    if (m && !/# SKIP|# TODO/.test(line)) {
      if (m[1] === 'ok') passed++;
      else failed++;
    }
  }
});
child.on('exit', (code) => {
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? 1);
});

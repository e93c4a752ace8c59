#!/usr/bin/env node
// Thin launcher for the compiled CLI in dist/. In a checkout, run it directly (`./bin/wiretrail.js …`, or
// `npm link` once for `wiretrail` on PATH): it starts in the time Node itself takes. tsc writes
// dist/.tsbuildinfo after every output file, so a build interrupted half-way is seen as "not built"
// and redone here instead of failing later on a missing module.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
const built = () => existsSync(entry) && existsSync(join(root, 'dist', '.tsbuildinfo'));

if (!built()) {
  let tsc = null;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    /* an installed package ships dist/; only a checkout can build */
  }
  if (!tsc) {
    process.stderr.write(`wiretrail: not built; run \`npm install\` or \`npm run build\` in ${root}\n`);
    process.exit(1);
  }
  process.stderr.write('wiretrail: building dist/ (first run in this checkout)…\n');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!built()) {
    process.stderr.write(`wiretrail: build failed (exit ${r.status}); run \`npm run build\` in ${root} to see why\n`);
    process.exit(1);
  }
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));

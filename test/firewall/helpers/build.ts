// The end-to-end test runs the built CLI (node bin/wiretrail.js) exactly as users do. `npm test`
// builds first; a single-file run rebuilds here when dist/ is missing or older than src/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'wiretrail.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return newest;
}

/** Throws with the compiler's output when dist/ cannot be brought up to date. */
export function ensureBuilt(): void {
  const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const info = join(ROOT, 'dist', '.tsbuildinfo'); // rewritten by every build that emitted something
  if (existsSync(main) && existsSync(info) && statSync(info).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { encoding: 'utf8', timeout: 540_000 });
  // tsc still emits when another stage has type errors; what matters here is that the CLI exists
  if (!existsSync(main)) throw new Error(`cannot build wiretrail (npm run build): ${(r.stdout + r.stderr).slice(0, 2000)}`);
}

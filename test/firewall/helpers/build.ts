// The end-to-end test runs the built CLI (node bin/wiretrail.js) exactly as users do. `npm test`
// builds first; a single-file run rebuilds here when dist/ is missing or older than src/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'wiretrail.js');

/** True when some .ts file under src has no .js under dist/src at least as new as itself. */
function stale(srcDir: string, distDir: string): boolean {
  for (const e of readdirSync(srcDir, { withFileTypes: true })) {
    const p = join(srcDir, e.name);
    if (e.isDirectory()) {
      if (stale(p, join(distDir, e.name))) return true;
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) {
      const out = join(distDir, e.name.replace(/\.ts$/, '.js'));
      if (!existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs) return true;
    }
  }
  return false;
}

/** Throws with the compiler's output when dist/ cannot be brought up to date. */
export function ensureBuilt(): void {
  const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  // per file: `tsc --noEmit` also rewrites dist/.tsbuildinfo, so its date proves nothing
  if (existsSync(main) && !stale(join(ROOT, 'src'), join(ROOT, 'dist', 'src'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { encoding: 'utf8', timeout: 540_000 });
  // tsc still emits when another stage has type errors; what matters here is that the CLI exists
  if (!existsSync(main)) throw new Error(`cannot build wiretrail (npm run build): ${(r.stdout + r.stderr).slice(0, 2000)}`);
}

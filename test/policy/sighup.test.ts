// `wiretrail start` reloads its policy on SIGHUP and on a change of the file; a broken file is refused
// with one clear log line and the process keeps running with the old policy.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));

t.test('SIGHUP and file changes reload; a broken file keeps the old policy', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wt-sighup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'rules:\n  - name: a\n    match: { prompt: { contains: ["x"] } }\n    action: deny\n');
  const p = spawn(process.execPath, ['--import', 'tsx', entry, 'start', '--listen', '127.0.0.1:0', '--admin', 'off', '--data', join(dir, 'data'), '--certs', join(dir, 'certs'), '--policy', policy], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => p.kill('SIGKILL'));
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) if (w.re.test(out)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  const waitFor = (re: RegExp) => (re.test(out) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ re, resolve })));
  await waitFor(/wiretrail started/);

  writeFileSync(policy, 'rules:\n  - name: b\n    action: deny\n    colour: red\n');
  await waitFor(/policy reload refused \(file changed\)/);
  p.kill('SIGHUP');
  await waitFor(/policy reload refused \(SIGHUP\)/);
  const line = out.split('\n').find((l) => l.includes('policy reload refused (SIGHUP)'))!;
  t.match(JSON.parse(line).msg, /policy\.yaml:4: rules\.0\.colour: unknown key "colour"; the previous policy stays in force$/);
  t.equal(p.exitCode, null, 'still running');

  writeFileSync(policy, 'rules:\n  - name: c\n    action: allow\n');
  await waitFor(/policy reloaded \(file changed\): 1 rules/);
  p.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  t.equal(code, 0);
});

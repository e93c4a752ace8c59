// `wiretrail mask [--stream]` through the real CLI entry: bin/wiretrail.js when dist/ is built
// and current (npm test builds it first), else src/cli/main.ts loaded with tsx.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const KEY = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';

/** Every source of the command has a compiled file at least as new. */
function distIsCurrent(): boolean {
  const sources = ['src/cli/main.ts', 'src/cli/args.ts', 'src/cli/commands/mask.ts', ...readdirSync(join(root, 'src/mask'), { recursive: true }).map((f) => `src/mask/${String(f)}`)];
  return sources
    .filter((f) => f.endsWith('.ts'))
    .every((f) => {
      const built = join(root, 'dist', f.replace(/\.ts$/, '.js'));
      return existsSync(built) && statSync(built).mtimeMs >= statSync(join(root, f)).mtimeMs;
    });
}

const viaBin = distIsCurrent();
const entry = viaBin
  ? [join(root, 'bin/wiretrail.js')]
  : ['--import', 'tsx', '-e', "import('./src/cli/main.ts').then(async m=>{process.exitCode=await m.main(process.argv.slice(1))})"];
t.comment(viaBin ? 'running bin/wiretrail.js (dist/)' : 'dist/ missing or stale: running src/cli/main.ts with tsx');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function wiretrail(args: string[], input: string | ((w: (s: string | Buffer) => void, out: () => string) => Promise<void>)): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, 'mask', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (typeof input === 'string') child.stdin.end(input);
    else input((s) => child.stdin.write(s), () => stdout).then(() => child.stdin.end(), reject);
  });
}

async function until(pred: () => boolean, ms = 20000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return pred();
}

t.test('masks stdin to stdout', async (t) => {
  const r = await wiretrail([], `apiKey: "${KEY}"\nAWS_ACCESS_KEY_ID=AKIA2E0A8F3B244C9986\nnothing here\n`);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'apiKey: "[MASKED:openai-api-key#1]"\nAWS_ACCESS_KEY_ID=[MASKED:aws-access-key-id#1]\nnothing here\n');
  t.equal(r.stderr, '');
});

t.test('--stream releases each line as it arrives', async (t) => {
  const r = await wiretrail(['--stream', '--summary'], async (write, out) => {
    write(`2024-05-01 token=${KEY} ok\n`);
    t.ok(await until(() => out().includes('\n')), 'first line out before stdin closes');
    t.equal(out(), '2024-05-01 token=[MASKED:openai-api-key#1] ok\n');
    // a UTF-8 character split across two writes, and a key split across writes
    const check = Buffer.from('✓ ');
    write(check.subarray(0, 1));
    write(Buffer.concat([check.subarray(1), Buffer.from(KEY.slice(0, 12))]));
    write(`${KEY.slice(12)} again\n`);
    t.ok(await until(() => out().split('\n').length > 2), 'second line out');
  });
  t.equal(r.code, 0);
  t.equal(r.stdout, '2024-05-01 token=[MASKED:openai-api-key#1] ok\n✓ [MASKED:openai-api-key#1] again\n');
  t.equal(r.stderr, 'wiretrail mask: 2 secret(s) masked: openai-api-key 2\n', 'summary counts, never secrets');
});

t.test('options: placeholder, allow, rule, policy', async (t) => {
  const r = await wiretrail(['--placeholder', '<{rule}>', '--allow', 'AKIA2E0A8F3B244C9986', '--rule', 'corp-id=CORP-[0-9]{4}'], `CORP-1234 AKIA2E0A8F3B244C9986 ${KEY}\n`);
  t.equal(r.code, 0);
  t.equal(r.stdout, '<corp-id> AKIA2E0A8F3B244C9986 <openai-api-key>\n');
  const dir = mkdtempSync(join(tmpdir(), 'wt-mask-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'mask:\n  placeholder: "{{{rule}}}"\n  rules:\n    - name: corp-id\n      regex: "CORP-[0-9]{4}"\n');
  const p = await wiretrail(['--policy', policy, '--stream'], 'id CORP-9876\n');
  t.equal(p.code, 0);
  t.equal(p.stdout, 'id {{corp-id}}\n');
});

t.test('help, rule list and usage errors', async (t) => {
  const h = await wiretrail(['--help'], '');
  t.equal(h.code, 0);
  t.match(h.stdout, /--stream/);
  const l = await wiretrail(['--list-rules'], '');
  t.equal(l.code, 0);
  t.ok(l.stdout.split('\n').filter(Boolean).length >= 60, 'lists the catalog');
  const bad = await wiretrail(['--nope'], '');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^wiretrail mask: .*--nope/);
  const re = await wiretrail(['--rule', 'x=('], '');
  t.equal(re.code, 2);
  t.match(re.stderr, /invalid regex/);
  const missing = await wiretrail(['--policy', '/nonexistent/policy.yaml'], '');
  t.equal(missing.code, 1);
  t.equal(missing.stderr.split('\n').filter(Boolean).length, 1, 'one line on stderr');
});

t.test('a reader that goes away (| head) ends the filter with exit 0', async (t) => {
  const child = spawn(process.execPath, [...entry, 'mask', '--stream'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const line = `password=hunter2abc ${KEY}\n`;
  const pump = setInterval(() => {
    if (!child.stdin.destroyed) child.stdin.write(line.repeat(200));
  }, 5);
  child.stdin.on('error', () => {});
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(pump);
  t.equal(code, 0);
  t.equal(stderr, '');
});

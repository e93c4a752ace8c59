// Node.js < 22.21 ignores NODE_USE_ENV_PROXY: the preload `wiretrail env` prints makes the `openai` SDK (fetch)
// go through the proxy; `wiretrail env --client X` prints exactly that client's lines with a note each.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startMockUpstream, openaiHandler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';
import { runCli } from '../helpers/cli.js';
import { CLIENTS, nodeProxyPreload, preloadOption, preloadPath } from '../../src/ca/index.js';

const openaiEntry = createRequire(import.meta.url).resolve('openai');

/** Evaluates sh output and returns the variables it exported (only those: the test's own env is not inherited). */
function shEval(script: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', 'eval "$WT_ENV" && env -0'], { env: { PATH: process.env.PATH, WT_ENV: script } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`sh exited ${code}`));
      resolve(Object.fromEntries(out.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
    });
  });
}

function runNode(file: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

t.test('nodeProxyPreload: which Node versions need it', async (t) => {
  for (const v of ['v20.18.1', 'v20.20.2', 'v22.20.0', 'v23.11.0', 'v18.0.0']) t.equal(nodeProxyPreload(v).needed, true, v);
  for (const v of ['v22.21.0', 'v22.22.1', 'v24.0.0', 'v26.1.0']) t.equal(nodeProxyPreload(v).needed, false, v);
  t.match(nodeProxyPreload('v20.20.2').why, /ignores NODE_USE_ENV_PROXY/);
});

t.test('env --client prints exactly that client\'s lines, each with a note', async (t) => {
  const cwd = t.testdir();
  const want: Record<string, string[]> = {
    claude: ['HTTPS_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS'],
    codex: ['HTTPS_PROXY', 'NO_PROXY', 'CODEX_CA_CERTIFICATE'],
    gemini: ['HTTPS_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS'],
    copilot: ['HTTPS_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS'],
    node: ['HTTPS_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS', nodeProxyPreload(process.version).needed ? 'NODE_OPTIONS' : 'NODE_USE_ENV_PROXY'],
    python: ['HTTPS_PROXY', 'NO_PROXY', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE'],
    curl: ['https_proxy', 'no_proxy', 'CURL_CA_BUNDLE'],
    git: ['https_proxy', 'no_proxy', 'GIT_SSL_CAINFO'],
    go: ['HTTPS_PROXY', 'NO_PROXY', 'SSL_CERT_FILE'],
    java: ['JAVA_TOOL_OPTIONS'],
  };
  t.same(Object.keys(want).sort(), [...CLIENTS].sort(), 'every client is covered');
  for (const client of CLIENTS) {
    const r = await runCli(['env', '--client', client, '--certs', join(cwd, 'certs')], { cwd });
    t.equal(r.code, 0, `${client}: ${r.stderr}`);
    const lines = r.stdout.trimEnd().split('\n');
    t.equal(lines.length, want[client]!.length * 2, `${client}: a note and a line per variable`);
    for (let i = 0; i < lines.length; i += 2) t.match(lines[i], /^# \S.{10,}/, `${client}: note`);
    t.same(lines.filter((_, i) => i % 2 === 1).map((l) => /^export ([A-Za-z_]+)=/.exec(l)?.[1]), want[client], client);
    const vars = await shEval(r.stdout);
    for (const n of want[client]!) t.ok(vars[n], `${client}: ${n} set`);
  }
  const java = await shEval((await runCli(['env', '--client', 'java', '--certs', join(cwd, 'certs'), '--proxy', 'http://10.0.0.1:3128'], { cwd })).stdout);
  t.match(java.JAVA_TOOL_OPTIONS, /-Dhttps\.proxyHost=10\.0\.0\.1 -Dhttps\.proxyPort=3128/);
  const bad = await runCli(['env', '--client', 'emacs'], { cwd });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--client: expected one of claude, codex/);
});

t.test('the openai SDK on this Node goes through wiretrail with the printed lines (preload on Node < 22.21)', async (t) => {
  const mock = await startMockUpstream({ handler: openaiHandler() });
  const h = await startHarness({ upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`] });
  t.teardown(async () => {
    await h.stop();
    await mock.close();
  });
  const dir = t.testdir();
  const script = join(dir, 'client.mjs');
  writeFileSync(
    script,
    `import OpenAI from ${JSON.stringify(openaiEntry)};
const c = new OpenAI({ apiKey: 'sk-client-test', maxRetries: 0, timeout: 8000 });
try {
  const r = await c.chat.completions.create({ model: 'test-model', messages: [{ role: 'user', content: 'through the preload' }] });
  console.log(r.choices[0].message.content);
} catch (e) { console.log('FAILED ' + e.constructor.name); process.exitCode = 3; }
`,
  );
  const env = await runCli(['env', '--client', 'node', '--proxy', h.proxyUrl, '--certs', h.certsDir]);
  t.equal(env.code, 0, env.stderr);
  const vars = await shEval(env.stdout);
  const ok = await runNode(script, vars);
  t.equal(ok.stdout.trim(), 'echo: through the preload', ok.stderr);
  const recorded = () => allSessions(h).then((s) => s.filter((recs) => recs.some((r) => r.kind === 'request')).length);
  t.equal(await recorded(), 1, 'recorded by the proxy');

  // The preload itself, whatever this Node's version: it must route fetch through the proxy.
  const forced = await runNode(script, { HTTPS_PROXY: h.proxyUrl, NODE_EXTRA_CA_CERTS: vars.NODE_EXTRA_CA_CERTS!, NODE_OPTIONS: preloadOption(preloadPath()) });
  t.equal(forced.stdout.trim(), 'echo: through the preload', forced.stderr);
  t.equal(await recorded(), 2);

  if (nodeProxyPreload(process.version).needed) {
    // What users got before: NODE_USE_ENV_PROXY alone is ignored here, and the SDK never reaches the proxy.
    const before = await runNode(script, { HTTPS_PROXY: h.proxyUrl, NODE_EXTRA_CA_CERTS: vars.NODE_EXTRA_CA_CERTS!, NODE_USE_ENV_PROXY: '1' });
    t.match(before.stdout, /^FAILED /, 'went direct (and failed) without the preload');
    t.equal(await recorded(), 2, 'nothing reached the proxy');
  }
});

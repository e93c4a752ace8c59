// Runs one coding agent end to end inside a loopback-only network namespace (started by suite.ts with
// `unshare -n`): fake provider + wiretrail + the agent with exactly the lines `wiretrail env --client` prints
// (plus its key variable and telemetry/update switches). Prints one JSON line with everything the test checks.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness } from '../helpers/harness.js';
import { runCli } from '../helpers/cli.js';
import { BEDROCK_HOST, BEDROCK_KEY, FAKE_SECRET, startFakeProvider } from './fake-provider.js';
import { AGENTS, PROMPT, agentBin, type AgentSpec } from './agents.js';

const HOSTS = [
  'api.anthropic.com',
  'api.openai.com',
  'generativelanguage.googleapis.com',
  'api.github.com',
  'api.githubcopilot.com',
  'api.individual.githubcopilot.com',
  BEDROCK_HOST,
];

// The AWS credential wiretrail signs Bedrock requests with (the agents hold none); the fake Bedrock accepts
// only signatures made with it.
process.env.WT_AGENT_AWS_ACCESS_KEY_ID = BEDROCK_KEY.accessKeyId;
process.env.WT_AGENT_AWS_SECRET_ACCESS_KEY = BEDROCK_KEY.secretAccessKey;
const BEDROCK_POLICY = `hosts:\n  ${BEDROCK_HOST}:\n    aws_sigv4:\n      - access_key_id: \${env:WT_AGENT_AWS_ACCESS_KEY_ID}\n        secret_access_key: \${env:WT_AGENT_AWS_SECRET_ACCESS_KEY}\n`;

const name = process.argv[2] as AgentSpec['name'];
const spec = AGENTS[name];
if (!spec) throw new Error(`unknown agent "${name}"`);
const timeoutMs = Number(process.argv[3] ?? 120_000);

if (process.env.WT_AGENT_NETNS !== '1') throw new Error('runner.ts must run inside the agent suite network namespace (see suite.ts)');
if (process.env.NODE_OPTIONS) throw new Error('runner.ts must start without NODE_OPTIONS: the agents get exactly the printed environment');
const lo = spawnSync('ip', ['link', 'set', 'lo', 'up']);
if (lo.status !== 0) throw new Error(`ip link set lo up: ${lo.stderr}`);

/** `sh -c 'eval …; env -0'`: exactly the variables the printed lines set. */
function evalEnv(script: string): Record<string, string> {
  const r = spawnSync('sh', ['-c', 'eval "$WT_ENV" && env -0'], { env: { WT_ENV: script, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`eval of wiretrail env failed: ${r.stderr}`);
  const vars = Object.fromEntries(r.stdout.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  for (const k of ['PWD', 'SHLVL', '_', 'PATH', 'WT_ENV']) delete vars[k];
  return vars;
}

function runAgent(bin: string, env: Record<string, string>, cwd: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const p = spawn(bin, spec.args(PROMPT), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const bin = agentBin(spec);
const hosts = [...HOSTS, ...(spec.hosts ?? [])];
const fake = await startFakeProvider(hosts);
const intercept = spec.defaultPolicy ? '' : `intercept:\n${HOSTS.map((h) => `  - ${h}\n`).join('')}`;
const policy = `version: 1\negress: audit\n${intercept}${BEDROCK_POLICY}`;
const h = await startHarness({ policy, upstreamCa: [fake.caFile], connectTo: hosts.map((host) => `${host}:443:127.0.0.1:${fake.port}`) });
const home = mkdtempSync(join(tmpdir(), `wt-agent-${name}-`));
let result: Record<string, unknown>;
try {
  const env = await runCli(['env', '--client', spec.client, '--proxy', h.proxyUrl, '--certs', h.certsDir]);
  if (env.code !== 0) throw new Error(`wiretrail env --client ${spec.client}: ${env.stderr}`);
  const printed = evalEnv(env.stdout);
  spec.setup?.(home);
  const agentEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: home, TERM: 'dumb', LANG: 'C.UTF-8', ...printed, ...spec.env(home) };
  const run = await runAgent(bin, agentEnv, home);
  await h.recorder.drained();
  const sessions = await h.recorder.listSessions();
  const requests: Array<{ session: string; host: string; path: string; agent: unknown; signedBy: unknown; clientSigned: boolean; adapter: unknown; forwardedIntact: unknown; body: string }> = [];
  let recorded = '';
  const websockets: Array<{ session: string; kinds: string[] }> = [];
  for (const s of sessions) {
    const recs = await h.recorder.readSession(s.session);
    for (const r of recs) recorded += `${JSON.stringify(r.meta)}\n${r.body?.toString('utf8') ?? ''}\n`;
    for (const r of recs) {
      if (r.kind !== 'request') continue;
      const headers = (r.meta.headers ?? {}) as Record<string, unknown>;
      const end = recs.find((e) => e.kind === 'response-end' && e.meta.n === r.meta.n);
      requests.push({ session: s.session, host: String(r.meta.host), path: String(r.meta.path), agent: r.meta.agent ?? null, signedBy: r.meta.signedBy ?? null, clientSigned: 'x-amz-date' in headers, adapter: end?.meta.adapter ?? null, forwardedIntact: r.meta.forwardedIntact ?? null, body: r.body?.toString('utf8').slice(0, 2000) ?? '' });
    }
    if (recs.some((r) => r.kind === 'request' && r.meta.upgrade === 'websocket')) websockets.push({ session: s.session, kinds: recs.map((r) => String(r.kind)) });
  }
  await h.close();
  const verify = await runCli(['verify', '--data', h.dataDir, '--certs', h.certsDir]);
  const list = await runCli(['sessions', 'list', '--data', h.dataDir, '--certs', h.certsDir, '--json']);
  result = {
    agent: name,
    version: spec.version,
    printedEnv: Object.keys(printed),
    run,
    requests,
    websockets,
    summaries: JSON.parse(list.stdout || '[]'),
    verify: { code: verify.code, stdout: verify.stdout, stderr: verify.stderr },
    fakeSeen: fake.seen,
    // Which of the agent's credentials (and the answer's secret) the record holds raw: must be none.
    recordLeaks: [FAKE_SECRET, ...(spec.recordSecrets ?? [])].filter((secret) => recorded.includes(secret)),
  };
} finally {
  await fake.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(h.dir, { recursive: true, force: true });
}
process.stdout.write(`AGENT-RESULT ${JSON.stringify(result)}\n`);
process.exit(0);

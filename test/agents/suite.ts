// One agent of the agent suite as a tap test: runs runner.ts inside `unshare -n` (a loopback-only network
// namespace: nothing can leave the machine) and checks what an outside user would: the agent finished,
// printed the provider's text, never the fake secret, was recorded under its own attributed session, and the
// log verifies. A missing or wrong agent version fails (agents.ts), it is never skipped.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AGENTS, agentBin, type AgentSpec } from './agents.js';
import { ANSWER_MARK, FAKE_SECRET } from './fake-provider.js';

const runner = fileURLToPath(new URL('./runner.ts', import.meta.url));
/** Per agent run (the agent itself); the whole file has tap's own timeout above it. */
const AGENT_TIMEOUT_MS = 150_000;

export interface AgentResult {
  agent: string;
  version: string;
  printedEnv: string[];
  run: { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number };
  requests: Array<{ session: string; host: string; path: string; agent: { name: string; version: string } | null; signedBy: string | null; clientSigned: boolean; adapter: string | null; forwardedIntact: string | null; body: string }>;
  websockets: Array<{ session: string; kinds: string[] }>;
  summaries: Array<{ session: string; agents?: string[] }>;
  verify: { code: number; stdout: string; stderr: string };
  fakeSeen: Array<{ host: string; path: string; transport: string; userAgent: string; sigv4?: string | null; outcome?: string }>;
  /** Secrets (the answer's, the agent's credentials) found raw in the record: must be empty. */
  recordLeaks: string[];
}

/**
 * The runner's environment, set by `env -i` (not spawn's env option: the test runner re-injects its loader
 * through NODE_OPTIONS into every child it sees), so the agent gets exactly what `wiretrail env` prints plus
 * its own switches.
 */
function cleanEnv(): string[] {
  const env = ['WT_AGENT_NETNS=1'];
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k] !== undefined) env.push(`${k}=${process.env[k]}`);
  return env;
}

function runInNetns(name: string): Promise<{ result: AgentResult | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn('env', ['-i', ...cleanEnv(), 'unshare', '-n', '--', process.execPath, '--import', 'tsx', runner, name, String(AGENT_TIMEOUT_MS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('AGENT-RESULT '));
      resolve({ result: line ? (JSON.parse(line.slice('AGENT-RESULT '.length)) as AgentResult) : null, output: out.slice(-4000) });
    });
  });
}

export function agentSuite(name: AgentSpec['name'], providerPath: RegExp, check?: (t: Test, r: AgentResult) => void): void {
  const spec = AGENTS[name];
  t.test(`${spec.pkg}@${spec.version} headless through wiretrail`, async (t) => {
    agentBin(spec); // throws (fails the test) when the pinned package is missing
    const { result: r, output } = await runInNetns(name);
    if (!r) {
      t.fail(`the runner printed no result:\n${output}`);
      return;
    }
    t.equal(r.run.signal, null, `finished within ${AGENT_TIMEOUT_MS} ms`);
    t.equal(r.run.code, 0, `exit 0\nstdout: ${r.run.stdout.slice(-800)}\nstderr: ${r.run.stderr.slice(-1500)}`);
    t.match(r.run.stdout, ANSWER_MARK, "printed the provider's text");
    t.match(r.run.stdout, /\[MASKED:openai-api-key#\d+\]/, 'with the secret masked');
    for (const piece of [FAKE_SECRET, FAKE_SECRET.slice(11, 30)]) t.notOk(`${r.run.stdout}${r.run.stderr}`.includes(piece), 'never printed the secret (or a piece of it)');
    const model = r.requests.filter((q) => providerPath.test(q.path));
    t.ok(model.length >= 1, `the model call was recorded (${r.requests.map((q) => `${q.host}${q.path}`).join(', ')})`);
    for (const q of model) t.same(q.agent, { name: spec.attributedAs, version: spec.version }, `attributed: ${q.path}`);
    const sessions = new Set(model.map((q) => q.session));
    for (const s of sessions) t.ok(r.summaries.find((x) => x.session === s)?.agents?.includes(`${spec.attributedAs}/${spec.version}`), `session ${s} names the agent`);
    t.same(r.recordLeaks, [], 'the record holds no secret raw (the answer, the agent credentials)');
    t.equal(r.verify.code, 0, `wiretrail verify: ${r.verify.stdout}${r.verify.stderr}`);
    t.match(r.verify.stdout, /^ok: /);
    check?.(t, r);
    t.comment(`${spec.pkg}@${spec.version}: ${r.run.ms} ms, env ${r.printedEnv.join(' ')}`);
  });
}

// Agent attribution: the User-Agent names the agent and version on the request record, in the session
// summary, and in `wiretrail sessions list` (and a tampered summary still fails verify).
import t from 'tap';
import { rmSync } from 'node:fs';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import OpenAI from 'openai';
import { AGENT_RULES, agentFromUserAgent } from '../../src/proxy/user-agent.js';
import { startMockUpstream, openaiHandler } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allSessions } from '../helpers/records.js';
import { runCli } from '../helpers/cli.js';

t.test('every rule recognises its real example and nothing else claims it first', async (t) => {
  for (const r of AGENT_RULES) {
    const got = agentFromUserAgent(r.example);
    t.equal(got?.name, r.name, r.example);
  }
  t.same(agentFromUserAgent('claude-cli/2.1.332 (external, sdk-cli)'), { name: 'claude-code', version: '2.1.332' });
  t.same(agentFromUserAgent('codex_cli_rs/0.144.0 (Mac OS 15.1.0; arm64) iTerm.app/3.5.0'), { name: 'codex', version: '0.144.0' });
  t.same(agentFromUserAgent('GeminiCLI/0.61.0/gemini-2.5-flash (linux; x64)'), { name: 'gemini-cli', version: '0.61.0' });
  t.same(agentFromUserAgent(['OpenAI/JS 6.49.0']), { name: 'openai-node', version: '6.49.0' });
  t.equal(agentFromUserAgent('Mozilla/5.0 (X11; Linux x86_64)'), null);
  t.equal(agentFromUserAgent(''), null);
  t.equal(agentFromUserAgent(undefined), null);
  // A version is bounded and never swallows the rest of the header.
  const long = agentFromUserAgent(`claude-cli/${'1'.repeat(100)}`);
  t.equal(long?.version.length, 40);
  t.equal(agentFromUserAgent('claude-cli/ (x)'), null, 'no version, no claim');
});

t.test('sessions record the agent; sessions list shows it; verify passes', async (t) => {
  const mock = await startMockUpstream({ handler: openaiHandler() });
  const h = await startHarness({ upstreamCa: [mock.caFile], connectTo: [`api.openai.com:443:127.0.0.1:${mock.port}`] });
  t.teardown(async () => {
    await mock.close();
  });
  const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
  const client = new OpenAI({ apiKey: 'sk-client-test', fetchOptions: { dispatcher } as never, maxRetries: 0 });
  const out = await client.chat.completions.create({ model: 'test-model', messages: [{ role: 'user', content: 'hi' }] });
  t.equal(out.choices[0]?.message.content, 'echo: hi');
  // A second connection with a coding agent's User-Agent.
  const res = await undiciFetch('https://api.openai.com/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'codex_exec/0.171.0 (Debian 12.0.0; x86_64) unknown (codex_exec; 0.171.0)' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'yo' }] }),
    dispatcher: new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } }),
  });
  t.equal(res.status, 200);
  await res.text();
  await dispatcher.close();

  const sessions = await allSessions(h);
  const agents = sessions.map((recs) => recs.find((r) => r.kind === 'request')?.meta.agent).filter(Boolean);
  t.same(agents.map((a) => (a as { name: string }).name).sort(), ['codex', 'openai-node']);
  const list = await h.recorder.listSessions();
  const named = list.flatMap((s) => s.agents ?? []).sort();
  t.equal(named.length, 2);
  t.match(named[0], /^codex\/0\.171\.0$/);
  t.match(named[1], /^openai-node\/\d+\.\d+\.\d+/);

  // Closed (not removed): the CLI reads the store directly, as a user would.
  await h.close();
  const list2 = await runCli(['sessions', 'list', '--data', h.dataDir, '--certs', h.certsDir]);
  t.equal(list2.code, 0, list2.stderr);
  t.match(list2.stdout, /AGENT/);
  t.match(list2.stdout, /codex\/0\.171\.0/);
  t.match(list2.stdout, /openai-node\/\d/);
  const v = await runCli(['verify', '--data', h.dataDir, '--certs', h.certsDir]);
  t.equal(v.code, 0, v.stderr);
  rmSync(h.dir, { recursive: true, force: true });
});

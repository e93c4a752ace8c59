// `wiretrail sessions list|show|search|tail` over a log with sessions of different hosts, models,
// agents and decisions: newest first, every filter, the conversation view, text search, and a live
// follow of a running log through its admin routes.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openAuditLog, auditAdminRoutes, type AuditLog } from '../../src/audit/index.js';
import { quiet, tempDirs } from '../audit/helpers.js';
import { runHere, adminServer } from '../audit/cli-helpers.js';

const dev = { kind: 'oidc', subject: 'sub-dev', groups: ['dev'], attributes: { repository: 'acme/app', run_id: '1234', sha: 'abcdef1234567890' } };

function sse(deltas: string[]): Buffer {
  return Buffer.from(deltas.map((d, i) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: d } }], ...(i === deltas.length - 1 ? { usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } } : {}) })}\n\n`).join('') + 'data: [DONE]\n\n');
}

async function chat(log: AuditLog, session: string, host: string, model: string, prompt: string, answer: string[], ua: string): Promise<void> {
  await log.append({ session, kind: 'connect', meta: { target: `${host}:443`, identity: dev as never } });
  const req = { model, stream: true, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: prompt }] };
  await log.append({ session, kind: 'request', meta: { n: 1, method: 'POST', host, path: '/v1/chat/completions', adapter: 'openai-chat', headers: { 'user-agent': ua }, findings: [], identity: dev as never }, body: Buffer.from(JSON.stringify(req)) });
  await log.append({ session, kind: 'response-head', meta: { n: 1, status: 200, headers: { 'content-type': 'text/event-stream' }, adapter: 'openai-chat', ttfbMs: 3 } });
  await log.append({ session, kind: 'chunk', meta: { n: 1, at: Date.now(), i: 1 }, body: sse(answer) });
  await log.append({ session, kind: 'response-end', meta: { n: 1, status: 200, durationMs: 9, findings: ['openai-api-key'] } });
  await log.endSession(session);
}

async function denied(log: AuditLog, session: string): Promise<void> {
  await log.append({ session, kind: 'deny', meta: { phase: 'connect', reason: 'host not allowed', status: 403, target: 'evil.example:443' } });
  await log.endSession(session);
}

const { dataDir, certsDir } = tempDirs(t);
const log = await openAuditLog({ dataDir, certsDir, logger: quiet, origin: 'cli-sessions.test/log', checkpointEveryRecords: 10 });
// Sequential, in id order: sess-3 is the newest (by time, and by id when the clock ties).
await chat(log, 'sess-1', 'api.openai.com', 'gpt-4.1-mini', 'write a haiku about tides', ['Moon pulls ', 'the sea'], 'OpenAI/JS 6.49.0');
await chat(log, 'sess-2', 'api.anthropic-gateway.example', 'claude-x', 'explain the [MASKED:openai-api-key#1] rotation', ['Rotate ', 'often'], 'claude-cli/2.0.1 (external, cli)');
await denied(log, 'sess-3');
const admin = await adminServer(auditAdminRoutes(log), 'tok');
t.teardown(async () => {
  await admin.close();
  await log.close();
});
const listed = async (args: string[]) => {
  const r = await runHere(['sessions', 'list', ...args, '--json'], { WIRETRAIL_ADMIN_TOKEN: 'tok' });
  t.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Array<{ session: string }>).map((s) => s.session);
};
const src = ['--admin', admin.url];
process.env.WIRETRAIL_ADMIN_TOKEN = 'tok';

t.test('list: newest first, limit, and each filter', async (t) => {
  t.same(await listed(src), ['sess-3', 'sess-2', 'sess-1'], 'newest first');
  t.same(await listed([...src, '--limit', '2']), ['sess-3', 'sess-2'], '--limit keeps the newest');
  t.same(await listed([...src, '--host', 'api.openai.com']), ['sess-1']);
  t.same(await listed([...src, '--model', 'claude']), ['sess-2']);
  t.same(await listed([...src, '--agent', 'claude-code']), ['sess-2'], 'agent parsed from the User-Agent');
  t.same(await listed([...src, '--decision', 'denied']), ['sess-3']);
  t.same(await listed([...src, '--repository', 'acme/app']), ['sess-2', 'sess-1'], 'CI claims');
  t.same(await listed([...src, '--group', 'dev']), ['sess-2', 'sess-1']);
  const table = await runHere(['sessions', 'list', ...src]);
  t.match(table.stdout, /TIME\s+SESSION\s+USER\s+AGENT\s+HOST\s+MODEL\s+REQS\s+TOKENS\s+MASKED\s+DECISION/);
  t.match(table.stdout, /sess-1\s+sub-dev\s+openai-node\/6\.49\.0\s+api\.openai\.com\s+gpt-4\.1-mini\s+1\s+12\s+1\s+allowed/);
  t.equal((await runHere(['sessions', 'list', ...src, '--decision', 'maybe'])).code, 2, 'an unknown decision is a usage error');
});

t.test('search finds text in masked prompts and answers', async (t) => {
  const r = await runHere(['sessions', 'search', 'ROTATION', ...src, '--json']);
  t.equal(r.code, 0, r.stderr);
  t.same((JSON.parse(r.stdout) as Array<{ session: string }>).map((s) => s.session), ['sess-2']);
  const answer = await runHere(['sessions', 'search', 'moon pulls', ...src, '--json']);
  t.same((JSON.parse(answer.stdout) as Array<{ session: string }>).map((s) => s.session), ['sess-1'], 'text of a streamed answer, reassembled');
  const none = await runHere(['sessions', 'search', 'no such words', ...src, '--json']);
  t.same(JSON.parse(none.stdout), []);
});

t.test('show prints the conversation; --raw the records', async (t) => {
  const r = await runHere(['sessions', 'show', 'sess-1', ...src]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /#1 POST api\.openai\.com\/v1\/chat\/completions\s+gpt-4\.1-mini\s+status 200 complete/);
  t.match(r.stdout, /system:\n {4}be brief/);
  t.match(r.stdout, /user:\n {4}write a haiku about tides/);
  t.match(r.stdout, /assistant:\n {4}Moon pulls the sea/);
  const raw = await runHere(['sessions', 'show', 'sess-1', ...src, '--raw']);
  t.match(raw.stdout, /#0 seq \d+ \S+ connect/);
});

t.test('tail follows a running log', async (t) => {
  const entry = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'sessions', 'tail', ...src, '--json', '--interval', '100'], { env: { ...process.env, WIRETRAIL_ADMIN_TOKEN: 'tok' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = (id: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (out.includes(`"session":"${id}"`)) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      const onData = (d: Buffer) => {
        out += d.toString('utf8');
        check();
      };
      child.stdout.on('data', onData);
      check();
    });
  await seen('sess-3');
  await chat(log, 'sess-4', 'api.openai.com', 'gpt-4.1', 'tail me', ['ok'], 'curl/8.0');
  await seen('sess-4');
  const code = await new Promise<number | null>((resolve) => {
    child.on('close', resolve);
    child.kill('SIGTERM');
  });
  t.equal(code, 0, 'tail ends cleanly on SIGTERM');
  t.match(out, /"agent":"curl\/8\.0"/);
});

// Sessions of every kind the session indexes care about, written through the audit log's append
// API exactly as the proxy records them: OpenAI and Anthropic streams with usage, a CI identity,
// several exchanges per session, a denied CONNECT, a blind tunnel, an upstream error, an approval.
// `phase` 1 stops in the middle of an exchange (the crash test ingests it, then writes phase 2).
import type { AppendInput, JsonObject } from '../../src/audit/index.js';

/** Where the fixture's records go: a log's append/endSession, or (crash test) synchronous appends. */
export interface Sink {
  append(input: AppendInput): Promise<unknown>;
  endSession(session: string): Promise<unknown>;
}
type Log = Sink;

export const ci = { kind: 'oidc', subject: 'sub-ci', email: 'ci@acme.example', groups: ['ci', 'dev'], attributes: { repository: 'acme/app', run_id: '1234', sha: 'abc123' } };
export const alice = { kind: 'token', subject: 'alice', groups: ['dev'] };

function openaiSse(deltas: string[], total: number): Buffer[] {
  return deltas.map((d, i) => Buffer.from(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: d } }], ...(i === deltas.length - 1 ? { usage: { prompt_tokens: total - 3, completion_tokens: 3, total_tokens: total } } : {}) })}\n\n${i === deltas.length - 1 ? 'data: [DONE]\n\n' : ''}`));
}

function anthropicSse(text: string[]): Buffer[] {
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    Buffer.from(ev('message_start', { message: { usage: { input_tokens: 20, output_tokens: 1 } } }) + ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })),
    ...text.map((t) => Buffer.from(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: t } }))),
    Buffer.from(ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }) + ev('message_stop', {})),
  ];
}

interface Exchange {
  n: number;
  host: string;
  path: string;
  adapter: string;
  model: string;
  prompt: string;
  chunks: Buffer[];
  ua: string;
  identity: object;
  findings?: string[];
}

async function request(log: Log, session: string, x: Exchange): Promise<void> {
  const body = x.adapter === 'anthropic-messages' ? { model: x.model, stream: true, messages: [{ role: 'user', content: x.prompt }] } : { model: x.model, stream: true, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: x.prompt }] };
  await log.append({ session, kind: 'request', meta: { n: x.n, method: 'POST', host: x.host, path: x.path, adapter: x.adapter, headers: { 'user-agent': x.ua }, findings: x.findings ?? [], identity: x.identity as JsonObject }, body: Buffer.from(JSON.stringify(body)) });
  await log.append({ session, kind: 'response-head', meta: { n: x.n, status: 200, headers: { 'content-type': 'text/event-stream' }, adapter: x.adapter, ttfbMs: 3 } });
}

async function chunks(log: Log, session: string, x: Exchange, from: number, to: number): Promise<void> {
  for (let i = from; i < Math.min(to, x.chunks.length); i++) await log.append({ session, kind: 'chunk', meta: { n: x.n, at: Date.now(), i }, body: x.chunks[i]! });
}

async function end(log: Log, session: string, x: Exchange): Promise<void> {
  await log.append({ session, kind: 'response-end', meta: { n: x.n, status: 200, durationMs: 9, findings: ['openai-api-key'] } });
}

async function whole(log: Log, session: string, x: Exchange): Promise<void> {
  await request(log, session, x);
  await chunks(log, session, x, 0, x.chunks.length);
  await end(log, session, x);
}

const tides: Exchange = { n: 1, host: 'api.openai.com', path: '/v1/chat/completions', adapter: 'openai-chat', model: 'gpt-4.1-mini', prompt: 'write a haiku about tides', chunks: openaiSse(['Moon pul', 'ls the ', 'sea'], 12), ua: 'OpenAI/JS 6.49.0', identity: ci };
const rotate: Exchange = { n: 1, host: 'api.anthropic.com', path: '/v1/messages', adapter: 'anthropic-messages', model: 'claude-sonnet-4-5', prompt: 'explain the [MASKED:openai-api-key#1] rotation', chunks: anthropicSse(['Rotate ', 'keys ', 'quarterly']), ua: 'claude-cli/2.0.1 (external, cli)', identity: alice, findings: ['openai-api-key'] };
const second: Exchange = { ...rotate, n: 2, prompt: 'and the zebrafish?', chunks: anthropicSse(['Zebra', 'fish ', 'regenerate']) };

/** Writes the fixture sessions; phase 1 leaves `long` mid-exchange, phase 2 finishes it. */
export async function writeFixture(log: Log, phase: 1 | 2 | 'all'): Promise<void> {
  if (phase === 1 || phase === 'all') {
    await log.append({ session: 'tides', kind: 'connect', meta: { target: 'api.openai.com:443', identity: ci as JsonObject } });
    await whole(log, 'tides', tides);
    await log.endSession('tides');
    await log.append({ session: 'denied', kind: 'deny', meta: { phase: 'connect', reason: 'host not allowed', status: 403, target: 'evil.example:443' } });
    await log.endSession('denied');
    await log.append({ session: 'tunnel', kind: 'tunnel', meta: { target: 'github.com:443', identity: alice as JsonObject } });
    await log.endSession('tunnel');
    await log.append({ session: 'long', kind: 'connect', meta: { target: 'api.anthropic.com:443', identity: alice as JsonObject, agent: { name: 'claude-code', version: '2.0.1' } } });
    await whole(log, 'long', rotate);
    await request(log, 'long', second);
    await chunks(log, 'long', second, 0, 2);
  }
  if (phase === 2 || phase === 'all') {
    await chunks(log, 'long', second, 2, 99);
    await end(log, 'long', second);
    await log.endSession('long');
    await log.append({ session: 'broken', kind: 'request', meta: { n: 1, method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', adapter: 'openai-chat', headers: { 'user-agent': 'curl/8.0' }, findings: [], identity: alice as JsonObject }, body: Buffer.from('{"model":"gpt-4.1","messages":[{"role":"user","content":"will fail"}]}') });
    await log.append({ session: 'broken', kind: 'error', meta: { n: 1, reason: 'upstream reset', status: 502 } });
    await log.endSession('broken');
    await log.append({ session: 'held', kind: 'policy', meta: { n: 1, event: 'approved', approval: { by: 'admin', at: 1 }, identity: alice as JsonObject } });
    await whole(log, 'held', { ...tides, n: 1, identity: alice, prompt: 'approved please' });
    await log.endSession('held');
  }
}

/** Session ids of the fixture, newest first. */
export const NEWEST_FIRST = ['held', 'broken', 'long', 'tunnel', 'denied', 'tides'];

// A local fake AI provider speaking the real wire formats the coding agents use, over HTTPS with its own test
// CA (one leaf per host by SNI): Anthropic Messages (SSE and JSON), OpenAI Responses (SSE and WebSocket) and
// Chat Completions, Gemini generateContent / streamGenerateContent?alt=sse, the GitHub Copilot endpoints, and
// AWS Bedrock InvokeModel[WithResponseStream] / Converse[Stream] (event streams written with the AWS SDK's
// codec; every request's SigV4 signature verified with the AWS SDK's signer against BEDROCK_KEY).
// Every answer carries ANSWER_TEXT with a fake secret split across stream events, so masking must work
// token by token. Anything else gets a small JSON 200 (agents probe many endpoints) and is logged in `seen`.
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { loadOrCreateCA } from '../../src/ca/index.js';
import { googleRoute, type Outcome } from './vertex-fake.js';
import { esFrame, invokeStream, verifySigV4, type FakeAwsKey } from '../helpers/fake-bedrock.js';

export const BEDROCK_HOST = 'bedrock-runtime.us-east-1.amazonaws.com';
/** The only AWS key the fake Bedrock accepts: wiretrail's (from its policy), never the agent's. */
export const BEDROCK_KEY: FakeAwsKey = { accessKeyId: 'AKIAWIRETRAILAGENTS1', secretAccessKey: 'fakeAgentSuiteSecretKey/wiretrail0000000000' };

export const FAKE_SECRET = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
export const ANSWER_MARK = 'WIRETRAIL-FAKE-ANSWER';
/** The answer, cut into deltas with the secret split across three of them. */
export const ANSWER_PARTS = [`${ANSWER_MARK}: the deploy key is `, FAKE_SECRET.slice(0, 11), FAKE_SECRET.slice(11, 30), FAKE_SECRET.slice(30), ' (done).'];
const ANSWER_TEXT = ANSWER_PARTS.join('');

export interface Seen {
  method: string;
  host: string;
  path: string;
  userAgent: string;
  transport: 'https' | 'websocket';
  /** Bedrock only: null when the SigV4 signature verified, else why it did not. */
  sigv4?: string | null;
  /** Google token endpoint and Vertex only: what the checking endpoint concluded (vertex-fake.ts). */
  outcome?: Outcome;
}

export interface FakeProvider {
  port: number;
  caFile: string;
  seen: Seen[];
  close(): Promise<void>;
}

const sse = (res: ServerResponse, events: Array<{ event?: string; data: unknown }>) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`);
  res.end();
};

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

function anthropicMessages(body: { stream?: boolean; model?: string }, res: ServerResponse) {
  const model = body.model ?? 'claude-fake';
  const message = { id: 'msg_fake', type: 'message', role: 'assistant', model, stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } };
  if (!body.stream) return json(res, 200, { ...message, content: [{ type: 'text', text: ANSWER_TEXT }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 20 } });
  sse(res, [
    { event: 'message_start', data: { type: 'message_start', message: { ...message, content: [] } } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    ...ANSWER_PARTS.map((text) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } })),
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
}

/** The Responses API events for one answer (the same JSON over SSE and over WebSocket). */
export function responsesEvents(model = 'gpt-fake'): Array<Record<string, unknown>> {
  const id = 'resp_fake';
  const item = { id: 'msg_fake', type: 'message', role: 'assistant', status: 'in_progress', content: [] as unknown[] };
  const base = { id, object: 'response', created_at: 1700000000, model, status: 'in_progress', output: [] as unknown[] };
  const doneItem = { ...item, status: 'completed', content: [{ type: 'output_text', text: ANSWER_TEXT, annotations: [] }] };
  let seq = 0;
  const ev = (type: string, rest: Record<string, unknown>) => ({ type, sequence_number: seq++, ...rest });
  return [
    ev('response.created', { response: base }),
    ev('response.in_progress', { response: base }),
    ev('response.output_item.added', { output_index: 0, item }),
    ev('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }),
    ...ANSWER_PARTS.map((delta) => ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta })),
    ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text: ANSWER_TEXT }),
    ev('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: ANSWER_TEXT, annotations: [] } }),
    ev('response.output_item.done', { output_index: 0, item: doneItem }),
    ev('response.completed', {
      response: { ...base, status: 'completed', output: [doneItem], usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 32 } },
    }),
  ];
}

/** Bedrock runtime: the model's Anthropic events inside InvokeModel chunks, or Converse events. */
function bedrock(path: string, body: { stream?: boolean }, res: ServerResponse) {
  const p = path.split('?')[0]!;
  const model = decodeURIComponent(p.split('/')[2] ?? 'anthropic.claude-fake');
  const es = (frames: Buffer) => {
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'fake-request-id' });
    res.end(frames);
  };
  const message = { id: 'msg_bdrk_fake', type: 'message', role: 'assistant', model, stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } };
  if (p.endsWith('/invoke-with-response-stream')) {
    return es(
      invokeStream([
        { type: 'message_start', message: { ...message, content: [] } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        ...ANSWER_PARTS.map((text) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 20 } },
        { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 20, invocationLatency: 50, firstByteLatency: 10 } },
      ]),
    );
  }
  if (p.endsWith('/invoke')) return json(res, 200, { ...message, content: [{ type: 'text', text: ANSWER_TEXT }], stop_reason: 'end_turn', usage: { input_tokens: 12, output_tokens: 20 } });
  if (p.endsWith('/converse-stream')) {
    return es(
      Buffer.concat([
        esFrame('messageStart', { role: 'assistant' }),
        ...ANSWER_PARTS.map((text) => esFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
        esFrame('contentBlockStop', { contentBlockIndex: 0 }),
        esFrame('messageStop', { stopReason: 'end_turn' }),
        esFrame('metadata', { usage: { inputTokens: 12, outputTokens: 20, totalTokens: 32 }, metrics: { latencyMs: 50 } }),
      ]),
    );
  }
  if (p.endsWith('/converse')) return json(res, 200, { output: { message: { role: 'assistant', content: [{ text: ANSWER_TEXT }] } }, stopReason: 'end_turn', usage: { inputTokens: 12, outputTokens: 20, totalTokens: 32 } });
  void body;
  return json(res, 404, { message: `unknown Bedrock operation ${p}` });
}

function chatCompletion(body: { stream?: boolean; model?: string }, res: ServerResponse) {
  const model = body.model ?? 'gpt-fake';
  const base = { id: 'chatcmpl-fake', created: 1700000000, model };
  if (!body.stream) {
    return json(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: ANSWER_TEXT }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 } });
  }
  const chunk = (delta: unknown, finish: string | null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });
  sse(res, [
    { data: chunk({ role: 'assistant', content: '' }, null) },
    ...ANSWER_PARTS.map((content) => ({ data: chunk({ content }, null) })),
    { data: { ...chunk({}, 'stop'), usage: { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 } } },
    { data: '[DONE]' },
  ]);
}

function gemini(path: string, res: ServerResponse) {
  const usageMetadata = { promptTokenCount: 12, candidatesTokenCount: 20, totalTokenCount: 32 };
  const candidate = (text: string, finish?: string) => ({ content: { parts: [{ text }], role: 'model' }, index: 0, ...(finish ? { finishReason: finish } : {}) });
  if (path.includes(':streamGenerateContent')) {
    return sse(res, ANSWER_PARTS.map((text, i) => ({ data: { candidates: [candidate(text, i === ANSWER_PARTS.length - 1 ? 'STOP' : undefined)], usageMetadata, modelVersion: 'gemini-fake' } })));
  }
  if (path.includes(':countTokens')) return json(res, 200, { totalTokens: 12 });
  // generateContent: Gemini CLI's model router asks for a JSON decision (its two classifiers' schemas at once).
  const decision = { reasoning: 'a short answer', model_choice: 'flash', complexity_reasoning: 'Simple question.', complexity_score: 10 };
  return json(res, 200, { candidates: [candidate(JSON.stringify(decision), 'STOP')], usageMetadata, modelVersion: 'gemini-fake' });
}

function copilot(path: string, body: Record<string, unknown>, res: ServerResponse, port: number): boolean {
  if (path.startsWith('/copilot_internal/user')) {
    json(res, 200, { login: 'fake-user', copilot_plan: 'individual', chat_enabled: true, endpoints: { api: 'https://api.individual.githubcopilot.com', proxy: 'https://proxy.individual.githubcopilot.com', telemetry: 'https://telemetry.individual.githubcopilot.com' } });
    return true;
  }
  if (path.startsWith('/copilot_internal/v2/token')) {
    json(res, 200, { token: 'tid=fake;exp=9999999999;sku=free', expires_at: 9999999999, refresh_in: 1500, endpoints: { api: 'https://api.individual.githubcopilot.com' } });
    return true;
  }
  if (path === '/user' || path.startsWith('/user?')) {
    json(res, 200, { login: 'fake-user', id: 1, name: 'Fake User' });
    return true;
  }
  if (path.startsWith('/models')) {
    const model = (id: string) => ({
      id,
      name: id,
      object: 'model',
      vendor: 'OpenAI',
      version: id,
      model_picker_enabled: true,
      preview: false,
      capabilities: { type: 'chat', family: id, tokenizer: 'o200k_base', limits: { max_context_window_tokens: 128000, max_output_tokens: 16000, max_prompt_tokens: 100000 }, supports: { streaming: true, tool_calls: true, parallel_tool_calls: true } },
      supported_endpoints: ['/chat/completions', '/responses'],
      policy: { state: 'enabled', terms: '' },
    });
    json(res, 200, { data: ['gpt-4.1', 'gpt-5', 'claude-sonnet-4.5', 'claude-sonnet-4', 'gpt-5-mini'].map(model), object: 'list' });
    return true;
  }
  void body;
  void port;
  return false;
}

export async function startFakeProvider(hosts: string[]): Promise<FakeProvider> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-fake-provider-'));
  const ca = await loadOrCreateCA({ certsDir: dir });
  const caFile = join(dir, 'fake-provider-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const contexts = new Map(hosts.map((h) => {
    const leaf = ca.leafFor(h);
    return [h, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })];
  }));
  const first = ca.leafFor(hosts[0]!);
  const seen: Seen[] = [];
  let port = 0;
  const server = https.createServer({ cert: first.certPem, key: first.keyPem, SNICallback: (name, cb) => cb(null, contexts.get(name) ?? contexts.get(hosts[0]!)!) }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => void handle(req, Buffer.concat(parts), res));
  });
  const handle = async (req: IncomingMessage, bytes: Buffer, res: ServerResponse) => {
    const raw = bytes.toString('utf8');
    const host = (req.socket as tls.TLSSocket).servername || String(req.headers.host ?? '');
    const path = req.url ?? '/';
    const s: Seen = { method: req.method ?? '', host, path, userAgent: String(req.headers['user-agent'] ?? ''), transport: 'https' };
    seen.push(s);
    if (host === BEDROCK_HOST) {
      // AWS refuses a request whose signature does not verify; so does the fake
      s.sigv4 = await verifySigV4(req, bytes, BEDROCK_KEY);
      if (s.sigv4) return json(res, 403, { message: `The request signature we calculated does not match (${s.sigv4})` });
    }
    let body: Record<string, unknown> = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      /* not JSON: the defaults below answer */
    }
    const p = path.split('?')[0]!;
    if (host === BEDROCK_HOST && p.startsWith('/model/')) return bedrock(path, body, res);
    const outcome = googleRoute(host, req, raw, body, res, { anthropic: anthropicMessages, gemini });
    if (outcome) return void (seen.at(-1)!.outcome = outcome);
    if (req.method === 'POST' && p.endsWith('/messages')) return anthropicMessages(body, res);
    if (req.method === 'POST' && p.endsWith('/responses')) {
      const events = responsesEvents(String(body.model ?? 'gpt-fake'));
      if (body.stream) return sse(res, events.map((e) => ({ event: String(e.type), data: e })));
      return json(res, 200, (events.at(-1) as { response: unknown }).response);
    }
    if (req.method === 'POST' && p.endsWith('/chat/completions')) return chatCompletion(body, res);
    if (host.endsWith('googleapis.com') && p.includes('/models/')) return gemini(path, res);
    if (copilot(path, body, res, port)) return;
    json(res, 200, {});
  };
  // The Responses API over WebSocket: each response.create message gets the same events as the SSE stream.
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const host = (req.socket as tls.TLSSocket).servername || String(req.headers.host ?? '');
    seen.push({ method: 'GET', host, path: req.url ?? '/', userAgent: String(req.headers['user-agent'] ?? ''), transport: 'websocket' });
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('message', (data, isBinary) => {
        // Binary frames are echoed (the proxy must record and relay them untouched).
        if (isBinary) return ws.send(data as Buffer, { binary: true });
        let msg: { type?: string; model?: string } = {};
        try {
          msg = JSON.parse(data.toString());
        } catch {
          return ws.close(1003, 'not JSON');
        }
        if (msg.type !== 'response.create') return;
        for (const e of responsesEvents(msg.model)) ws.send(JSON.stringify(e));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    caFile,
    seen,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

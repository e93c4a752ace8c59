// Google Vertex AI through wiretrail with the default policy: Claude (`…/publishers/anthropic/models/{m}:streamRawPredict`
// and `:rawPredict`, Anthropic Messages with `anthropic_version` in the body) and Gemini
// (`…/publishers/google/models/{m}:streamGenerateContent?alt=sse` and `:generateContent`) on regional and global
// hosts, behind the ADC token refresh at oauth2.googleapis.com. A fake Vertex on loopback checks what a real one
// would (the bearer token, the body shape) and streams the shared fixtures in small uneven writes, so secrets are
// split across events and across network chunks.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import Anthropic from '@anthropic-ai/sdk';
import { startMockUpstream } from '../helpers/mock-upstream.js';
import { startHarness } from '../helpers/harness.js';
import { allRecords } from '../helpers/records.js';

const FIX = new URL('../fixtures/sse/', import.meta.url).pathname;
const KEY = 'sk-proj-FAKEt3stK3y0nly_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0Bc';
const AWS = 'AKIA2E0A8F3B244C9986';
const REGIONAL = 'us-east5-aiplatform.googleapis.com';
const GLOBAL = 'aiplatform.googleapis.com';
const OAUTH = 'oauth2.googleapis.com';
const PROJECT = 'wiretrail-test-project';
// Fake Google credentials of the shapes ADC uses (authorized_user refresh token, ya29 access token).
const REFRESH = '1//0gFAKEr3fr3shT0k3nVertexCgYIARAAGBASNwF-L9IrQmFAKEqW1xZ7yN0pB4sT6vR8';
const ACCESS = 'ya29.a0FAKEacc3ssT0k3nForVertexTests_9xQm2Lr7Tz4Wv8Ny3Kp6Hs1Jd5Gf0BcDeFgHiJk';
const CLIENT_ID = '764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com';
const CLIENT_SECRET = 'd-FL95Q19q7MQmFpd7hHD0Ty';

/** Longest run of `secret` (≥ 6 chars) found in `text`. */
function leaked(text: string, secret: string, min = 6): string | null {
  for (let len = secret.length; len >= min; len--)
    for (let i = 0; i + len <= secret.length; i++) if (text.includes(secret.slice(i, i + len))) return secret.slice(i, i + len);
  return null;
}

/** Small uneven writes so secrets straddle network chunks as well as events. */
async function dribble(res: ServerResponse, bytes: Buffer): Promise<void> {
  for (let i = 0; i < bytes.length; ) {
    const n = 5 + ((i * 31) % 41);
    res.write(bytes.subarray(i, i + n));
    i += n;
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

const MODEL_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(anthropic|google)\/models\/([^/:]+):(\w+)$/;

function vertexError(res: ServerResponse, code: number, status: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify({ error: { code, message, status } }));
}

/** What a Vertex endpoint checks before answering: the access token and the shape of the body. */
async function fakeVertex(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
  const host = String(req.headers.host).split(':')[0];
  const [pathname, query = ''] = (req.url ?? '').split('?');
  if (host === OAUTH) return fakeTokenEndpoint(body, res);
  const m = MODEL_PATH.exec(pathname!);
  if (req.method !== 'POST' || !m) return vertexError(res, 404, 'NOT_FOUND', 'not found');
  const [, project, location, publisher, , method] = m;
  if (req.headers.authorization !== `Bearer ${ACCESS}`) return vertexError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
  if (project !== PROJECT || (host === GLOBAL) !== (location === 'global')) return vertexError(res, 400, 'INVALID_ARGUMENT', 'wrong project or location for this endpoint');
  const parsed = JSON.parse(body) as Record<string, unknown>;
  if (publisher === 'anthropic') {
    if (parsed['anthropic_version'] !== 'vertex-2023-10-16' || 'model' in parsed) return vertexError(res, 400, 'INVALID_ARGUMENT', 'anthropic_version must be vertex-2023-10-16; model goes in the URL');
    if (method === 'streamRawPredict') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      return dribble(res, readFileSync(join(FIX, 'anthropic-tool-use.sse')));
    }
    if (method === 'rawPredict') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'msg_vrtx_01FAKE', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5@20250929', content: [{ type: 'text', text: `Your key is ${KEY}.` }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 9, output_tokens: 12 } }));
      return;
    }
  } else {
    if (!Array.isArray(parsed['contents'])) return vertexError(res, 400, 'INVALID_ARGUMENT', 'contents is required');
    if (method === 'streamGenerateContent' && new URLSearchParams(query).get('alt') === 'sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return dribble(res, readFileSync(join(FIX, 'gemini.sse')));
    }
    if (method === 'generateContent') {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: `Your key is ${KEY}.` }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 9, totalTokenCount: 14, trafficType: 'ON_DEMAND' }, modelVersion: 'gemini-2.5-pro', createTime: '2026-12-03T20:00:00.000000Z', responseId: 'FAKEvrtxRsp0nse' }));
      return;
    }
  }
  vertexError(res, 400, 'INVALID_ARGUMENT', `unsupported method ${method}`);
}

/** Google's token endpoint: a refresh token that arrives altered gets invalid_grant, as the real one answers. */
function fakeTokenEndpoint(body: string, res: ServerResponse): void {
  const f = new URLSearchParams(body);
  if (f.get('grant_type') !== 'refresh_token' || f.get('refresh_token') !== REFRESH || f.get('client_id') !== CLIENT_ID || f.get('client_secret') !== CLIENT_SECRET) {
    res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Bad Request' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ access_token: ACCESS, expires_in: 3599, scope: 'https://www.googleapis.com/auth/cloud-platform', token_type: 'Bearer' }));
}

const mock = await startMockUpstream({ hosts: [REGIONAL, GLOBAL, OAUTH], handler: fakeVertex });
// The default policy (no intercept list): Vertex and the token endpoint must be intercepted by it.
const h = await startHarness({ upstreamCa: [mock.caFile], connectTo: [REGIONAL, GLOBAL, OAUTH].map((x) => `${x}:443:127.0.0.1:${mock.port}`) });
const dispatcher = new ProxyAgent({ uri: h.proxyUrl, requestTls: { ca: h.caPem } });
t.teardown(async () => {
  await dispatcher.close();
  await h.stop();
  await mock.close();
});

let accessToken = '';

t.test('ADC refresh: the refresh token reaches Google intact, the access token comes back intact, both recorded masked', async (t) => {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: REFRESH, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }).toString();
  const r = await undiciFetch(`https://${OAUTH}/token`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, dispatcher });
  const answer = (await r.json()) as { access_token?: string };
  t.equal(r.status, 200, 'no invalid_grant: the refresh token was not masked on the way up');
  t.equal(mock.seen.at(-1)!.body, body, 'forwarded byte for byte');
  t.equal(answer.access_token, ACCESS, 'the access token reaches the client unmasked (a masked one would fail every Vertex call)');
  accessToken = answer.access_token ?? '';
  const recs = (await allRecords(h)).filter((x) => x.meta.host === OAUTH || x.kind.startsWith('response') || x.kind === 'chunk');
  const req = recs.find((x) => x.kind === 'request' && x.meta.host === OAUTH)!;
  t.equal(req.meta.forwardedIntact, 'credential-exchange');
  t.match(req.body!.toString(), /refresh_token=\[MASKED:[a-z-]+#\d+\]&.*client_secret=\[MASKED:/, "refresh token and client secret masked in the record");
  const end = (await allRecords(h)).find((x) => x.kind === 'response-end' && x.meta.forwardedIntact === 'credential-exchange');
  t.ok(end, 'the answer is marked as forwarded intact');
  const everything = (await allRecords(h)).map((x) => JSON.stringify(x.meta) + (x.body?.toString('utf8') ?? '')).join('\n');
  t.equal(leaked(everything, REFRESH, 12), null, 'no refresh token in the record');
  t.equal(leaked(everything, ACCESS, 12), null, 'no access token in the record');
  t.match(everything, /\[MASKED:google-oauth-access-token#\d+\]/);
});

/** The Anthropic SDK, sent to Vertex as @anthropic-ai/vertex-sdk does: model into the URL, anthropic_version into the body, the Google bearer token. */
function vertexAnthropic(host: string, location: string): Anthropic {
  const vertexFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
    const model = String(body['model']);
    delete body['model'];
    body['anthropic_version'] = 'vertex-2023-10-16';
    const method = body['stream'] ? 'streamRawPredict' : 'rawPredict';
    url.pathname = `/v1/projects/${PROJECT}/locations/${location}/publishers/anthropic/models/${model}:${method}`;
    const headers = new Headers(init?.headers);
    headers.delete('x-api-key');
    headers.set('authorization', `Bearer ${accessToken}`);
    return (await undiciFetch(url, { method: 'POST', headers: Object.fromEntries(headers), body: JSON.stringify(body), dispatcher })) as unknown as Response;
  };
  return new Anthropic({ apiKey: 'unused', baseURL: `https://${host}`, fetch: vertexFetch as never, maxRetries: 0 });
}

t.test('Claude on Vertex, :streamRawPredict (regional): the SDK assembles masked text and tool input; the prompt is masked upstream', async (t) => {
  const before = mock.seen.length;
  const stream = vertexAnthropic(REGIONAL, 'us-east5').messages.stream({ model: 'claude-sonnet-4-5@20250929', max_tokens: 1024, messages: [{ role: 'user', content: `put my key ${KEY} in .env` }] });
  const final = await stream.finalMessage();
  const all = JSON.stringify(final.content);
  t.match(all, /\[MASKED:openai-api-key#\d+\]/);
  t.equal(leaked(all, KEY), null, 'no piece of the OpenAI key reaches the client');
  t.equal(leaked(all, AWS), null, 'no piece of the AWS key id reaches the client');
  const tool = final.content.find((b) => b.type === 'tool_use') as { input: { path?: string } } | undefined;
  t.equal(tool?.input.path, '.env', 'tool input still parses as JSON');
  const text = final.content.find((b) => b.type === 'text') as { text: string } | undefined;
  t.equal(text?.text, "I'll put both keys in `.env` so they stay out of the code.");
  const up = mock.seen[before]!;
  t.match(up.path, /:streamRawPredict$/);
  t.equal(up.headers.authorization, `Bearer ${ACCESS}`, 'the bearer token goes on intact');
  t.equal(leaked(up.body, KEY), null, 'the prompt reached Vertex masked');
  t.equal(JSON.parse(up.body).anthropic_version, 'vertex-2023-10-16');
});

t.test('Claude on Vertex, :rawPredict (global): the JSON answer is masked', async (t) => {
  const msg = await vertexAnthropic(GLOBAL, 'global').messages.create({ model: 'claude-opus-4-1@20250805', max_tokens: 64, messages: [{ role: 'user', content: 'which key?' }] });
  const text = (msg.content[0] as { text: string }).text;
  t.match(text, /^Your key is \[MASKED:openai-api-key#\d+\]\.$/);
  t.match(mock.seen.at(-1)!.path, /\/locations\/global\/.*:rawPredict$/);
});

/** Reads an SSE body and joins the text parts of every Gemini event (answer and thoughts apart). */
async function geminiStream(r: Response): Promise<{ text: string; thought: string; events: number }> {
  const raw = await r.text();
  let text = '';
  let thought = '';
  let events = 0;
  for (const block of raw.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data) continue;
    events++;
    const ev = JSON.parse(data) as { candidates?: { content?: { parts?: { text?: string; thought?: boolean }[] } }[] };
    for (const p of ev.candidates?.[0]?.content?.parts ?? []) {
      if (p.thought) thought += p.text ?? '';
      else text += p.text ?? '';
    }
  }
  return { text, thought, events };
}

const geminiUrl = (host: string, location: string, method: string) => `https://${host}/v1/projects/${PROJECT}/locations/${location}/publishers/google/models/gemini-2.5-pro:${method}`;
const geminiBody = (prompt: string) => JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prompt }] }] });

t.test('Gemini on Vertex, :streamGenerateContent?alt=sse (global and regional): a key split across events is masked', async (t) => {
  for (const [host, location] of [[GLOBAL, 'global'], [REGIONAL, 'us-east5']] as const) {
    const before = mock.seen.length;
    const r = await undiciFetch(`${geminiUrl(host, location, 'streamGenerateContent')}?alt=sse`, { method: 'POST', body: geminiBody(`my key is ${KEY}`), headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` }, dispatcher });
    t.equal(r.status, 200, host);
    const { text, events } = await geminiStream(r as unknown as Response);
    t.ok(events > 3, 'still a stream of events');
    t.match(text, /^Here is a minimal client ✓/);
    t.match(text, /apiKey: "\[MASKED:openai-api-key#\d+\]"/);
    t.match(text, /Move the key into an env var before you commit\.$/);
    t.equal(leaked(text, KEY), null, `no piece of the key reaches the client (${host})`);
    t.equal(leaked(mock.seen[before]!.body, KEY), null, 'the prompt reached Vertex masked');
  }
});

t.test('Gemini on Vertex, :generateContent: the JSON answer is masked', async (t) => {
  const r = await undiciFetch(geminiUrl(REGIONAL, 'us-east5', 'generateContent'), { method: 'POST', body: geminiBody('which key?'), headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` }, dispatcher });
  const j = (await r.json()) as { candidates: { content: { parts: { text: string }[] } }[]; modelVersion: string };
  t.equal(r.status, 200);
  t.match(j.candidates[0]!.content.parts[0]!.text, /^Your key is \[MASKED:openai-api-key#\d+\]\.$/);
  t.equal(j.modelVersion, 'gemini-2.5-pro', 'the rest of the answer is untouched');
});

t.test('an altered bearer token would be refused by Vertex: wiretrail forwards it as sent', async (t) => {
  const r = await undiciFetch(geminiUrl(REGIONAL, 'us-east5', 'generateContent'), { method: 'POST', body: geminiBody('hi'), headers: { 'content-type': 'application/json', authorization: 'Bearer ya29.wrong' }, dispatcher });
  t.equal(r.status, 401, 'the fake checks the token (so the 200s above prove it arrived intact)');
  await r.text();
});

t.test('the record: Vertex exchanges parsed by the Anthropic and Gemini adapters, no secret anywhere', async (t) => {
  const recs = await allRecords(h);
  const vertexReqs = recs.filter((r) => r.kind === 'request' && String(r.meta.host).endsWith('aiplatform.googleapis.com'));
  t.ok(vertexReqs.length >= 6, 'every Vertex call was intercepted by the default policy');
  const adapters = new Set(recs.filter((r) => r.kind === 'response-end').map((r) => `${String(r.meta.adapter)}`));
  t.ok(adapters.has('anthropic-messages'), 'streamRawPredict / rawPredict parsed as Anthropic Messages');
  t.ok(adapters.has('gemini'), 'streamGenerateContent / generateContent parsed as Gemini');
  for (const r of vertexReqs) {
    t.notOk(JSON.stringify(r.meta.headers).includes(ACCESS), `the bearer token is redacted in the record (${String(r.meta.path)})`);
  }
  const everything = recs.map((r) => JSON.stringify(r.meta) + (r.body ? r.body.toString('utf8') : '')).join('\n');
  t.equal(leaked(everything, KEY), null, 'no run of the OpenAI key in the record');
  t.equal(leaked(everything, AWS), null, 'no run of the AWS key id in the record');
  t.equal(leaked(everything, ACCESS, 12), null, 'no run of the access token in the record');
  t.equal(leaked(everything, REFRESH, 12), null, 'no run of the refresh token in the record');
});

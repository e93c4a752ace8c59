// Shared harness for the stream tests: fixture metadata, chunked runs, rebuilding what an SDK
// would assemble from the processed output, and the checks every run must pass.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createResponseProcessor, SseParser, type ExchangeMeta, type MaskSession } from '../../src/stream/index.js';
import { createMaskEngine } from "../../src/mask/index.js";

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/sse/', import.meta.url));

export type Api = 'openai-chat' | 'openai-responses' | 'anthropic-messages' | 'gemini' | 'ollama-chat';

export interface FixtureMeta {
  path: string;
  host: string;
  contentType: string;
  api: Api;
}

export const FIXTURES: Record<string, FixtureMeta> = {
  'openai-chat.sse': { host: 'api.openai.com', path: '/v1/chat/completions', contentType: 'text/event-stream; charset=utf-8', api: 'openai-chat' },
  'openai-chat-tools.sse': { host: 'api.openai.com', path: '/v1/chat/completions', contentType: 'text/event-stream; charset=utf-8', api: 'openai-chat' },
  'openai-responses.sse': { host: 'api.openai.com', path: '/v1/responses', contentType: 'text/event-stream; charset=utf-8', api: 'openai-responses' },
  'azure-openai-chat.sse': {
    host: 'contoso-eastus2.openai.azure.com',
    path: '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21',
    contentType: 'text/event-stream; charset=utf-8',
    api: 'openai-chat',
  },
  'anthropic-messages.sse': { host: 'api.anthropic.com', path: '/v1/messages', contentType: 'text/event-stream; charset=utf-8', api: 'anthropic-messages' },
  'anthropic-tool-use.sse': { host: 'api.anthropic.com', path: '/v1/messages', contentType: 'text/event-stream; charset=utf-8', api: 'anthropic-messages' },
  'anthropic-error.sse': { host: 'api.anthropic.com', path: '/v1/messages', contentType: 'text/event-stream; charset=utf-8', api: 'anthropic-messages' },
  'gemini.sse': {
    host: 'generativelanguage.googleapis.com',
    path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    contentType: 'text/event-stream',
    api: 'gemini',
  },
  'ollama-chat.ndjson': { host: 'localhost', path: '/api/chat', contentType: 'application/x-ndjson', api: 'ollama-chat' },
  'github-copilot-chat.sse': { host: 'api.githubcopilot.com', path: '/chat/completions', contentType: 'text/event-stream', api: 'openai-chat' },
  'sse-edge-cases.sse': { host: 'api.openai.com', path: '/v1/chat/completions', contentType: 'text/event-stream', api: 'openai-chat' },
};

interface ExpectedFile {
  text: string;
  thinking?: string;
  toolArguments: Array<{ index?: number; output_index?: number; arguments?: string; partial_json_concat?: string }>;
  secrets: string[];
  partialSecretAtEnd?: string;
  expectedEvents?: number;
}
export const EXPECTED = JSON.parse(readFileSync(FIXTURE_DIR + 'expected.json', 'utf8')) as {
  secrets: Record<string, string>;
  files: Record<string, ExpectedFile>;
};
export const ALL_SECRETS = Object.values(EXPECTED.secrets);

export function fixture(name: string): Buffer {
  return readFileSync(FIXTURE_DIR + name);
}

export function engine(): { session(): MaskSession } {
  return createMaskEngine();
}

export function exchange(meta: FixtureMeta): ExchangeMeta {
  return { method: 'POST', host: meta.host, path: meta.path, requestHeaders: { 'content-type': 'application/json' } };
}

export interface RunResult {
  client: Buffer;
  record: Buffer;
  adapter: string;
  findings: number;
  /** Largest client output of one push (to see that text is not buffered to the end). */
  pushes: number;
}

/** Runs one fixture through a fresh processor, fed in the given chunks. */
export async function run(
  name: string,
  chunks: Iterable<Buffer>,
  opts: { headers?: Record<string, string>; clientOff?: boolean } = {},
): Promise<RunResult> {
  const meta = FIXTURES[name]!;
  const eng = engine();
  const p = createResponseProcessor(
    exchange(meta),
    { status: 200, headers: { 'content-type': meta.contentType, ...opts.headers } },
    { client: opts.clientOff ? null : eng.session(), record: eng.session() },
  );
  const client: Buffer[] = [];
  const record: Buffer[] = [];
  let pushes = 0;
  for (const c of chunks) {
    const o = await p.push(c);
    client.push(o.client);
    record.push(o.record);
    if (o.client.length) pushes++;
  }
  const o = await p.end();
  client.push(o.client);
  record.push(o.record);
  return { client: Buffer.concat(client), record: Buffer.concat(record), adapter: p.adapter, findings: p.findings.length, pushes };
}

export function* splitAt(b: Buffer, k: number): Generator<Buffer> {
  yield b.subarray(0, k);
  yield b.subarray(k);
}

export function* bytewise(b: Buffer): Generator<Buffer> {
  for (let i = 0; i < b.length; i++) yield b.subarray(i, i + 1);
}

/** Deterministic PRNG (mulberry32) so a failing random chunking can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function* randomChunks(b: Buffer, seed: number, max = 64): Generator<Buffer> {
  const r = rng(seed);
  let i = 0;
  while (i < b.length) {
    const n = 1 + Math.floor(r() * max);
    yield b.subarray(i, i + n);
    i += n;
  }
}

export interface Ev {
  event: string;
  data: string;
  json: any;
}

/** Parses processed output back into events (SSE) or lines (NDJSON). */
export function parseOutput(buf: Buffer, api: Api): Ev[] {
  const out: Ev[] = [];
  const toEv = (event: string, data: string): Ev => {
    let json: unknown = undefined;
    if (data !== '' && data !== '[DONE]') json = JSON.parse(data); // throws on invalid JSON: the test fails
    return { event, data, json };
  };
  if (api === 'ollama-chat') {
    for (const line of buf.toString('utf8').split('\n')) if (line.trim()) out.push(toEv('', line));
    return out;
  }
  const p = new SseParser();
  const items = [...p.push(buf), ...p.end().items];
  for (const it of items) if (it.kind === 'event') out.push(toEv(it.event.event, it.event.data));
  return out;
}

/** Input events of a fixture, parsed without masking (JSON left unparsed when invalid). */
export function parseInput(buf: Buffer, api: Api): Array<{ event: string; data: string; json: any }> {
  const out: Array<{ event: string; data: string; json: any }> = [];
  const parse = (d: string): any => {
    try {
      return JSON.parse(d);
    } catch {
      return undefined;
    }
  };
  if (api === 'ollama-chat') {
    for (const line of buf.toString('utf8').split('\n')) if (line.trim()) out.push({ event: '', data: line, json: parse(line) });
    return out;
  }
  const p = new SseParser();
  for (const it of [...p.push(buf), ...p.end().items]) if (it.kind === 'event') out.push({ event: it.event.event, data: it.event.data, json: parse(it.event.data) });
  return out;
}

export interface Rebuilt {
  text: string;
  thinking: string;
  tools: Map<number, string>;
  /** Full repeats (Responses *.done, response.completed) that must equal what was streamed. */
  repeats: Array<{ where: string; value: string; expected: string }>;
}

/** What an SDK assembles from the events. */
export function rebuild(api: Api, events: Ev[]): Rebuilt {
  const r: Rebuilt = { text: '', thinking: '', tools: new Map(), repeats: [] };
  const addTool = (k: number, s: string) => r.tools.set(k, (r.tools.get(k) ?? '') + s);
  for (const e of events) {
    const j = e.json;
    if (!j || typeof j !== 'object') continue;
    switch (api) {
      case 'openai-chat':
        for (const c of j.choices ?? []) {
          if (typeof c.delta?.content === 'string') r.text += c.delta.content;
          for (const tc of c.delta?.tool_calls ?? []) if (typeof tc.function?.arguments === 'string') addTool(tc.index, tc.function.arguments);
        }
        break;
      case 'openai-responses':
        if (j.type === 'response.output_text.delta') r.text += j.delta;
        if (j.type === 'response.function_call_arguments.delta') addTool(j.output_index, j.delta);
        if (j.type === 'response.output_text.done') r.repeats.push({ where: j.type, value: j.text, expected: r.text });
        if (j.type === 'response.content_part.done') r.repeats.push({ where: j.type, value: j.part.text, expected: r.text });
        if (j.type === 'response.function_call_arguments.done') r.repeats.push({ where: j.type, value: j.arguments, expected: r.tools.get(j.output_index) ?? '' });
        if (j.type === 'response.output_item.done' || j.type === 'response.completed') {
          const items = j.type === 'response.completed' ? j.response.output : [j.item];
          for (const it of items) {
            if (it.type === 'message') r.repeats.push({ where: `${j.type} message`, value: it.content[0].text, expected: r.text });
            if (it.type === 'function_call') r.repeats.push({ where: `${j.type} function_call`, value: it.arguments, expected: '' /* filled below */ });
          }
        }
        break;
      case 'anthropic-messages':
        if (j.type === 'content_block_delta') {
          if (j.delta.type === 'text_delta') r.text += j.delta.text;
          if (j.delta.type === 'thinking_delta') r.thinking += j.delta.thinking;
          if (j.delta.type === 'input_json_delta') addTool(j.index, j.delta.partial_json);
        }
        break;
      case 'gemini':
        for (const c of j.candidates ?? []) {
          for (const p of c.content?.parts ?? []) {
            if (typeof p.text !== 'string') continue;
            if (p.thought) r.thinking += p.text;
            else r.text += p.text;
          }
        }
        break;
      case 'ollama-chat':
        if (typeof j.message?.content === 'string') r.text += j.message.content;
        break;
    }
  }
  // function_call repeats compare against the final streamed arguments
  const fc = [...r.tools.values()].at(-1) ?? '';
  for (const rep of r.repeats) if (rep.where.endsWith('function_call')) rep.expected = fc;
  return r;
}

export const PLACEHOLDER = /\[MASKED:[^\]\s]+\]/g;

/** Expected text after masking: every secret (and a cut-off one) replaced by a neutral mark. */
export function expectMasked(s: string, extra: string[] = []): string {
  let out = s;
  for (const sec of [...ALL_SECRETS, ...extra]) out = out.split(sec).join('[MASKED]');
  return out;
}

export function normalize(s: string): string {
  return s.replace(PLACEHOLDER, '[MASKED]');
}

/** The longest run of any secret's characters found in `s` (0 if none of ≥ 3). */
export function longestSecretRun(s: string, secrets: string[] = ALL_SECRETS): { run: string; length: number } {
  let best = '';
  for (const sec of secrets) {
    for (let len = Math.max(best.length + 1, 3); len <= sec.length; len++) {
      let found = false;
      for (let i = 0; i + len <= sec.length; i++) {
        const piece = sec.slice(i, i + len);
        if (s.includes(piece)) {
          best = piece;
          found = true;
          break;
        }
      }
      if (!found) break;
    }
  }
  return { run: best, length: best.length };
}

/** Identity of an event for structure checks: event name, type and index fields. */
export function shape(e: { event: string; json: any }): string {
  const j = e.json;
  if (!j || typeof j !== 'object') return `${e.event}|raw`;
  const idx = ['index', 'output_index', 'content_index', 'summary_index', 'item_id', 'sequence_number']
    .filter((k) => k in j)
    .map((k) => `${k}=${j[k]}`)
    .join(',');
  const choices = Array.isArray(j.choices) ? `choices=${j.choices.map((c: any) => c.index).join('/')}` : '';
  const cands = Array.isArray(j.candidates) ? `candidates=${j.candidates.map((c: any) => c.index).join('/')}` : '';
  return `${e.event}|${j.type ?? ''}|${idx}|${choices}|${cands}`;
}

const SYNTH_TYPES = /^(content_block_delta|response\.[a-z_.]*\.delta)$/;

/**
 * Checks that the output events are the input events in order (same event name, type, index
 * fields), with only synthesized delta events (carrying released text) added.
 * Returns a list of problems (empty when fine).
 */
export function compareShapes(input: Array<{ event: string; json: any; data: string }>, output: Ev[]): string[] {
  const problems: string[] = [];
  let j = 0;
  for (const inEv of input) {
    const want = inEv.json === undefined ? `${inEv.event}|raw` : shape(inEv);
    while (j < output.length && shape(output[j]!) !== want) {
      const extra = output[j]!;
      const t = extra.json?.type ?? '';
      const synthChat = Array.isArray(extra.json?.choices) && extra.json.choices.every((c: any) => c.finish_reason === null);
      if (!SYNTH_TYPES.test(t) && !synthChat) problems.push(`unexpected event ${shape(extra)}`);
      j++;
    }
    if (j >= output.length) {
      problems.push(`missing event ${want}`);
      break;
    }
    j++;
  }
  return problems;
}

const ID_KEYS = new Set(['id', 'item_id', 'call_id', 'responseId', 'obfuscation', 'system_fingerprint']);

/** Every string value of the output events except identifiers (ids are fake but share letters with the key). */
export function textValues(events: Ev[]): string[] {
  const out: string[] = [];
  const visit = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (!ID_KEYS.has(key)) out.push(v);
    } else if (Array.isArray(v)) v.forEach((x) => visit(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  for (const e of events) visit(e.json ?? e.data, '');
  return out;
}

/** Text must be complete when its end signal goes out: no text for a channel after its end. */
export function textAfterEnd(api: Api, events: Ev[]): string[] {
  const problems: string[] = [];
  const ended = new Set<string>();
  let all = false;
  const add = (key: string, s: unknown, where: number) => {
    if (typeof s === 'string' && s !== '' && (all || ended.has(key))) problems.push(`text for ${key} after its end (event ${where})`);
  };
  events.forEach((e, n) => {
    const j = e.json;
    if (e.data === '[DONE]') all = true;
    if (!j || typeof j !== 'object') return;
    switch (api) {
      case 'openai-chat':
        for (const c of j.choices ?? []) {
          add(`c${c.index}`, c.delta?.content, n);
          for (const tc of c.delta?.tool_calls ?? []) add(`c${c.index}`, tc.function?.arguments, n);
          if (c.finish_reason) ended.add(`c${c.index}`);
        }
        break;
      case 'anthropic-messages':
        if (j.type === 'content_block_delta') add(`b${j.index}`, j.delta.text ?? j.delta.thinking ?? j.delta.partial_json, n);
        if (j.type === 'content_block_stop') ended.add(`b${j.index}`);
        if (j.type === 'message_stop' || j.type === 'error') all = true;
        break;
      case 'openai-responses':
        if (typeof j.type === 'string' && j.type.endsWith('.delta')) add(`${j.type.slice(0, -6)}|${j.item_id}|${j.content_index ?? ''}`, j.delta, n);
        if (typeof j.type === 'string' && j.type.endsWith('.done')) ended.add(`${j.type.slice(0, -5)}|${j.item_id}|${j.content_index ?? ''}`);
        if (j.type === 'response.completed') all = true;
        break;
      case 'gemini':
        for (const c of j.candidates ?? []) {
          for (const p of c.content?.parts ?? []) add(`g${c.index}`, p.text, n);
          if (c.finishReason) ended.add(`g${c.index}`);
        }
        break;
      case 'ollama-chat':
        add('o', j.message?.content, n);
        if (j.done) all = true;
        break;
    }
  });
  return problems;
}

/** Runs every check on one processed output; returns the problems found. */
export function checkOutput(name: string, output: Buffer): string[] {
  const meta = FIXTURES[name]!;
  const exp = EXPECTED.files[name]!;
  const problems: string[] = [];
  let events: Ev[];
  try {
    events = parseOutput(output, meta.api);
  } catch (e) {
    return [`invalid JSON in output: ${(e as Error).message}`];
  }
  const rb = rebuild(meta.api, events);
  const extra = exp.partialSecretAtEnd ? [exp.partialSecretAtEnd] : [];
  if (normalize(rb.text) !== expectMasked(exp.text, extra)) problems.push(`text: ${JSON.stringify(rb.text)}`);
  if (normalize(rb.thinking) !== expectMasked(exp.thinking ?? '')) problems.push(`thinking: ${JSON.stringify(rb.thinking)}`);
  const wantTools = exp.toolArguments.map((t) => expectMasked(t.arguments ?? t.partial_json_concat ?? ''));
  const gotTools = [...rb.tools.values()].map(normalize);
  if (JSON.stringify(gotTools) !== JSON.stringify(wantTools)) problems.push(`tool arguments: ${JSON.stringify(gotTools)}`);
  for (const rep of rb.repeats) if (rep.value !== rep.expected) problems.push(`${rep.where} differs from the streamed text`);
  for (const v of textValues(events)) {
    const r = longestSecretRun(v, [...ALL_SECRETS, ...extra]);
    if (r.length >= 6) problems.push(`secret run ${JSON.stringify(r.run)} survives`);
  }
  const raw = longestSecretRun(output.toString('utf8'));
  if (raw.length >= 8) problems.push(`secret run ${JSON.stringify(raw.run)} in the raw bytes`);
  problems.push(...compareShapes(parseInput(fixture(name), meta.api), events));
  problems.push(...textAfterEnd(meta.api, events));
  return problems;
}

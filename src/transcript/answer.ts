// The answer side of an exchange: recorded (masked) response chunks reassembled into the assistant's
// text and tool calls, with the time each piece arrived (for replay) and the token usage reported.
// Streams are re-parsed with the stream stage's own parsers, so the reading matches the recording.
import { SseParser, NdjsonParser } from '../stream/index.js';
import type { ReplayStep, TokenUsage, Turn } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One recorded chunk: its masked bytes and when it arrived. */
export interface RecordedChunk {
  at: number;
  body: Buffer;
}

/** Accumulates the assistant's text and tool calls in the order they streamed. */
class AnswerBuilder {
  private text = '';
  private readonly tools = new Map<string, { name: string; args: string }>();
  private readonly order: string[] = [];
  readonly replay: ReplayStep[] = [];
  usage: TokenUsage = { input: null, output: null, total: null };

  constructor(private readonly t0: number) {}

  addText(s: string, at: number): void {
    if (!s) return;
    this.text += s;
    this.step(at, s);
  }

  /** Starts (or continues) tool call `key`; arguments arrive as deltas or whole. */
  addTool(key: string, name: string | null, args: string, at: number): void {
    let t = this.tools.get(key);
    if (!t) {
      t = { name: name ?? '?', args: '' };
      this.tools.set(key, t);
      this.order.push(key);
      this.step(at, `\n[tool ${t.name}] `);
    } else if (name && t.name === '?') t.name = name;
    if (args) {
      t.args += args;
      this.step(at, args);
    }
  }

  /** Replaces a tool call's arguments with a complete value (a `.done` event repeats them). */
  setToolArgs(key: string, name: string | null, args: string, at: number): void {
    const t = this.tools.get(key);
    if (!t) this.addTool(key, name, args, at);
    else t.args = args;
  }

  /** A repeat of the whole text (Responses `*.done`): kept only when nothing streamed before it. */
  setTextIfEmpty(s: string, at: number): void {
    if (!this.text) this.addText(s, at);
  }

  setUsage(u: Partial<TokenUsage>): void {
    this.usage = {
      input: u.input ?? this.usage.input,
      output: u.output ?? this.usage.output,
      total: u.total ?? this.usage.total,
    };
  }

  turns(): Turn[] {
    const out: Turn[] = [];
    if (this.text) out.push({ role: 'assistant', text: this.text });
    for (const k of this.order) {
      const t = this.tools.get(k)!;
      out.push({ role: 'tool-call', name: t.name, text: t.args });
    }
    return out;
  }

  private step(at: number, text: string): void {
    this.replay.push({ atMs: Math.max(0, at - this.t0), text });
  }
}

function openAiChatPayload(o: Obj, b: AnswerBuilder, at: number): void {
  for (const c of Array.isArray(o['choices']) ? o['choices'] : []) {
    if (!isObj(c)) continue;
    const d = isObj(c['delta']) ? c['delta'] : isObj(c['message']) ? c['message'] : null;
    if (d) {
      if (typeof d['content'] === 'string') b.addText(d['content'], at);
      for (const tc of Array.isArray(d['tool_calls']) ? d['tool_calls'] : []) {
        if (!isObj(tc)) continue;
        const fn = isObj(tc['function']) ? tc['function'] : {};
        const key = `c${String(c['index'] ?? 0)}.${String(tc['index'] ?? tc['id'] ?? 0)}`;
        b.addTool(key, typeof fn['name'] === 'string' ? fn['name'] : null, typeof fn['arguments'] === 'string' ? fn['arguments'] : '', at);
      }
    } else if (typeof c['text'] === 'string') b.addText(c['text'], at);
  }
  const u = o['usage'];
  if (isObj(u)) b.setUsage({ input: num(u['prompt_tokens']), output: num(u['completion_tokens']), total: num(u['total_tokens']) });
}

function responsesUsage(resp: unknown, b: AnswerBuilder): void {
  const u = isObj(resp) ? resp['usage'] : null;
  if (isObj(u)) b.setUsage({ input: num(u['input_tokens']), output: num(u['output_tokens']), total: num(u['total_tokens']) });
}

function responsesPayload(o: Obj, b: AnswerBuilder, at: number): void {
  const type = typeof o['type'] === 'string' ? o['type'] : '';
  const item = isObj(o['item']) ? o['item'] : null;
  const key = `r${String(o['output_index'] ?? o['item_id'] ?? 0)}`;
  if (type === 'response.output_text.delta' && typeof o['delta'] === 'string') b.addText(o['delta'], at);
  else if (type === 'response.output_text.done' && typeof o['text'] === 'string') b.setTextIfEmpty(o['text'], at);
  else if (type === 'response.output_item.added' && item?.['type'] === 'function_call') b.addTool(key, typeof item['name'] === 'string' ? item['name'] : null, '', at);
  else if (type === 'response.function_call_arguments.delta' && typeof o['delta'] === 'string') b.addTool(key, null, o['delta'], at);
  else if (type === 'response.function_call_arguments.done' && typeof o['arguments'] === 'string') b.setToolArgs(key, null, o['arguments'], at);
  else if (type === 'response.completed' || type === 'response.incomplete') responsesUsage(o['response'], b);
  else if (o['object'] === 'response') {
    for (const it of Array.isArray(o['output']) ? o['output'] : []) {
      if (!isObj(it)) continue;
      if (it['type'] === 'message') for (const c of Array.isArray(it['content']) ? it['content'] : []) if (isObj(c) && typeof c['text'] === 'string') b.addText(c['text'], at);
      if (it['type'] === 'function_call') b.addTool(`r${String(it['id'] ?? '')}`, typeof it['name'] === 'string' ? it['name'] : null, typeof it['arguments'] === 'string' ? it['arguments'] : '', at);
    }
    responsesUsage(o, b);
  }
}

function anthropicPayload(o: Obj, b: AnswerBuilder, at: number): void {
  const type = o['type'];
  if (type === 'message_start' && isObj(o['message'])) {
    const u = o['message']['usage'];
    if (isObj(u)) b.setUsage({ input: num(u['input_tokens']), output: num(u['output_tokens']) });
  } else if (type === 'content_block_start' && isObj(o['content_block'])) {
    const cb = o['content_block'];
    if (cb['type'] === 'tool_use') b.addTool(`a${String(o['index'] ?? 0)}`, typeof cb['name'] === 'string' ? cb['name'] : null, '', at);
    else if (cb['type'] === 'text' && typeof cb['text'] === 'string') b.addText(cb['text'], at);
  } else if (type === 'content_block_delta' && isObj(o['delta'])) {
    const d = o['delta'];
    if (d['type'] === 'text_delta' && typeof d['text'] === 'string') b.addText(d['text'], at);
    else if (d['type'] === 'input_json_delta' && typeof d['partial_json'] === 'string') b.addTool(`a${String(o['index'] ?? 0)}`, null, d['partial_json'], at);
  } else if (type === 'message_delta' && isObj(o['usage'])) {
    b.setUsage({ output: num(o['usage']['output_tokens']) });
  } else if (type === 'message' && Array.isArray(o['content'])) {
    for (const [i, c] of o['content'].entries()) {
      if (!isObj(c)) continue;
      if (c['type'] === 'text' && typeof c['text'] === 'string') b.addText(c['text'], at);
      if (c['type'] === 'tool_use') b.addTool(`a${i}`, typeof c['name'] === 'string' ? c['name'] : null, JSON.stringify(c['input'] ?? {}), at);
    }
    const u = o['usage'];
    if (isObj(u)) b.setUsage({ input: num(u['input_tokens']), output: num(u['output_tokens']) });
  }
}

function geminiPayload(o: Obj, b: AnswerBuilder, at: number): void {
  for (const c of Array.isArray(o['candidates']) ? o['candidates'] : []) {
    if (!isObj(c) || !isObj(c['content'])) continue;
    for (const [i, p] of (Array.isArray(c['content']['parts']) ? c['content']['parts'] : []).entries()) {
      if (!isObj(p)) continue;
      if (typeof p['text'] === 'string' && p['thought'] !== true) b.addText(p['text'], at);
      if (isObj(p['functionCall'])) b.addTool(`g${String(c['index'] ?? 0)}.${i}.${b.replay.length}`, typeof p['functionCall']['name'] === 'string' ? p['functionCall']['name'] : null, JSON.stringify(p['functionCall']['args'] ?? {}), at);
    }
  }
  const u = o['usageMetadata'];
  if (isObj(u)) b.setUsage({ input: num(u['promptTokenCount']), output: num(u['candidatesTokenCount']), total: num(u['totalTokenCount']) });
}

function ollamaPayload(o: Obj, b: AnswerBuilder, at: number): void {
  if (isObj(o['message']) && typeof o['message']['content'] === 'string') b.addText(o['message']['content'], at);
  if (typeof o['response'] === 'string') b.addText(o['response'], at);
  if (o['done'] === true) b.setUsage({ input: num(o['prompt_eval_count']), output: num(o['eval_count']) });
}

function payload(api: string | null, data: string, b: AnswerBuilder, at: number): void {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return; // "[DONE]", keep-alives and non-JSON data carry no answer text
  }
  for (const o of Array.isArray(v) ? v : [v]) {
    if (!isObj(o)) continue;
    if (api === 'openai-responses') responsesPayload(o, b, at);
    else if (api === 'anthropic-messages') anthropicPayload(o, b, at);
    else if (api === 'gemini') geminiPayload(o, b, at);
    else if (api === 'ollama-chat' || api === 'ollama-generate') ollamaPayload(o, b, at);
    else openAiChatPayload(o, b, at);
  }
}

export type Framing = 'sse' | 'ndjson' | 'json' | 'other';

export function framingOf(contentType: string | null): Framing {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'text/event-stream') return 'sse';
  if (/^application\/(x-)?(ndjson|jsonl|x-jsonlines)$/.test(t)) return 'ndjson';
  if (t === 'application/json' || t.endsWith('+json')) return 'json';
  return 'other';
}

/** Reassembles one exchange's answer from its recorded chunks. */
export function reassembleAnswer(api: string | null, framing: Framing, chunks: RecordedChunk[], t0: number): { turns: Turn[]; replay: ReplayStep[]; usage: TokenUsage } {
  const b = new AnswerBuilder(t0);
  if (framing === 'sse') {
    const p = new SseParser();
    for (const c of chunks) for (const it of p.push(c.body)) if (it.kind === 'event') payload(api, it.event.data, b, c.at);
    const last = chunks.at(-1)?.at ?? t0;
    for (const it of p.end().items) if (it.kind === 'event') payload(api, it.event.data, b, last);
  } else if (framing === 'ndjson') {
    const p = new NdjsonParser();
    for (const c of chunks) for (const line of p.push(c.body)) payload(api, line, b, c.at);
    for (const line of p.end()) payload(api, line, b, chunks.at(-1)?.at ?? t0);
  } else {
    const text = Buffer.concat(chunks.map((c) => c.body)).toString('utf8');
    const at = chunks.at(-1)?.at ?? t0;
    if (framing === 'json') payload(api, text, b, at);
    if (!b.turns().length && text) b.addText(text, at);
  }
  return { turns: b.turns(), replay: b.replay, usage: b.usage };
}

// OpenAI chat completions stream (also Azure OpenAI, GitHub Copilot, Gemini/Ollama OpenAI-compatible
// endpoints) and the legacy text completions stream (choices[].text).
//
// Channels, per choice index i: content, refusal, reasoning_content / reasoning, each tool call
// index k (function.arguments), legacy function_call.arguments and text.
// End signals and where released text goes:
// - finish_reason on choice i: appended to that same chunk (delta.content, delta.tool_calls[] entries
//   for each open tool call, text) — the SDK accumulates a chunk before acting on its finish_reason.
// - a tool call starts (or the index moves on): the content channel and the previous tool call
//   end; their text is put in that chunk, before the new entry, so the SDK's
//   `tool_calls.function.arguments.done` for the previous call sees complete arguments.
// - [DONE], a mid-stream {"error":…}, EOF: a synthesized chunk (same id/model envelope,
//   finish_reason null) placed before the signal (or at the end).
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

const TEXT_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['content', 'c'],
  ['refusal', 'r'],
  ['reasoning_content', 'rc'],
  ['reasoning', 'rs'],
];

export class OpenAIChatAdapter implements StreamAdapter {
  private envelope: JsonObj | null = null;
  private readonly lastTool = new Map<number, number>();
  private named = false;

  constructor(private readonly lane: Lane) {}

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    if (msg.event) this.named = true;
    if (msg.data.trim() === '[DONE]') return [...this.finish(), msg];
    if (msg.data === '') return [msg];
    const obj = parsed;
    if (obj === undefined) return [textFallback(this.lane, msg)];
    if (!isObj(obj)) return [out(msg, obj, this.lane.walk(obj))];
    const handled = new Handled();
    let changed = false;
    const before: Msg[] = [];
    const choices = obj['choices'];
    if (Array.isArray(choices)) {
      this.remember(obj);
      for (let p = 0; p < choices.length; p++) {
        const ch = choices[p];
        if (isObj(ch) && this.choice(ch, p, handled)) changed = true;
      }
    }
    if (obj['error'] !== undefined && obj['error'] !== null) before.push(...this.finish());
    if (this.lane.walk(obj, handled)) changed = true;
    before.push(out(msg, obj, changed));
    return before;
  }

  private remember(obj: JsonObj): void {
    if (typeof obj['id'] !== 'string' || obj['id'] === '') return; // Azure's prompt-annotation preamble
    if (this.envelope && this.envelope['id'] === obj['id'] && this.envelope['model'] === obj['model']) return;
    const env: JsonObj = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'choices' || k === 'usage' || k === 'obfuscation' || k === 'prompt_filter_results') continue;
      env[k] = v;
    }
    this.lane.walk(env); // copied before the message was masked: a synthesized chunk must not carry it raw
    this.envelope = env;
  }

  /** Masks one choice in place; returns true when it changed. */
  private choice(ch: JsonObj, position: number, handled: Handled): boolean {
    const i = typeof ch['index'] === 'number' ? ch['index'] : position;
    let changed = false;
    const delta = isObj(ch['delta']) ? ch['delta'] : null;
    if (delta) {
      for (const [field, tag] of TEXT_FIELDS) {
        const v = delta[field];
        if (typeof v !== 'string') continue;
        handled.add(delta, field);
        const m = this.lane.push(`${tag}:${i}`, v);
        if (m !== v) {
          delta[field] = m;
          changed = true;
        }
      }
      const tcs = delta['tool_calls'];
      if (Array.isArray(tcs) && tcs.length > 0) {
        // text before the tool calls is complete
        const d = delta;
        if (this.releaseText(i, () => d, handled)) changed = true;
        const out: Json[] = [];
        for (const tc of tcs) {
          if (!isObj(tc)) {
            out.push(tc);
            continue;
          }
          const k = typeof tc['index'] === 'number' ? tc['index'] : 0;
          const last = this.lastTool.get(i);
          if (last !== undefined && last !== k) {
            const r = this.lane.flush(`t:${i}:${last}`);
            if (r) {
              const entry: JsonObj = { index: last, function: { arguments: r } };
              handled.add(entry['function'] as JsonObj, 'arguments');
              out.push(entry);
              changed = true;
            }
          }
          this.lastTool.set(i, k);
          const fn = tc['function'];
          if (isObj(fn) && typeof fn['arguments'] === 'string') {
            handled.add(fn, 'arguments');
            const a = fn['arguments'];
            const m = this.lane.push(`t:${i}:${k}`, a);
            if (m !== a) {
              fn['arguments'] = m;
              changed = true;
            }
          }
          out.push(tc);
        }
        if (out.length !== tcs.length) delta['tool_calls'] = out;
      }
      const fc = delta['function_call'];
      if (isObj(fc) && typeof fc['arguments'] === 'string') {
        handled.add(fc, 'arguments');
        const a = fc['arguments'];
        const m = this.lane.push(`f:${i}`, a);
        if (m !== a) {
          fc['arguments'] = m;
          changed = true;
        }
      }
    }
    if (typeof ch['text'] === 'string') {
      handled.add(ch, 'text');
      const v = ch['text'];
      const m = this.lane.push(`x:${i}`, v);
      if (m !== v) {
        ch['text'] = m;
        changed = true;
      }
    }
    if (typeof ch['finish_reason'] === 'string' && ch['finish_reason'] !== '') {
      if (this.releaseChoice(i, ch, handled)) changed = true;
      this.lastTool.delete(i);
    }
    return changed;
  }

  /** Ends the content/refusal/reasoning channels of choice i, appending their text to the delta. */
  private releaseText(i: number, delta: () => JsonObj, handled: Handled): boolean {
    let changed = false;
    for (const [field, tag] of TEXT_FIELDS) {
      const r = this.lane.flush(`${tag}:${i}`);
      if (!r) continue;
      const d = delta();
      const cur = d[field];
      d[field] = (typeof cur === 'string' ? cur : '') + r;
      handled.add(d, field);
      changed = true;
    }
    return changed;
  }

  /** Ends every channel of choice i, attaching the released text to this choice. */
  private releaseChoice(i: number, ch: JsonObj, handled: Handled): boolean {
    const delta = (): JsonObj => (isObj(ch['delta']) ? ch['delta'] : (ch['delta'] = {}));
    let changed = this.releaseText(i, delta, handled);
    const entries: Json[] = [];
    for (const key of this.lane.keys(`t:${i}:`)) {
      const r = this.lane.flush(key);
      if (!r) continue;
      const fn: JsonObj = { arguments: r };
      handled.add(fn, 'arguments');
      entries.push({ index: Number(key.slice(key.lastIndexOf(':') + 1)), function: fn });
    }
    if (entries.length) {
      const d = delta();
      const cur = d['tool_calls'];
      d['tool_calls'] = Array.isArray(cur) ? [...cur, ...entries] : entries;
      changed = true;
    }
    const f = this.lane.flush(`f:${i}`);
    if (f) {
      const d = delta();
      const fc = isObj(d['function_call']) ? d['function_call'] : (d['function_call'] = {});
      fc['arguments'] = (typeof fc['arguments'] === 'string' ? fc['arguments'] : '') + f;
      handled.add(fc, 'arguments');
      changed = true;
    }
    const x = this.lane.flush(`x:${i}`);
    if (x) {
      ch['text'] = (typeof ch['text'] === 'string' ? ch['text'] : '') + x;
      handled.add(ch, 'text');
      changed = true;
    }
    return changed;
  }

  finish(): Msg[] {
    this.lastTool.clear();
    const byChoice = new Map<number, JsonObj>();
    const choiceOf = (i: number): JsonObj => {
      let c = byChoice.get(i);
      if (!c) byChoice.set(i, (c = { index: i, delta: {}, finish_reason: null }));
      return c;
    };
    for (const key of this.lane.keys()) {
      const parts = key.split(':');
      const i = Number(parts[1]);
      const r = this.lane.flush(key);
      if (!r) continue;
      const c = choiceOf(i);
      const delta = c['delta'] as JsonObj;
      const tag = parts[0];
      if (tag === 't') {
        const list = (delta['tool_calls'] ??= []) as Json[];
        list.push({ index: Number(parts[2]), function: { arguments: r } });
      } else if (tag === 'f') {
        delta['function_call'] = { arguments: r };
      } else if (tag === 'x') {
        delete c['delta'];
        c['text'] = r;
      } else {
        const field = TEXT_FIELDS.find(([, t]) => t === tag)?.[0] ?? 'content';
        delta[field] = r;
      }
    }
    if (byChoice.size === 0) return [];
    const env = this.envelope ?? { id: '', object: 'chat.completion.chunk', created: 0, model: '' };
    const chunk: JsonObj = { ...env, choices: [...byChoice.values()] };
    const msg: Msg = { data: JSON.stringify(chunk) };
    if (this.named) msg.event = 'message';
    return [msg];
  }

  json(body: Json): boolean {
    return this.lane.walk(body);
  }
}

// OpenAI Responses stream (api.openai.com/v1/responses, Azure /openai/v1/responses, Copilot /responses).
//
// Channels: one per output item (and content/summary index) for each kind of text delta.
// End signals: the matching *.done event (released text goes into a synthesized *.delta event of
// the same kind and indices, with the done event's sequence_number, right before it), then
// content_part.done / output_item.done / response.completed|incomplete|failed / error / EOF for
// anything still open.
// The full repeats (*.done text, content_part.done part, output_item.done item, the output[] of
// response.completed) are rebuilt from the masked deltas, so they carry exactly the text the
// client was streamed. A repeat that does not match what was streamed is masked whole.
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

interface Kind {
  tag: string;
  /** Sub-index field of the event (content_index, summary_index), if any. */
  sub?: string;
  delta: string;
  done: string;
  /** Field of the done event holding the full text. */
  field: string;
  /** Extra fields a synthesized delta carries (the SDK types expect them). */
  extra?: JsonObj;
}

const KINDS: Kind[] = [
  { tag: 't', sub: 'content_index', delta: 'response.output_text.delta', done: 'response.output_text.done', field: 'text', extra: { logprobs: [] } },
  { tag: 'r', sub: 'content_index', delta: 'response.refusal.delta', done: 'response.refusal.done', field: 'refusal' },
  { tag: 'f', delta: 'response.function_call_arguments.delta', done: 'response.function_call_arguments.done', field: 'arguments' },
  { tag: 'u', delta: 'response.custom_tool_call_input.delta', done: 'response.custom_tool_call_input.done', field: 'input' },
  { tag: 's', sub: 'summary_index', delta: 'response.reasoning_summary_text.delta', done: 'response.reasoning_summary_text.done', field: 'text' },
  { tag: 'rt', sub: 'content_index', delta: 'response.reasoning_text.delta', done: 'response.reasoning_text.done', field: 'text' },
  { tag: 'm', delta: 'response.mcp_call_arguments.delta', done: 'response.mcp_call_arguments.done', field: 'arguments' },
  { tag: 'ci', delta: 'response.code_interpreter_call_code.delta', done: 'response.code_interpreter_call_code.done', field: 'code' },
  { tag: 'at', delta: 'response.audio.transcript.delta', done: 'response.audio.transcript.done', field: '' },
];
const BY_DELTA = new Map(KINDS.map((k) => [k.delta, k]));
const BY_DONE = new Map(KINDS.map((k) => [k.done, k]));
const BY_TAG = new Map(KINDS.map((k) => [k.tag, k]));

/**
 * Text kept per channel to rebuild the full repeats; past this the pieces are dropped and the
 * repeat is masked whole instead (same placeholders: numbering is per secret within a session).
 */
const ACC_MAX_CHARS = 4 * 1024 * 1024;

/** What was streamed on one channel: raw and masked pieces, and the indices to address it. */
interface Acc {
  kind: Kind;
  raw: string[];
  masked: string[];
  ids: JsonObj;
  /** Characters in raw + masked; -1 once dropped for size. */
  size: number;
}

export class OpenAIResponsesAdapter implements StreamAdapter {
  private readonly acc = new Map<string, Acc>();
  private named = false;

  constructor(private readonly lane: Lane) {}

  private key(kind: Kind, obj: JsonObj): string {
    const item = typeof obj['item_id'] === 'string' ? obj['item_id'] : '';
    const sub = kind.sub !== undefined ? `:${String(obj[kind.sub] ?? 0)}` : '';
    return `${kind.tag}:${item}${sub}`;
  }

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    if (msg.event) this.named = true;
    if (msg.data === '' || msg.data.trim() === '[DONE]') {
      return msg.data === '' ? [msg] : [...this.finish(), msg];
    }
    const obj = parsed;
    if (obj === undefined) return [textFallback(this.lane, msg)];
    if (!isObj(obj)) return [out(msg, obj, this.lane.walk(obj))];
    const handled = new Handled();
    let changed = false;
    const before: Msg[] = [];
    const type = typeof obj['type'] === 'string' ? obj['type'] : '';
    const seq = obj['sequence_number'];

    const deltaKind = BY_DELTA.get(type);
    const doneKind = BY_DONE.get(type);
    if (deltaKind && typeof obj['delta'] === 'string') {
      const key = this.key(deltaKind, obj);
      let a = this.acc.get(key);
      if (!a) {
        const ids: JsonObj = {};
        for (const f of ['item_id', 'output_index', 'content_index', 'summary_index']) {
          if (obj[f] !== undefined) ids[f] = obj[f]!;
        }
        this.lane.walk(ids); // copied before the event was masked; reused in synthesized deltas
        this.acc.set(key, (a = { kind: deltaKind, raw: [], masked: [], ids, size: 0 }));
      }
      const v = obj['delta'];
      handled.add(obj, 'delta');
      const m = this.lane.push(key, v);
      keep(a, v, m);
      if (m !== v) {
        obj['delta'] = m;
        changed = true;
      }
    } else if (doneKind) {
      const key = this.key(doneKind, obj);
      const s = this.release(key, seq);
      if (s) before.push(s);
      if (doneKind.field && typeof obj[doneKind.field] === 'string') {
        if (this.resolve(key, obj, doneKind.field, handled)) changed = true;
      }
    } else {
      switch (type) {
        case 'response.content_part.done': {
          const part = obj['part'];
          if (isObj(part)) {
            const item = String(obj['item_id'] ?? '');
            const ci = String(obj['content_index'] ?? 0);
            if (part['type'] === 'reasoning_text') {
              if (this.resolveField(`rt:${item}:${ci}`, part, 'text', seq, before, handled)) changed = true;
            } else {
              if (this.resolveField(`t:${item}:${ci}`, part, 'text', seq, before, handled)) changed = true;
              if (this.resolveField(`r:${item}:${ci}`, part, 'refusal', seq, before, handled)) changed = true;
            }
          }
          break;
        }
        case 'response.reasoning_summary_part.done': {
          const part = obj['part'];
          if (isObj(part)) {
            const key = `s:${String(obj['item_id'] ?? '')}:${String(obj['summary_index'] ?? 0)}`;
            if (this.resolveField(key, part, 'text', seq, before, handled)) changed = true;
          }
          break;
        }
        case 'response.output_item.done': {
          if (isObj(obj['item']) && this.resolveItem(obj['item'], seq, before, handled)) changed = true;
          break;
        }
        case 'response.completed':
        case 'response.incomplete':
        case 'response.failed': {
          before.push(...this.releaseAll(seq));
          const r = obj['response'];
          if (isObj(r) && Array.isArray(r['output'])) {
            for (const item of r['output']) {
              if (isObj(item) && this.resolveItem(item, seq, before, handled)) changed = true;
            }
          }
          break;
        }
        case 'error':
          before.push(...this.releaseAll(seq));
          break;
        default:
          break;
      }
    }
    if (this.lane.walk(obj, handled)) changed = true;
    before.push(out(msg, obj, changed));
    return before;
  }

  /** Flushes one channel; returns a synthesized delta event carrying the held text, if any. */
  private release(key: string, seq: Json | undefined): Msg | null {
    const r = this.lane.flush(key);
    if (!r) return null;
    const a = this.acc.get(key);
    const kind = a?.kind ?? BY_TAG.get(key.slice(0, key.indexOf(':')));
    if (!kind) return null;
    if (a) keep(a, '', r);
    const ev: JsonObj = { type: kind.delta };
    if (typeof seq === 'number') ev['sequence_number'] = seq;
    Object.assign(ev, a?.ids ?? {});
    ev['delta'] = r;
    if (kind.extra) Object.assign(ev, structuredClone(kind.extra));
    const msg: Msg = { data: JSON.stringify(ev) };
    if (this.named) msg.event = kind.delta;
    return msg;
  }

  private releaseAll(seq: Json | undefined): Msg[] {
    const outMsgs: Msg[] = [];
    for (const key of this.lane.keys()) {
      const s = this.release(key, seq);
      if (s) outMsgs.push(s);
    }
    return outMsgs;
  }

  /** Replaces holder[field] (the full text of channel `key`) with the masked streamed text. */
  private resolve(key: string, holder: JsonObj, field: string, handled: Handled): boolean {
    const v = holder[field];
    if (typeof v !== 'string') return false;
    handled.add(holder, field);
    const a = this.acc.get(key);
    let m: string;
    if (a && a.size >= 0 && a.raw.join('') === v) m = a.masked.join('');
    else m = this.lane.text(v);
    if (m === v) return false;
    holder[field] = m;
    return true;
  }

  private resolveField(key: string, holder: JsonObj, field: string, seq: Json | undefined, before: Msg[], handled: Handled): boolean {
    if (typeof holder[field] !== 'string') return false;
    const s = this.release(key, seq);
    if (s) before.push(s);
    return this.resolve(key, holder, field, handled);
  }

  /** An output item repeated whole (output_item.done, response.completed): rebuild its texts. */
  private resolveItem(item: JsonObj, seq: Json | undefined, before: Msg[], handled: Handled): boolean {
    const id = typeof item['id'] === 'string' ? item['id'] : '';
    let changed = false;
    const list = (field: string, each: (part: JsonObj, j: number) => void): void => {
      const arr = item[field];
      if (Array.isArray(arr)) arr.forEach((p, j) => isObj(p) && each(p, j));
    };
    switch (item['type']) {
      case 'message':
        list('content', (part, j) => {
          if (this.resolveField(`t:${id}:${j}`, part, 'text', seq, before, handled)) changed = true;
          if (this.resolveField(`r:${id}:${j}`, part, 'refusal', seq, before, handled)) changed = true;
        });
        break;
      case 'function_call':
        if (this.resolveField(`f:${id}`, item, 'arguments', seq, before, handled)) changed = true;
        break;
      case 'custom_tool_call':
        if (this.resolveField(`u:${id}`, item, 'input', seq, before, handled)) changed = true;
        break;
      case 'mcp_call':
        if (this.resolveField(`m:${id}`, item, 'arguments', seq, before, handled)) changed = true;
        break;
      case 'code_interpreter_call':
        if (this.resolveField(`ci:${id}`, item, 'code', seq, before, handled)) changed = true;
        break;
      case 'reasoning':
        list('summary', (part, j) => {
          if (this.resolveField(`s:${id}:${j}`, part, 'text', seq, before, handled)) changed = true;
        });
        list('content', (part, j) => {
          if (this.resolveField(`rt:${id}:${j}`, part, 'text', seq, before, handled)) changed = true;
        });
        break;
      default:
        break;
    }
    return changed;
  }

  finish(): Msg[] {
    return this.releaseAll(undefined);
  }

  json(body: Json): boolean {
    return this.lane.walk(body);
  }
}

/** Keeps a raw and a masked piece of a channel, within ACC_MAX_CHARS. */
function keep(a: Acc, raw: string, masked: string): void {
  if (a.size < 0) return;
  a.size += raw.length + masked.length;
  if (a.size > ACC_MAX_CHARS) {
    a.raw = [];
    a.masked = [];
    a.size = -1;
    return;
  }
  if (raw) a.raw.push(raw);
  a.masked.push(masked);
}

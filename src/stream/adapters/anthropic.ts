// Anthropic Messages stream (api.anthropic.com, GitHub Copilot /v1/messages, Vertex rawPredict).
//
// Channels: one per content block index, carrying text_delta.text, thinking_delta.thinking or
// input_json_delta.partial_json. signature_delta is opaque and untouched.
// End signals: content_block_stop (released text goes into a synthesized content_block_delta of
// the block's own delta type, placed right before the stop), and message_delta, message_stop,
// error or EOF for blocks still open (same synthesized delta, before that event).
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

const DELTA_FIELD: Record<string, string> = {
  text_delta: 'text',
  thinking_delta: 'thinking',
  input_json_delta: 'partial_json',
};

const BLOCK_DELTA: Record<string, string> = {
  text: 'text_delta',
  thinking: 'thinking_delta',
  tool_use: 'input_json_delta',
  server_tool_use: 'input_json_delta',
  mcp_tool_use: 'input_json_delta',
};

export class AnthropicAdapter implements StreamAdapter {
  /** Delta type used by each open block (decides the shape of a synthesized delta). */
  private readonly deltaType = new Map<number, string>();
  private named = false;

  constructor(private readonly lane: Lane) {}

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    if (msg.event) this.named = true;
    if (msg.data === '') return [msg];
    const obj = parsed;
    if (obj === undefined) return [textFallback(this.lane, msg)];
    if (!isObj(obj)) return [out(msg, obj, this.lane.walk(obj))];
    const handled = new Handled();
    let changed = false;
    const before: Msg[] = [];
    const index = typeof obj['index'] === 'number' ? obj['index'] : 0;
    switch (obj['type']) {
      case 'content_block_start': {
        const block = obj['content_block'];
        if (isObj(block) && typeof block['type'] === 'string') {
          const dt = BLOCK_DELTA[block['type']];
          if (dt) {
            this.deltaType.set(index, dt);
            const field = DELTA_FIELD[dt]!;
            const v = block[field];
            if (typeof v === 'string' && v !== '') {
              handled.add(block, field);
              const m = this.lane.push(`${index}`, v);
              if (m !== v) {
                block[field] = m;
                changed = true;
              }
            }
          }
        }
        break;
      }
      case 'content_block_delta': {
        const d = obj['delta'];
        if (!isObj(d) || typeof d['type'] !== 'string') break;
        const field = DELTA_FIELD[d['type']];
        if (field === undefined) break; // signature_delta, citations_delta…: whole-value masking below
        const v = d[field];
        if (typeof v !== 'string') break;
        this.deltaType.set(index, d['type']);
        handled.add(d, field);
        const m = this.lane.push(`${index}`, v);
        if (m !== v) {
          d[field] = m;
          changed = true;
        }
        break;
      }
      case 'content_block_stop': {
        const s = this.release(index);
        if (s) before.push(s);
        this.deltaType.delete(index);
        break;
      }
      case 'message_delta':
      case 'message_stop':
      case 'error':
        before.push(...this.finish());
        break;
      default:
        break;
    }
    if (this.lane.walk(obj, handled)) changed = true;
    before.push(out(msg, obj, changed));
    return before;
  }

  /** Flushes block `index`; returns a synthesized content_block_delta with the text, if any. */
  private release(index: number): Msg | null {
    const r = this.lane.flush(`${index}`);
    if (!r) return null;
    const dt = this.deltaType.get(index) ?? 'text_delta';
    const delta: JsonObj = { type: dt, [DELTA_FIELD[dt] ?? 'text']: r };
    const ev: JsonObj = { type: 'content_block_delta', index, delta };
    const msg: Msg = { data: JSON.stringify(ev) };
    if (this.named) msg.event = 'content_block_delta';
    return msg;
  }

  finish(): Msg[] {
    const outMsgs: Msg[] = [];
    for (const key of this.lane.keys()) {
      const s = this.release(Number(key));
      if (s) outMsgs.push(s);
    }
    return outMsgs;
  }

  json(body: Json): boolean {
    return this.lane.walk(body);
  }
}

// AWS Bedrock ConverseStream (`/model/{id}/converse-stream`, event-stream framed) and Converse (JSON).
//
// The event type travels in the frame's `:event-type` header (msg.event); payloads carry no `type`:
//   messageStart {role} · contentBlockStart {contentBlockIndex, start:{toolUse:{toolUseId,name}}}
//   contentBlockDelta {contentBlockIndex, delta:{text} | {toolUse:{input}} | {reasoningContent:{text|signature|redactedContent}}}
//   contentBlockStop {contentBlockIndex} · messageStop {stopReason} · metadata {usage, metrics}
// Channels: one per content block index, carrying delta.text, delta.toolUse.input (JSON text in
// pieces) or delta.reasoningContent.text. End signals: contentBlockStop (released text goes into a
// synthesized contentBlockDelta of the block's kind, right before the stop); messageStop, metadata,
// an exception (any other event type) or EOF for blocks still open (the same, before that event).
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

type Kind = 'text' | 'toolUse' | 'reasoning';

const BLOCK_EVENTS = new Set(['messageStart', 'contentBlockStart', 'contentBlockDelta', 'contentBlockStop']);

/** The text field of a delta, by kind: [holder, key], or null when the delta carries none. */
function deltaText(delta: JsonObj): { kind: Kind; holder: JsonObj; key: string } | null {
  if (typeof delta['text'] === 'string') return { kind: 'text', holder: delta, key: 'text' };
  const tool = delta['toolUse'];
  if (isObj(tool) && typeof tool['input'] === 'string') return { kind: 'toolUse', holder: tool, key: 'input' };
  const r = delta['reasoningContent'];
  if (isObj(r) && typeof r['text'] === 'string') return { kind: 'reasoning', holder: r, key: 'text' };
  return null;
}

function syntheticDelta(kind: Kind, text: string): JsonObj {
  if (kind === 'toolUse') return { toolUse: { input: text } };
  if (kind === 'reasoning') return { reasoningContent: { text } };
  return { text };
}

export class BedrockConverseAdapter implements StreamAdapter {
  private readonly kinds = new Map<number, Kind>();

  constructor(private readonly lane: Lane) {}

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    const type = msg.event ?? '';
    // anything but a block event ends the message: held text goes out before it (an exception included)
    const before: Msg[] = BLOCK_EVENTS.has(type) ? [] : this.finish();
    if (parsed === undefined) return [...before, textFallback(this.lane, msg)];
    if (!isObj(parsed)) return [...before, out(msg, parsed, this.lane.walk(parsed))];
    const index = typeof parsed['contentBlockIndex'] === 'number' ? parsed['contentBlockIndex'] : 0;
    const handled = new Handled();
    let changed = false;
    if (type === 'contentBlockDelta' && isObj(parsed['delta'])) {
      const field = deltaText(parsed['delta']);
      if (field) {
        this.kinds.set(index, field.kind);
        handled.add(field.holder, field.key);
        const v = field.holder[field.key] as string;
        const m = this.lane.push(`${index}`, v);
        if (m !== v) {
          field.holder[field.key] = m;
          changed = true;
        }
      }
    } else if (type === 'contentBlockStop') {
      const s = this.release(index);
      if (s) before.push(s);
      this.kinds.delete(index);
    }
    if (this.lane.walk(parsed, handled)) changed = true;
    before.push(out(msg, parsed, changed));
    return before;
  }

  /** Flushes block `index`; returns a synthesized contentBlockDelta with the text, if any. */
  private release(index: number): Msg | null {
    const text = this.lane.flush(`${index}`);
    if (!text) return null;
    const delta = syntheticDelta(this.kinds.get(index) ?? 'text', text);
    return { event: 'contentBlockDelta', data: JSON.stringify({ contentBlockIndex: index, delta }) };
  }

  finish(): Msg[] {
    const msgs: Msg[] = [];
    for (const key of this.lane.keys()) {
      const s = this.release(Number(key));
      if (s) msgs.push(s);
    }
    return msgs;
  }

  json(body: Json): boolean {
    return this.lane.walk(body);
  }
}

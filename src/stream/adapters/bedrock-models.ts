// Stream events of Bedrock models with their own plain formats, inside InvokeModelWithResponseStream
// chunks: Meta Llama {generation, stop_reason}, Amazon Titan {outputText, completionReason}, Claude's
// legacy text completions {completion, stop_reason}, Cohere {text, is_finished}, Mistral
// {outputs:[{text, stop_reason}]}. One channel per text field (per output index for Mistral), so a
// secret split across chunks is masked whole. End signal: a stop field set (or Bedrock's closing
// `amazon-bedrock-invocationMetrics`) appends the held text to the same field of that event; EOF
// releases it as an event of its own. Every other string is masked whole.
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

const TEXT_FIELDS = ['generation', 'outputText', 'completion', 'text'] as const;
const STOP_FIELDS = ['stop_reason', 'completionReason', 'finish_reason'];

function ends(o: JsonObj): boolean {
  return STOP_FIELDS.some((k) => o[k] !== undefined && o[k] !== null) || o['is_finished'] === true || 'amazon-bedrock-invocationMetrics' in o;
}

export class ModelFieldsAdapter implements StreamAdapter {
  constructor(private readonly lane: Lane) {}

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    if (parsed === undefined) return [textFallback(this.lane, msg)];
    if (!isObj(parsed)) return [out(msg, parsed, this.lane.walk(parsed))];
    const handled = new Handled();
    let changed = false;
    const stream = (holder: JsonObj, key: string, channel: string, end: boolean) => {
      const v = holder[key];
      if (typeof v !== 'string') return;
      handled.add(holder, key);
      let m = this.lane.push(channel, v);
      if (end) m += this.lane.flush(channel);
      if (m !== v) {
        holder[key] = m;
        changed = true;
      }
    };
    const end = ends(parsed);
    for (const f of TEXT_FIELDS) stream(parsed, f, f, end);
    const outputs = parsed['outputs'];
    if (Array.isArray(outputs)) {
      outputs.forEach((o, i) => {
        if (isObj(o)) stream(o, 'text', `outputs.${i}`, end || ends(o));
      });
    }
    if (end) for (const key of this.lane.keys()) if (this.pendingInto(parsed, key, handled)) changed = true;
    if (this.lane.walk(parsed, handled)) changed = true;
    return [out(msg, parsed, changed)];
  }

  /** A channel still open at an end signal whose field this event lacks: its text goes into the event. */
  private pendingInto(o: JsonObj, key: string, handled: Handled): boolean {
    const text = this.lane.flush(key);
    if (!text) return false;
    if (key.startsWith('outputs.')) {
      const outs = Array.isArray(o['outputs']) ? o['outputs'] : (o['outputs'] = []);
      const added: JsonObj = { text };
      handled.add(added, 'text');
      outs.push(added);
    } else {
      o[key] = text;
      handled.add(o, key);
    }
    return true;
  }

  finish(): Msg[] {
    const msgs: Msg[] = [];
    for (const key of this.lane.keys()) {
      const text = this.lane.flush(key);
      if (!text) continue;
      const body = key.startsWith('outputs.') ? { outputs: [{ text }] } : { [key]: text };
      msgs.push({ data: JSON.stringify(body) });
    }
    return msgs;
  }

  json(body: Json): boolean {
    return this.lane.walk(body);
  }
}

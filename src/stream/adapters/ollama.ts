// Ollama /api/chat (message.content, message.thinking) and /api/generate (response, thinking),
// streamed as NDJSON. Tool calls arrive whole (arguments as an object) and are masked value by value.
// End signals: a line with done:true (released text is appended to that line's text fields),
// a line {"error":…} (a synthesized line with the text is placed before it), EOF (a synthesized
// line at the end).
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

export class OllamaAdapter implements StreamAdapter {
  private meta: JsonObj = {};

  constructor(
    private readonly lane: Lane,
    private readonly mode: 'chat' | 'generate',
  ) {}

  /** The object holding the text fields in one line, and those fields' names. */
  private holder(obj: JsonObj, create: boolean): JsonObj | null {
    if (this.mode === 'generate') return obj;
    if (isObj(obj['message'])) return obj['message'];
    if (!create) return null;
    const m: JsonObj = { role: 'assistant', content: '' };
    obj['message'] = m;
    return m;
  }

  private fields(): Array<readonly [string, string]> {
    return this.mode === 'generate'
      ? [['response', 'c'], ['thinking', 't']]
      : [['content', 'c'], ['thinking', 't']];
  }

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    const obj = parsed;
    if (obj === undefined) return [textFallback(this.lane, msg)];
    if (!isObj(obj)) return [out(msg, obj, this.lane.walk(obj))];
    const handled = new Handled();
    let changed = false;
    const before: Msg[] = [];
    for (const f of ['model', 'created_at']) if (obj[f] !== undefined) this.meta[f] = obj[f]!;
    this.lane.walk(this.meta); // copied before the line was masked; reused in synthesized lines
    const h = this.holder(obj, false);
    if (h) {
      for (const [field, tag] of this.fields()) {
        const v = h[field];
        if (typeof v !== 'string') continue;
        handled.add(h, field);
        const m = this.lane.push(tag, v);
        if (m !== v) {
          h[field] = m;
          changed = true;
        }
      }
    }
    if (obj['done'] === true) {
      for (const [field, tag] of this.fields()) {
        const r = this.lane.flush(tag);
        if (!r) continue;
        const hh = this.holder(obj, true)!;
        const cur = hh[field];
        hh[field] = (typeof cur === 'string' ? cur : '') + r;
        handled.add(hh, field);
        changed = true;
      }
    }
    if (obj['error'] !== undefined) before.push(...this.finish());
    if (this.lane.walk(obj, handled)) changed = true;
    before.push(out(msg, obj, changed));
    return before;
  }

  finish(): Msg[] {
    const line: JsonObj = { ...this.meta };
    let any = false;
    for (const [field, tag] of this.fields()) {
      const r = this.lane.flush(tag);
      if (!r) continue;
      const h = this.holder(line, true)!;
      h[field] = r;
      any = true;
    }
    if (!any) return [];
    line['done'] = false;
    return [{ data: JSON.stringify(line) }];
  }

  json(body: Json): boolean {
    return this.lane.walk(body);
  }
}

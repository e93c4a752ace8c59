// Gemini generateContent / streamGenerateContent (?alt=sse; also a streamed JSON array body).
// Each event is a whole GenerateContentResponse.
//
// Channels: per candidate index, one for answer text and one for thought text
// (candidates[i].content.parts[j].text, parts with thought:true). functionCall args, which arrive
// whole, are masked value by value; thoughtSignature is opaque.
// End signals: finishReason on a candidate (released text is appended to the last part of the
// same kind in that event, or added as a new part), a top-level error, EOF (a synthesized event
// with the candidate's text after everything else).
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

export class GeminiAdapter implements StreamAdapter {
  private meta: JsonObj = {};
  private named = false;

  constructor(private readonly lane: Lane) {}

  message(msg: Msg, parsed: Json | undefined): Msg[] {
    if (msg.event) this.named = true;
    if (msg.data === '') return [msg];
    const obj = parsed;
    if (obj === undefined) return [textFallback(this.lane, msg)];
    const before: Msg[] = [];
    const changed = this.response(obj, before);
    before.push(out(msg, obj, changed));
    return before;
  }

  /** Masks one GenerateContentResponse in place (synthesized messages go to `before`). */
  private response(obj: Json, before: Msg[]): boolean {
    if (!isObj(obj)) return this.lane.walk(obj);
    const handled = new Handled();
    let changed = false;
    for (const f of ['modelVersion', 'responseId']) if (obj[f] !== undefined) this.meta[f] = obj[f]!;
    this.lane.walk(this.meta); // copied before the response was masked; reused in synthesized events
    const cands = obj['candidates'];
    if (Array.isArray(cands)) {
      cands.forEach((c, pos) => {
        if (isObj(c) && this.candidate(c, pos, handled)) changed = true;
      });
    }
    if (obj['error'] !== undefined) before.push(...this.finish());
    if (this.lane.walk(obj, handled)) changed = true;
    return changed;
  }

  private candidate(c: JsonObj, pos: number, handled: Handled): boolean {
    const i = typeof c['index'] === 'number' ? c['index'] : pos;
    let changed = false;
    const content = isObj(c['content']) ? c['content'] : null;
    const parts = content && Array.isArray(content['parts']) ? content['parts'] : null;
    const lastOfKind: Record<'x' | 't', JsonObj | null> = { x: null, t: null };
    if (parts) {
      for (const p of parts) {
        if (!isObj(p) || typeof p['text'] !== 'string') continue;
        const kind = p['thought'] === true ? 't' : 'x';
        handled.add(p, 'text');
        const v = p['text'];
        const m = this.lane.push(`${i}:${kind}`, v);
        if (m !== v) {
          p['text'] = m;
          changed = true;
        }
        lastOfKind[kind] = p;
      }
    }
    if (typeof c['finishReason'] === 'string' && c['finishReason'] !== '') {
      for (const kind of ['t', 'x'] as const) {
        const r = this.lane.flush(`${i}:${kind}`);
        if (!r) continue;
        const last = lastOfKind[kind];
        if (last) {
          last['text'] = (last['text'] as string) + r;
        } else {
          const cont = content ?? (c['content'] = { parts: [], role: 'model' });
          const list = Array.isArray(cont['parts']) ? cont['parts'] : (cont['parts'] = []);
          const part: JsonObj = kind === 't' ? { text: r, thought: true } : { text: r };
          handled.add(part, 'text');
          list.push(part);
        }
        changed = true;
      }
    }
    return changed;
  }

  finish(): Msg[] {
    const byCand = new Map<number, Json[]>();
    for (const key of this.lane.keys()) {
      const [i, kind] = key.split(':');
      const r = this.lane.flush(key);
      if (!r) continue;
      const n = Number(i);
      let parts = byCand.get(n);
      if (!parts) byCand.set(n, (parts = []));
      parts.push(kind === 't' ? { text: r, thought: true } : { text: r });
    }
    if (byCand.size === 0) return [];
    const candidates: Json[] = [...byCand].map(([index, parts]) => ({ content: { parts, role: 'model' }, index }));
    const msg: Msg = { data: JSON.stringify({ candidates, ...this.meta }) };
    if (this.named) msg.event = 'message';
    return [msg];
  }

  /** Non-streamed body: one response object, or the JSON array streamGenerateContent sends without alt=sse. */
  json(body: Json): boolean {
    if (!Array.isArray(body)) return this.lane.walk(body);
    // a streamed array: mask it as the stream it is, so a secret split across elements is caught
    let changed = false;
    for (const el of body) if (this.response(el, [])) changed = true;
    for (const m of this.finish()) {
      body.push(JSON.parse(m.data) as Json);
      changed = true;
    }
    return changed;
  }
}

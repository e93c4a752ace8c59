// Gemini generateContent / streamGenerateContent (?alt=sse; also a streamed JSON array body).
// Each event is a whole GenerateContentResponse.
//
// Channels: per candidate index, one for answer text and one for thought text
// (candidates[i].content.parts[j].text, parts with thought:true), and one per argument path of a
// function call streamed in pieces (Vertex AI streamFunctionCallArguments: functionCall.partialArgs[k]
// {jsonPath, stringValue, willContinue}). functionCall args that arrive whole are masked value by value;
// thoughtSignature is opaque.
// End signals: finishReason on a candidate (released text is appended to the last part of the
// same kind in that event, or added as a new part), a top-level error, EOF (a synthesized event
// with the candidate's text after everything else). A streamed argument also ends at its own
// willContinue:false, and every argument of a candidate at a functionCall without willContinue:true
// (the call's last piece; released text is added there as partialArgs entries).
import { Handled, type Json, type JsonObj, type Lane } from '../lane.js';
import { isObj, out, textFallback, type Msg, type StreamAdapter } from './base.js';

export class GeminiAdapter implements StreamAdapter {
  private meta: JsonObj = {};
  private named = false;
  /** Channel key `${i}:a:${n}` of a streamed function-call argument -> its jsonPath. */
  private readonly argPaths = new Map<string, string>();
  private readonly argKeys = new Map<string, string>();

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
        if (isObj(p) && isObj(p['functionCall']) && this.functionCall(p['functionCall'], i, handled)) changed = true;
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
      const args = this.releaseArgs(i);
      if (args.length > 0) {
        const cont = content ?? (c['content'] = { parts: [], role: 'model' });
        const list = Array.isArray(cont['parts']) ? cont['parts'] : (cont['parts'] = []);
        list.push({ functionCall: { partialArgs: args } });
        changed = true;
      }
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

  /** Pieces of one function call streamed argument by argument: each string piece goes through its path's channel. */
  private functionCall(fc: JsonObj, i: number, handled: Handled): boolean {
    let changed = false;
    const partial = Array.isArray(fc['partialArgs']) ? fc['partialArgs'] : [];
    for (const pa of partial) {
      if (!isObj(pa) || typeof pa['stringValue'] !== 'string') continue;
      handled.add(pa, 'stringValue');
      const key = this.argKey(i, typeof pa['jsonPath'] === 'string' ? pa['jsonPath'] : '');
      const v = pa['stringValue'];
      let m = this.lane.push(key, v);
      if (pa['willContinue'] !== true) m += this.lane.flush(key);
      if (m !== v) {
        pa['stringValue'] = m;
        changed = true;
      }
    }
    if (fc['willContinue'] !== true) {
      const rest = this.releaseArgs(i);
      if (rest.length > 0) {
        fc['partialArgs'] = [...partial, ...rest];
        changed = true;
      }
    }
    return changed;
  }

  private argKey(i: number, jsonPath: string): string {
    const id = `${i}\0${jsonPath}`;
    let key = this.argKeys.get(id);
    if (!key) {
      key = `${i}:a:${this.argKeys.size}`;
      this.argKeys.set(id, key);
      this.argPaths.set(key, jsonPath);
    }
    return key;
  }

  /** Ends every streamed argument of candidate `i`: the held text as partialArgs entries (none when nothing was held). */
  private releaseArgs(i: number): Json[] {
    const out: Json[] = [];
    for (const key of this.lane.keys(`${i}:a:`)) {
      const r = this.lane.flush(key);
      if (r) out.push({ jsonPath: this.argPaths.get(key) ?? '', stringValue: r });
    }
    return out;
  }

  finish(): Msg[] {
    const byCand = new Map<number, Json[]>();
    for (const key of this.lane.keys()) {
      const [i, kind] = key.split(':');
      const n = Number(i);
      const r = kind === 'a' ? null : this.lane.flush(key);
      const args = kind === 'a' ? this.releaseArgs(n) : [];
      if (!r && args.length === 0) continue;
      let parts = byCand.get(n);
      if (!parts) byCand.set(n, (parts = []));
      if (args.length > 0) parts.push({ functionCall: { partialArgs: args } });
      else parts.push(kind === 't' ? { text: r, thought: true } : { text: r });
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

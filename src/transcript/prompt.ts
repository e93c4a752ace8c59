// The prompt side of an exchange: a recorded (masked) request body as conversation turns, per
// provider format. Unknown shapes fall back to the body's text so nothing recorded is hidden.
import type { Turn } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Text of an OpenAI/Anthropic-style content value: a string or an array of typed parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  return content
    .map((p) => {
      if (typeof p === 'string') return p;
      if (!isObj(p)) return '';
      const t = str(p['text']) ?? str(p['input_text']) ?? str(p['output_text']);
      if (t !== null) return t;
      if (p['type'] === 'image_url' || p['type'] === 'image' || p['type'] === 'input_image') return '[image]';
      if (p['type'] === 'tool_result') return contentText(p['content']);
      return '';
    })
    .filter((s) => s !== '')
    .join('\n');
}

function openAiChatTurns(body: Obj): Turn[] {
  const out: Turn[] = [];
  for (const m of Array.isArray(body['messages']) ? body['messages'] : []) {
    if (!isObj(m)) continue;
    const role = str(m['role']) ?? 'user';
    if (role === 'tool' || role === 'function') {
      out.push({ role: 'tool-result', text: contentText(m['content']), ...(str(m['name']) ? { name: str(m['name'])! } : {}) });
      continue;
    }
    const text = contentText(m['content']);
    if (text) out.push({ role: role === 'system' || role === 'developer' ? 'system' : role === 'assistant' ? 'assistant' : 'user', text });
    for (const tc of Array.isArray(m['tool_calls']) ? m['tool_calls'] : []) {
      const fn = isObj(tc) && isObj(tc['function']) ? tc['function'] : null;
      if (fn) out.push({ role: 'tool-call', name: str(fn['name']) ?? '?', text: str(fn['arguments']) ?? '' });
    }
  }
  return out;
}

function responsesTurns(body: Obj): Turn[] {
  const out: Turn[] = [];
  const instructions = str(body['instructions']);
  if (instructions) out.push({ role: 'system', text: instructions });
  const input = body['input'];
  if (typeof input === 'string') return [...out, { role: 'user', text: input }];
  for (const item of Array.isArray(input) ? input : []) {
    if (!isObj(item)) continue;
    const type = str(item['type']);
    if (type === 'function_call') out.push({ role: 'tool-call', name: str(item['name']) ?? '?', text: str(item['arguments']) ?? '' });
    else if (type === 'function_call_output') out.push({ role: 'tool-result', text: contentText(item['output']) });
    else if (type === 'message' || item['role'] !== undefined) {
      const role = str(item['role']);
      const text = contentText(item['content']);
      if (text) out.push({ role: role === 'system' || role === 'developer' ? 'system' : role === 'assistant' ? 'assistant' : 'user', text });
    }
  }
  return out;
}

function anthropicTurns(body: Obj): Turn[] {
  const out: Turn[] = [];
  const system = body['system'];
  if (system !== undefined) out.push({ role: 'system', text: contentText(system) });
  for (const m of Array.isArray(body['messages']) ? body['messages'] : []) {
    if (!isObj(m)) continue;
    const role = m['role'] === 'assistant' ? 'assistant' : 'user';
    const blocks = typeof m['content'] === 'string' ? [{ type: 'text', text: m['content'] }] : Array.isArray(m['content']) ? m['content'] : [];
    for (const b of blocks) {
      if (!isObj(b)) continue;
      if (b['type'] === 'text' && typeof b['text'] === 'string') out.push({ role, text: b['text'] });
      else if (b['type'] === 'tool_use') out.push({ role: 'tool-call', name: str(b['name']) ?? '?', text: JSON.stringify(b['input'] ?? {}) });
      else if (b['type'] === 'tool_result') out.push({ role: 'tool-result', text: contentText(b['content']) });
    }
  }
  return out;
}

function geminiParts(parts: unknown, role: Turn['role'], out: Turn[]): void {
  for (const p of Array.isArray(parts) ? parts : []) {
    if (!isObj(p)) continue;
    if (typeof p['text'] === 'string') out.push({ role, text: p['text'] });
    else if (isObj(p['functionCall'])) out.push({ role: 'tool-call', name: str(p['functionCall']['name']) ?? '?', text: JSON.stringify(p['functionCall']['args'] ?? {}) });
    else if (isObj(p['functionResponse'])) out.push({ role: 'tool-result', name: str(p['functionResponse']['name']) ?? '?', text: JSON.stringify(p['functionResponse']['response'] ?? {}) });
  }
}

function geminiTurns(body: Obj): Turn[] {
  const out: Turn[] = [];
  const sys = body['systemInstruction'] ?? body['system_instruction'];
  if (isObj(sys)) geminiParts(sys['parts'], 'system', out);
  for (const c of Array.isArray(body['contents']) ? body['contents'] : []) {
    if (isObj(c)) geminiParts(c['parts'], c['role'] === 'model' ? 'assistant' : 'user', out);
  }
  return out;
}

/** The request body's turns for `api`; a body that is not JSON is one user turn with its text. */
export function promptTurns(api: string | null, bodyText: string): Turn[] {
  if (!bodyText) return [];
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return [{ role: 'user', text: bodyText }];
  }
  if (!isObj(body)) return [{ role: 'user', text: bodyText }];
  switch (api) {
    case 'openai-chat':
    case 'ollama-chat':
      return openAiChatTurns(body);
    case 'openai-responses':
      return responsesTurns(body);
    case 'anthropic-messages':
      return anthropicTurns(body);
    case 'gemini':
      return geminiTurns(body);
    case 'openai-completions':
    case 'ollama-generate':
      return [{ role: 'user', text: contentText(body['prompt']) }];
    default: {
      const guess = Array.isArray(body['messages']) ? openAiChatTurns(body) : Array.isArray(body['contents']) ? geminiTurns(body) : body['input'] !== undefined ? responsesTurns(body) : [];
      return guess.length ? guess : [{ role: 'user', text: bodyText }];
    }
  }
}

/** The model a request asked for (body field, or Gemini's model in the path). */
export function requestModel(bodyText: string, path: string): string | null {
  try {
    const body = JSON.parse(bodyText) as unknown;
    if (isObj(body) && typeof body['model'] === 'string') return body['model'];
  } catch {
    /* not JSON: fall through to the path */
  }
  const m = /\/models\/([^/:?]+)/.exec(path);
  return m ? decodeURIComponent(m[1]!) : null;
}

/** Whether the request asked for a streamed answer. */
export function requestStreams(bodyText: string, path: string): boolean {
  if (/:streamGenerateContent/.test(path) || /[?&]alt=sse/.test(path)) return true;
  try {
    const body = JSON.parse(bodyText) as unknown;
    return isObj(body) && body['stream'] === true;
  } catch {
    return false;
  }
}

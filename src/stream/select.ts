// Choosing the adapter: the request path gives a hint, the response content type gives the
// framing, and the first payload confirms the hint (or names another known format).
// The host alone never decides: Copilot serves chat, responses and messages formats on one host,
// and many gateways serve OpenAI's format under their own host.
import type { Json } from './lane.js';
import { isObj } from './adapters/base.js';

export type Api =
  | 'openai-chat'
  | 'openai-completions'
  | 'openai-responses'
  | 'anthropic-messages'
  | 'gemini'
  | 'ollama-chat'
  | 'ollama-generate'
  /** AWS Bedrock Converse / ConverseStream (the model-independent API). */
  | 'bedrock-converse'
  /** AWS Bedrock InvokeModel / InvokeModelWithResponseStream (the model's own JSON, base64 in stream chunks). */
  | 'bedrock-invoke';

export type Framing = 'sse' | 'ndjson' | 'json' | 'eventstream';

export function splitPath(path: string): { pathname: string; query: URLSearchParams } {
  const q = path.indexOf('?');
  const pathname = q < 0 ? path : path.slice(0, q);
  return { pathname, query: new URLSearchParams(q < 0 ? '' : path.slice(q + 1)) };
}

/** The format a request path implies (trailing slash ignored), or null when unknown. */
export function apiFromPath(path: string): Api | null {
  let p = splitPath(path).pathname;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (/\/chat\/completions$/.test(p)) return 'openai-chat'; // OpenAI, Azure deployments and v1, Copilot, compat APIs
  if (/(^|\/)api\/chat$/.test(p)) return 'ollama-chat'; // also behind a path prefix (Open WebUI's /ollama)
  if (/(^|\/)api\/generate$/.test(p)) return 'ollama-generate';
  if (/:(stream)?[Gg]enerateContent$/.test(p)) return 'gemini';
  // Bedrock runtime: the model id is one path segment (an ARN arrives percent-encoded)
  if (/^\/model\/[^/]+\/converse(-stream)?$/.test(p)) return 'bedrock-converse';
  if (/^\/model\/[^/]+\/invoke(-with-response-stream)?$/.test(p)) return 'bedrock-invoke';
  if (/\/anthropic\/models\/[^/]+:(stream)?[Rr]awPredict$/.test(p)) return 'anthropic-messages'; // Claude on Vertex AI
  if (/(^|\/)(v1\/)?messages$/.test(p) && !/\/threads\//.test(p)) return 'anthropic-messages'; // not Assistants thread messages
  if (/(^|\/)responses(\/[A-Za-z0-9_-]+)?$/.test(p) && !/\/responses\/[^/]+\/input_items$/.test(p)) return 'openai-responses';
  if (/(^|\/)(engines\/[^/]+\/)?completions$/.test(p)) return 'openai-completions'; // legacy and Copilot code completions
  return null;
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  if (v !== undefined) return Array.isArray(v) ? v.join(', ') : v;
  for (const [k, val] of Object.entries(h)) {
    if (k.toLowerCase() === name && val !== undefined) return Array.isArray(val) ? val.join(', ') : val;
  }
  return undefined;
}
export { header as getHeader };

/** Framing from the Content-Type, or null for anything we do not parse. */
export function framingOf(contentType: string | undefined): Framing | null {
  if (!contentType) return null;
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  if (t === 'text/event-stream') return 'sse';
  if (t === 'application/x-ndjson' || t === 'application/ndjson' || t === 'application/jsonl' || t === 'application/x-jsonlines') return 'ndjson';
  if (t === 'application/json' || t.endsWith('+json') || t === 'text/json') return 'json';
  if (t === 'application/vnd.amazon.eventstream') return 'eventstream';
  return null;
}

const ANTHROPIC_TYPES = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
  'message',
]);

/** Does this first payload look like `api`'s format? Error objects are accepted by every API. */
export function accepts(api: Api, v: Json): boolean {
  const o = Array.isArray(v) ? v[0] : v;
  if (!isObj(o)) return false;
  const type = typeof o['type'] === 'string' ? o['type'] : undefined;
  if ('error' in o || type === 'error') return true;
  switch (api) {
    case 'openai-chat':
    case 'openai-completions':
      return (
        Array.isArray(o['choices']) ||
        'prompt_filter_results' in o ||
        'prompt_annotations' in o ||
        (typeof o['object'] === 'string' && /^(chat\.completion|text_completion)/.test(o['object']))
      );
    case 'openai-responses':
      return (type !== undefined && type.startsWith('response.')) || o['object'] === 'response';
    case 'anthropic-messages':
      return type !== undefined && ANTHROPIC_TYPES.has(type);
    case 'gemini':
      return 'candidates' in o || 'usageMetadata' in o || 'promptFeedback' in o;
    case 'ollama-chat':
      return 'model' in o && ('message' in o || 'done' in o);
    case 'ollama-generate':
      return 'model' in o && ('response' in o || 'done' in o);
    case 'bedrock-converse':
      // stream payloads (the event type is a frame header) and the whole Converse answer; AWS errors are {"message"}
      return ['role', 'contentBlockIndex', 'stopReason', 'usage', 'metrics', 'output', 'message'].some((k) => k in o);
    case 'bedrock-invoke':
      // the model's own JSON (stream chunks wrap it in base64 `bytes`): any object
      return true;
  }
}

const SNIFF_ORDER: Api[] = ['openai-responses', 'anthropic-messages', 'openai-chat', 'gemini', 'ollama-chat', 'ollama-generate'];

/** The path hint when the payload agrees, else the first format the payload matches, else null. */
export function confirmApi(hint: Api, first: Json): Api | null {
  if (accepts(hint, first)) return hint;
  for (const api of SNIFF_ORDER) if (api !== hint && accepts(api, first)) return api;
  return null;
}

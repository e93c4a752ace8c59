// The prompt as rules see it: the decoded text of messages, input, instructions, system prompts,
// tool results and Gemini contents, per provider; plus the model the request names. Identifiers,
// signatures and base64 media are skipped so `contains`/`regex` match what a person would read.
import { decodeBody, parseContentEncoding } from '../stream/content-encoding.js';

export interface PromptView {
  /** Every prompt string, in request order, joined with newlines; null when the body could not be decoded. */
  text: string | null;
  /** The last user-authored text (for approval summaries), at most 400 characters. */
  excerpt: string;
  model: string | null;
}

/** Top-level keys that carry prompt text in the OpenAI, Azure, Copilot, Anthropic, Gemini and Ollama formats. */
const PROMPT_KEYS = ['instructions', 'system', 'systemInstruction', 'system_instruction', 'messages', 'input', 'prompt', 'suffix', 'contents'];

/** Keys whose string values are never prompt text. */
const SKIP_KEYS = new Set([
  'id', 'type', 'role', 'signature', 'encrypted_content', 'data', 'image_url', 'url', 'file_id', 'file_data',
  'media_type', 'mime_type', 'mimeType', 'cache_control', 'tool_call_id', 'tool_use_id', 'call_id',
  'thoughtSignature', 'detail', 'format', 'status', 'model', 'fileUri', 'file_uri', 'images',
]);

const EXCERPT_CHARS = 400;
const MAX_DEPTH = 64;

function collectStrings(root: unknown, out: string[]): void {
  const stack: { v: unknown; depth: number }[] = [{ v: root, depth: 0 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') out.push(v);
    else if (depth >= MAX_DEPTH || v === null || typeof v !== 'object') continue;
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1 });
    else {
      const entries = Object.entries(v as Record<string, unknown>).filter(([k]) => !SKIP_KEYS.has(k) && !k.endsWith('_id'));
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ v: entries[i]![1], depth: depth + 1 });
    }
  }
}

function lastUserText(body: Record<string, unknown>): string {
  const turns = Array.isArray(body.messages) ? body.messages : Array.isArray(body.contents) ? body.contents : Array.isArray(body.input) ? body.input : null;
  if (turns) {
    for (let i = turns.length - 1; i >= 0; i--) {
      const t = turns[i] as { role?: unknown } | null;
      if (t && typeof t === 'object' && (t.role === 'user' || t.role === undefined)) {
        const parts: string[] = [];
        collectStrings(t, parts);
        if (parts.length) return parts.join('\n');
      }
    }
  }
  if (typeof body.input === 'string') return body.input;
  if (typeof body.prompt === 'string') return body.prompt;
  return '';
}

/** The model named by the body, else by a Gemini (`models/NAME:generateContent`) or Azure deployment path. */
function modelOf(body: Record<string, unknown> | null, path: string): string | null {
  if (body && typeof body.model === 'string') return body.model;
  const p = path.split('?')[0]!;
  const gemini = /\/models\/([^/:]+):/.exec(p);
  if (gemini) return decodeURIComponent(gemini[1]!);
  const azure = /\/deployments\/([^/]+)\//.exec(p);
  return azure ? decodeURIComponent(azure[1]!) : null;
}

function clip(s: string): string {
  const t = s.trim();
  return t.length > EXCERPT_CHARS ? `${t.slice(0, EXCERPT_CHARS - 1)}…` : t;
}

/** Reads the prompt from a raw request body (any Content-Encoding the proxy can decode). */
export function readPrompt(body: Buffer, headers: Record<string, string | string[] | undefined>, path: string): PromptView {
  if (body.length === 0) return { text: '', excerpt: '', model: modelOf(null, path) };
  const codings = parseContentEncoding(headers['content-encoding']);
  let plain: Buffer;
  try {
    if (codings === null) throw new Error('unknown content-encoding');
    plain = decodeBody(body, codings);
  } catch {
    return { text: null, excerpt: '', model: modelOf(null, path) };
  }
  const raw = plain.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { text: raw, excerpt: clip(raw.slice(-EXCERPT_CHARS * 2)), model: modelOf(null, path) };
  }
  return promptOfJson(json, path);
}

/** The prompt of an already parsed request body (also used by `wiretrail policy explain`). */
export function promptOfJson(json: unknown, path: string): PromptView {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    const parts: string[] = [];
    collectStrings(json, parts);
    const text = parts.join('\n');
    return { text, excerpt: clip(text), model: null };
  }
  const body = json as Record<string, unknown>;
  const parts: string[] = [];
  const known = PROMPT_KEYS.filter((k) => k in body);
  if (known.length) for (const k of known) collectStrings(body[k], parts);
  else collectStrings(body, parts); // unknown format: every string counts (fail closed for deny rules)
  return { text: parts.join('\n'), excerpt: clip(lastUserText(body)), model: modelOf(body, path) };
}

// Where a provider's schema makes a JSON field opaque: identifiers, enums, signatures, encrypted
// reasoning and base64 media that the client or the provider must get back byte for byte (a changed
// signature or encrypted_content is rejected on the next turn). Only these exact paths are opaque,
// per API and per side; the same key anywhere else (`messages[0].id`, `metadata.status`) is
// ordinary text and masked whole. Even at an opaque path a value that matches a strong credential
// rule (a provider prefix, PEM, JWT) is masked: see Lane.walk.
//
// Paths are dot-separated keys; `*` stands for any array element; `key[type=x]` is opaque only in
// an object whose `type` is `x`. A path that is not listed here
// falls back to full masking, which is the safe direction: an id that no rule matches stays as it
// is anyway.
import type { Api } from './select.js';

export interface OpaqueNode {
  /** This value is opaque (strong rules only)… */
  readonly opaque: boolean;
  /** …when the object holding it has this [key, value] (a block's or source's `type`). */
  readonly when: readonly [string, string] | null;
  readonly children: ReadonlyMap<string, OpaqueNode>;
}

export type Side = 'request' | 'response';

// ---- OpenAI chat completions (and legacy completions) -----------------------------------------
const CHAT_TOOL_CALL = ['id', 'type'];
const CHAT_MESSAGE = ['role', 'tool_call_id', 'audio.id', 'reasoning_opaque', ...CHAT_TOOL_CALL.map((k) => `tool_calls.*.${k}`)];
const CHAT_PART = ['type', 'image_url.url', 'image_url.detail', 'input_audio.data', 'input_audio.format', 'file.file_data', 'file.file_id'];
const CHAT_REQUEST = [
  'model',
  'reasoning_effort',
  'service_tier',
  'response_format.type',
  'tools.*.type',
  'tool_choice.type',
  ...CHAT_MESSAGE.map((p) => `messages.*.${p}`),
  ...CHAT_PART.map((p) => `messages.*.content.*.${p}`),
];
const CHAT_RESPONSE = [
  'id',
  'object',
  'model',
  'system_fingerprint',
  'service_tier',
  'obfuscation',
  'choices.*.finish_reason',
  ...['delta', 'message'].flatMap((m) => [...CHAT_MESSAGE, 'audio.data'].map((p) => `choices.*.${m}.${p}`)),
];

// ---- OpenAI Responses ------------------------------------------------------------------------
const RESP_ITEM = ['id', 'type', 'role', 'status', 'call_id', 'encrypted_content', 'content.*.type', 'summary.*.type', 'content.*.image_url', 'content.*.file_data', 'content.*.file_id', 'result'];
const RESP_OBJECT = ['id', 'object', 'model', 'status', 'previous_response_id', 'service_tier', ...RESP_ITEM.map((p) => `output.*.${p}`)];
const RESPONSES_REQUEST = [
  'model',
  'previous_response_id',
  'conversation',
  'service_tier',
  'truncation',
  'include.*',
  'reasoning.effort',
  'reasoning.summary',
  'text.format.type',
  'tools.*.type',
  'tool_choice.type',
  ...RESP_ITEM.map((p) => `input.*.${p}`),
];
const RESPONSES_RESPONSE = [
  'type',
  'item_id',
  'obfuscation',
  'part.type',
  ...RESP_OBJECT,
  ...RESP_OBJECT.map((p) => `response.${p}`),
  ...RESP_ITEM.map((p) => `item.${p}`),
];

// ---- Anthropic Messages ----------------------------------------------------------------------
// `data` is opaque only in a redacted_thinking block and a base64 source (a `text` document source carries text)
const ANT_BLOCK = ['type', 'id', 'tool_use_id', 'signature', 'data[type=redacted_thinking]', 'source.type', 'source.media_type', 'source.data[type=base64]', 'source.file_id', 'cache_control.type'];
const ANT_BLOCKS = [...ANT_BLOCK, ...ANT_BLOCK.map((p) => `content.*.${p}`)]; // tool_result blocks nest blocks
const ANT_MESSAGE = ['id', 'type', 'role', 'model', 'stop_reason', ...ANT_BLOCKS.map((p) => `content.*.${p}`)];
const ANTHROPIC_REQUEST = [
  'model',
  'thinking.type',
  'tool_choice.type',
  'tools.*.type',
  'system.*.type',
  'system.*.cache_control.type',
  'messages.*.role',
  ...ANT_BLOCKS.map((p) => `messages.*.content.*.${p}`),
];
const ANTHROPIC_RESPONSE = [
  ...ANT_MESSAGE,
  ...ANT_MESSAGE.map((p) => `message.${p}`),
  ...ANT_BLOCK.map((p) => `content_block.${p}`),
  'delta.type',
  'delta.signature',
  'delta.stop_reason',
];

// ---- Gemini ----------------------------------------------------------------------------------
const GEM_PART = ['thoughtSignature', 'thought_signature', 'inlineData.data', 'inlineData.mimeType', 'inline_data.data', 'inline_data.mime_type', 'fileData.fileUri', 'file_data.file_uri', 'functionCall.id', 'functionResponse.id'];
const GEM_CONTENT = ['role', ...GEM_PART.map((p) => `parts.*.${p}`)];
const GEMINI_REQUEST = ['model', 'cachedContent', ...GEM_CONTENT.map((p) => `contents.*.${p}`), ...GEM_CONTENT.map((p) => `systemInstruction.${p}`)];
const GEMINI_RESPONSE = ['responseId', 'modelVersion', 'candidates.*.finishReason', ...GEM_CONTENT.map((p) => `candidates.*.content.${p}`)];

// ---- Ollama ----------------------------------------------------------------------------------
const OLLAMA_MESSAGE = ['role', 'images.*', 'tool_calls.*.id'];
const OLLAMA_REQUEST = ['model', 'images.*', 'context.*', ...OLLAMA_MESSAGE.map((p) => `messages.*.${p}`)];
const OLLAMA_RESPONSE = ['model', 'created_at', 'done_reason', 'context.*', ...OLLAMA_MESSAGE.map((p) => `message.${p}`)];

// ---- AWS Bedrock -----------------------------------------------------------------------------
// Converse content blocks are keyed by kind ({text}, {image}, {toolUse}, {reasoningContent}…); `p` is
// the random padding Bedrock adds to every stream event.
const CONV_SOURCE = ['format', 'source.bytes', 'source.s3Location.uri'];
const CONV_BLOCK = [
  ...['image', 'document', 'video'].flatMap((k) => CONV_SOURCE.map((p) => `${k}.${p}`)),
  'toolUse.toolUseId',
  'toolResult.toolUseId',
  'toolResult.status',
  'reasoningContent.reasoningText.signature',
  'reasoningContent.redactedContent',
  'cachePoint.type',
];
const CONVERSE_REQUEST = ['modelId', 'messages.*.role', ...CONV_BLOCK.map((p) => `messages.*.content.*.${p}`), 'system.*.cachePoint.type', 'toolConfig.tools.*.cachePoint.type'];
const CONVERSE_RESPONSE = [
  'p',
  'role',
  'stopReason',
  'start.toolUse.toolUseId',
  'delta.reasoningContent.signature',
  'delta.reasoningContent.redactedContent',
  'output.message.role',
  ...CONV_BLOCK.map((p) => `output.message.content.*.${p}`),
];

const PATHS: Record<Api, Record<Side, string[]>> = {
  'openai-chat': { request: CHAT_REQUEST, response: CHAT_RESPONSE },
  'openai-completions': { request: ['model'], response: CHAT_RESPONSE },
  'openai-responses': { request: RESPONSES_REQUEST, response: RESPONSES_RESPONSE },
  'anthropic-messages': { request: ANTHROPIC_REQUEST, response: ANTHROPIC_RESPONSE },
  gemini: { request: GEMINI_REQUEST, response: GEMINI_RESPONSE },
  'ollama-chat': { request: OLLAMA_REQUEST, response: OLLAMA_RESPONSE },
  'ollama-generate': { request: OLLAMA_REQUEST, response: OLLAMA_RESPONSE },
  'bedrock-converse': { request: CONVERSE_REQUEST, response: CONVERSE_RESPONSE },
  // InvokeModel carries the model's own body: Anthropic Messages for Claude (the stream adapter switches
  // to the inner format's schema when a chunk shows another one)
  'bedrock-invoke': { request: ['anthropic_version', ...ANTHROPIC_REQUEST], response: ['p', ...ANTHROPIC_RESPONSE] },
};

interface MutableNode {
  opaque: boolean;
  when: [string, string] | null;
  children: Map<string, MutableNode>;
}

const CONDITION = /^([^[]+)\[([^=\]]+)=([^\]]*)\]$/;

function compile(paths: readonly string[]): OpaqueNode {
  const root: MutableNode = { opaque: false, when: null, children: new Map() };
  for (const p of paths) {
    let n = root;
    let when: [string, string] | null = null;
    for (const raw of p.split('.')) {
      const m = CONDITION.exec(raw);
      const seg = m ? m[1]! : raw;
      when = m ? [m[2]!, m[3]!] : null;
      let c = n.children.get(seg);
      if (!c) n.children.set(seg, (c = { opaque: false, when: null, children: new Map() }));
      n = c;
    }
    n.opaque = true;
    n.when = when;
  }
  return root;
}

/** Whether `node` makes the value under it in `holder` opaque. */
export function isOpaqueIn(node: OpaqueNode | null, holder: object): boolean {
  if (!node || !node.opaque) return false;
  return node.when === null || (holder as Record<string, unknown>)[node.when[0]] === node.when[1];
}

/** No opaque paths at all (unknown format): every string is masked whole. */
export const NO_OPAQUE: OpaqueNode = compile([]);

const compiled = new Map<string, OpaqueNode>();

/** The opaque-path tree of one API's request or response bodies (and stream events). */
export function opaqueSchema(api: Api | null, side: Side): OpaqueNode {
  if (api === null) return NO_OPAQUE;
  const key = `${api}:${side}`;
  let n = compiled.get(key);
  if (!n) compiled.set(key, (n = compile(PATHS[api][side])));
  return n;
}

/** The node for `key` under `node` (an object key, or '*' for an array element), or null. */
export function childOf(node: OpaqueNode | null, key: string): OpaqueNode | null {
  return node ? (node.children.get(key) ?? null) : null;
}

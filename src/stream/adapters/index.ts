import type { Lane } from '../lane.js';
import type { Api } from '../select.js';
import { AnthropicAdapter } from './anthropic.js';
import { BedrockConverseAdapter } from './bedrock-converse.js';
import { BedrockInvokeAdapter } from './bedrock-invoke.js';
import { textFallback, type Msg, type StreamAdapter } from './base.js';
import { GeminiAdapter } from './gemini.js';
import { OllamaAdapter } from './ollama.js';
import { OpenAIChatAdapter } from './openai-chat.js';
import { OpenAIResponsesAdapter } from './openai-responses.js';

export function createAdapter(api: Api, lane: Lane): StreamAdapter {
  switch (api) {
    case 'openai-chat':
    case 'openai-completions':
      return new OpenAIChatAdapter(lane);
    case 'openai-responses':
      return new OpenAIResponsesAdapter(lane);
    case 'anthropic-messages':
      return new AnthropicAdapter(lane);
    case 'gemini':
      return new GeminiAdapter(lane);
    case 'ollama-chat':
      return new OllamaAdapter(lane, 'chat');
    case 'ollama-generate':
      return new OllamaAdapter(lane, 'generate');
    case 'bedrock-converse':
      return new BedrockConverseAdapter(lane);
    case 'bedrock-invoke':
      // the chunks' decoded events go through their own format's adapter (never another bedrock-invoke)
      return new BedrockInvokeAdapter(lane, (api, l) => (api === 'bedrock-invoke' ? new PassAdapter(l) : createAdapter(api, l)));
  }
}

/**
 * A framed stream whose payload matched no known format: messages go on unchanged, or, for a
 * lane that must be masked (the record), with their data masked as text.
 */
export class PassAdapter implements StreamAdapter {
  constructor(private readonly lane: Lane | null) {}
  message(msg: Msg, _parsed: import('../lane.js').Json | undefined): Msg[] {
    return [this.lane ? textFallback(this.lane, msg) : msg];
  }
  finish(): Msg[] {
    return [];
  }
  json(body: import('../lane.js').Json): boolean {
    return this.lane ? this.lane.walk(body) : false;
  }
}

export type { FrameInfo } from './base.js';
export type { Msg, StreamAdapter };

// Error bodies in each provider's own shape, so an SDK that refuses or retries on a provider error
// shows wiretrail's reason the way it shows the provider's (openai-node reads error.message,
// anthropic-sdk error.error.message, Gemini clients error.message/status, Ollama error, AWS SDKs message).
import type { Api } from './select.js';

export interface ProviderError {
  /** JSON text of the error body. */
  body: string;
  contentType: 'application/json';
}

const GEMINI_STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 413: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED', 502: 'UNAVAILABLE', 503: 'UNAVAILABLE' };

/** `message` must not carry request data (it is sent to the client and may be logged). */
export function providerError(api: Api | null, status: number, message: string): ProviderError {
  let body: unknown;
  switch (api) {
    case 'anthropic-messages':
      body = { type: 'error', error: { type: status < 500 ? 'invalid_request_error' : 'api_error', message } };
      break;
    case 'gemini':
      body = { error: { code: status, message, status: GEMINI_STATUS[status] ?? 'UNKNOWN' } };
      break;
    case 'ollama-chat':
    case 'ollama-generate':
      body = { error: message };
      break;
    case 'bedrock-converse':
    case 'bedrock-invoke':
      body = { message }; // AWS JSON errors: the SDK shows `message`
      break;
    default: // OpenAI chat/completions/responses and compatible APIs (the most common shape)
      body = { error: { message, type: status < 500 ? 'invalid_request_error' : 'server_error', param: null, code: 'wiretrail_refused' } };
  }
  return { body: JSON.stringify(body), contentType: 'application/json' };
}

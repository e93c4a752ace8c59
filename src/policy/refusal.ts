// Refusals in the caller's provider's own error shape, so the SDK in front of the user shows the
// reason: OpenAI (and Azure, Copilot, compatible APIs), Anthropic, Gemini, Ollama. Streaming
// variants are SSE events for a request whose response headers were already sent (held streams).
import { apiFromPath } from '../stream/index.js';

export type Provider = 'openai' | 'anthropic' | 'gemini' | 'ollama';

export type RefusalKind = 'denied' | 'rate_limited' | 'unavailable';

export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The error format the caller expects: from the request path, else the host. */
export function providerOf(host: string, path: string): Provider {
  const api = apiFromPath(path);
  if (api === 'anthropic-messages') return 'anthropic';
  if (api === 'gemini') return 'gemini';
  if (api === 'ollama-chat' || api === 'ollama-generate') return 'ollama';
  if (api) return 'openai';
  if (host === 'api.anthropic.com') return 'anthropic';
  if (host === 'generativelanguage.googleapis.com' || host.endsWith('-aiplatform.googleapis.com')) return 'gemini';
  return 'openai';
}

const OPENAI = {
  denied: { type: 'policy_violation', code: 'wiretrail_denied' },
  rate_limited: { type: 'rate_limit_error', code: 'wiretrail_rate_limited' },
  unavailable: { type: 'server_error', code: 'wiretrail_unavailable' },
};
const ANTHROPIC = { denied: 'permission_error', rate_limited: 'rate_limit_error', unavailable: 'overloaded_error' };
const GEMINI = {
  denied: { code: 403, status: 'PERMISSION_DENIED' },
  rate_limited: { code: 429, status: 'RESOURCE_EXHAUSTED' },
  unavailable: { code: 503, status: 'UNAVAILABLE' },
};
const STATUS = { denied: 403, rate_limited: 429, unavailable: 503 };

/** The provider-shaped JSON error object (as a value). */
export function errorObject(provider: Provider, kind: RefusalKind, message: string): unknown {
  switch (provider) {
    case 'anthropic':
      return { type: 'error', error: { type: ANTHROPIC[kind], message } };
    case 'gemini':
      return { error: { code: GEMINI[kind].code, message, status: GEMINI[kind].status } };
    case 'ollama':
      return { error: message };
    default:
      return { error: { message, type: OPENAI[kind].type, code: OPENAI[kind].code } };
  }
}

/** `wiretrail: <reason> (rule <name>)` */
export function refusalMessage(reason: string, rule: string | null): string {
  return rule ? `wiretrail: ${reason} (rule ${rule})` : `wiretrail: ${reason}`;
}

/** RFC 9209 Proxy-Status value; the details never carry request data, only the rule's own words. */
export function proxyStatus(kind: RefusalKind, message: string): string {
  const error = kind === 'unavailable' ? 'proxy_internal_error' : 'http_request_denied';
  const details = message.replace(/[\\"]/g, '').replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
  return `wiretrail; error=${error}; details="${details}"`;
}

/** A complete refusal response (status, headers, JSON body). */
export function refusal(provider: Provider, kind: RefusalKind, message: string, extraHeaders: Record<string, string> = {}): Refusal {
  return {
    status: STATUS[kind],
    headers: { 'content-type': 'application/json', 'proxy-status': proxyStatus(kind, message), 'x-wiretrail-error': '1', ...extraHeaders },
    body: JSON.stringify(errorObject(provider, kind, message)),
  };
}

/** The same refusal as one SSE event, for a held stream whose 200 headers were already sent. */
export function sseRefusal(provider: Provider, kind: RefusalKind, message: string): string {
  const data = JSON.stringify(errorObject(provider, kind, message));
  // Anthropic's SDK reads `event: error`; OpenAI's and Gemini's read an `error` member of a data event.
  return provider === 'anthropic' ? `event: error\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}

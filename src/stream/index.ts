// The stream stage: parses AI API bodies (SSE, NDJSON, JSON), masks secrets in the decoded text
// fields token by token, and re-serialises them for the client and for the log.
export type {
  ExchangeMeta,
  ResponseMeta,
  Output,
  ResponseProcessor,
  ResponseMasks,
  RequestMaskResult,
  RequestRefusal,
  ProcessorOptions,
  Finding,
  MaskSession,
} from './types.js';
export { createResponseProcessor } from './processor.js';
export { maskRequestBody } from './request.js';
export { RequestMaskPool, REQUEST_MASK_CHANNEL, type RequestMasker, type RequestMaskPoolOptions } from './request-pool.js';
export { maskRequestTarget, maskRequestHeaders, CREDENTIAL_QUERY_PARAMS, type MaskedTarget } from './request-head.js';
export { SseParser, EventTooLargeError, DEFAULT_MAX_EVENT_SIZE, type SseEvent, type SseItem } from './sse-parser.js';
export { serializeEvent, serializeItem, type OutEvent } from './sse-serializer.js';
export { NdjsonParser } from './ndjson-parser.js';
export { apiFromPath, type Api } from './select.js';
export { providerError, type ProviderError } from './provider-error.js';

// Public types of the stream stage (see index.ts for the functions).
import type { Finding, MaskSession } from '../mask/index.js';

export type { Finding, MaskSession };

export interface ExchangeMeta {
  method: string;
  host: string;
  /** Path including the query string. */
  path: string;
  requestHeaders: Record<string, string | string[] | undefined>;
}

export interface ResponseMeta {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** Bytes for the client now; bytes for the log now. */
export interface Output {
  client: Buffer;
  record: Buffer;
}

export interface ResponseProcessor {
  /** 'openai-chat', 'openai-responses', 'anthropic-messages', 'gemini', 'ollama-chat', …, or 'passthrough'. */
  readonly adapter: string;
  /** Response headers to send to the client. */
  readonly headers: Record<string, string | string[]>;
  /** Called sequentially; returns the output at once unless a decoder is involved (then a promise). */
  push(chunk: Buffer): Output | Promise<Output>;
  /** Upstream ended normally. */
  end(): Promise<Output>;
  /** Upstream died mid-stream: releases held text (masked) so nothing is lost. */
  abort(): Output;
  /** What the record side masked (the client side masks the same text). */
  readonly findings: Finding[];
  /**
   * Set once the stream cannot be read on (an event or line over `maxEventSize`): the output that
   * came with it closes the client's stream cleanly (held text released as complete events) and
   * records what was seen, masked. The caller stops reading upstream, records the reason as an
   * error and ends the client's response.
   */
  readonly broken: { code: string; reason: string } | null;
}

export interface ProcessorOptions {
  /** Cap on one SSE event or NDJSON line (decoded characters); default 16 MiB. */
  maxEventSize?: number;
}

export interface ResponseMasks {
  /** null when policy turns response masking off for the host: the client gets the raw bytes. */
  client: MaskSession | null;
  record: MaskSession;
}

export interface RequestMaskResult {
  body: Buffer;
  changed: boolean;
  findings: Finding[];
  adapter: string;
  /**
   * Set when the body must not be forwarded (JSON that cannot be masked as a value: invalid,
   * too deep, not UTF-8): the caller answers `status` with `body` and records `reason`.
   */
  refusal?: RequestRefusal;
}

export interface RequestRefusal {
  status: number;
  /** One line, never request data. */
  reason: string;
  /** Provider-shaped error body (JSON text). */
  body: string;
  contentType: string;
}

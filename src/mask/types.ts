// Public types of the mask stage. Other stages import these through src/mask/index.ts.

/** One masked occurrence. Never carries the secret itself. */
export interface Finding {
  rule: string;
  placeholder: string;
}

/** A user rule from policy: a regex, optionally only applied on lines that mention `keyword`. */
export interface CustomRule {
  name: string;
  regex: string;
  keyword?: string;
}

export interface MaskOptions {
  /** Template, default '[MASKED:{rule}#{n}]'; {rule} and {n} are replaced. */
  placeholder?: string;
  customRules?: CustomRule[];
  /** Literal values never masked. */
  allow?: string[];
}

/** A compiled catalog; reusable across proxy sessions. */
export interface MaskEngine {
  session(): MaskSession;
}

/** One proxy session: the scope of placeholder numbering. */
export interface MaskSession {
  /** Masks a whole value (request bodies, *.done events). */
  maskText(text: string): { text: string; findings: Finding[] };
  /** One channel (a choice, a tool call, a content block, an output item). */
  stream(): StreamMasker;
  // The three below let a worker thread mask for this session (src/stream/request-pool.ts); a session
  // without them (a test double) is always masked on the calling thread.
  /** Placeholders issued so far; only grows, so an unchanged count means an unchanged numbering. */
  readonly issued?: number;
  /**
   * The session as plain data (engine options and numbering), for masking in a worker thread exactly as
   * this session would: `sessionFromState` there, then `adopt` its state back here.
   */
  snapshot?(): SessionState;
  /** Takes over the numbering of a snapshot of this session that was advanced elsewhere. */
  adopt?(state: SessionState): void;
}

/** Structured-cloneable; holds secrets (the numbering keys): never logged or written. */
export interface SessionState {
  options: MaskOptions;
  ids: [string, string][];
  counters: [string, number][];
}

export interface StreamMasker {
  /** Decoded text in; returns the text that is safe to release now (masked). */
  push(text: string): string;
  /** End signal: releases everything still held (masked). */
  flush(): string;
  /** Characters currently held back. */
  readonly held: number;
  /** Findings so far on this channel. */
  readonly findings: Finding[];
}

export interface RuleInfo {
  name: string;
  description: string;
}

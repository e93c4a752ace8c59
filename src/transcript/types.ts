// What an auditor reads: a session's exchanges reassembled into a conversation, from the recorded
// (already masked) records. Built on the read side only; nothing here touches live traffic.

/** One message of the conversation, in the provider-neutral roles an auditor expects. */
export interface Turn {
  role: 'system' | 'user' | 'assistant' | 'tool-call' | 'tool-result';
  /** Text as recorded (masked placeholders such as [MASKED:rule#n] appear verbatim). */
  text: string;
  /** Tool name for tool calls and, where the provider says, tool results. */
  name?: string;
}

/** One piece of the streamed answer at the time it was recorded (for replay). */
export interface ReplayStep {
  /** Milliseconds since the exchange's request was recorded. */
  atMs: number;
  /** Text appended to the answer (tool-call arguments are prefixed by the tool's name once). */
  text: string;
}

export interface TokenUsage {
  input: number | null;
  output: number | null;
  total: number | null;
}

export interface Exchange {
  /** The exchange's number inside its session (meta.n). */
  n: number;
  method: string;
  host: string;
  path: string;
  api: string | null;
  model: string | null;
  stream: boolean;
  /** Upstream status, or the status wiretrail answered with when it refused. */
  status: number | null;
  outcome: 'complete' | 'denied' | 'error' | 'open';
  reason: string | null;
  startedAt: number;
  ttfbMs: number | null;
  durationMs: number | null;
  /** The request's messages (prompt side). */
  prompt: Turn[];
  /** The answer, reassembled from the recorded stream. */
  answer: Turn[];
  replay: ReplayStep[];
  usage: TokenUsage;
  /** Rule ids masked in the request and the response. */
  findings: string[];
  requestHeaders: Record<string, string | string[]>;
  responseHeaders: Record<string, string | string[]>;
  /** Seqs of the records that make up this exchange (for the raw view). */
  seqs: number[];
}

/** Facts about a whole session, derived from its records (for lists, filters and the CLI). */
export interface SessionFacts {
  session: string;
  firstTs: number;
  lastTs: number;
  ended: boolean;
  subject: string | null;
  groups: string[];
  /** CI claims when the caller authenticated with a CI token (repository, run, sha…). */
  ci: { repository: string | null; run: string | null; sha: string | null };
  agent: string | null;
  host: string | null;
  models: string[];
  requests: number;
  tokens: number;
  masked: number;
  decision: 'allowed' | 'denied' | 'approved' | 'tunnelled' | 'error';
}

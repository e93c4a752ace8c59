// The transcript stage (read side, beside admin and cli): recorded sessions reassembled into
// conversations and folded into the facts auditors filter on. Input: records from the audit reader.
export type { Turn, ReplayStep, TokenUsage, Exchange, SessionFacts } from './types.js';
export { sessionExchanges, sessionFacts } from './session.js';
export { agentFromUserAgent } from './agent.js';
export { promptTurns, requestModel } from './prompt.js';
export { reassembleAnswer, framingOf, type RecordedChunk } from './answer.js';
export { SessionCatalog, rowMatches, rowOf, type SessionQuery, type QueryResult, type TranscriptSource, type SessionRow } from './catalog.js';

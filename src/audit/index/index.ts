// Secondary indexes of the audit log (sessions by time, user, group, CI repository, agent, host,
// model, decision, and the words of masked prompts and answers), maintained at ingest.
export { SessionIndexer, type IndexOp, type IndexInput } from './indexer.js';
export { querySessionIndex, activeSessionSeqs, sessionRows, INDEXED_FIELDS, MAX_PAGE, type SessionIndexQuery, type SessionIndexPage, type IndexedSession, type IndexedField } from './query.js';
export { pruneWordIndex } from './prune.js';
export type { IndexedFacts, Decision } from './facts.js';
export { words, queryWords, MAX_WORD, MIN_WORD } from './tokens.js';

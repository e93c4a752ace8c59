// The recorder interface: the only thing the proxy knows about the audit log.
// The proxy appends; the audit stage owns canonical encoding, chaining, batching and durability.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

/** Record kinds written by the proxy. */
export type RecordKind =
  | 'connect' // a CONNECT (or absolute-form request) was accepted for interception
  | 'tunnel' // a blind tunnel was opened (audit mode) and, at its end, its byte counts
  | 'deny' // a connection or request was refused (policy, SSRF, auth, host mismatch…)
  | 'request' // an intercepted request: line, redacted headers, masked body
  | 'response-head' // upstream status and headers
  | 'chunk' // one response body chunk (masked), meta.at = arrival time (ms since epoch)
  | 'response-end' // end of a response: timings, byte counts, adapter, findings
  | 'error' // upstream failure, client abort, TLS failure…
  | 'auth' // authentication outcome worth keeping (refusals are 'deny')
  | 'policy' // a request-rule event: hold, approval (who, when), window grant, cancelled hold (refusals are 'deny')
  | 'session-end' // written by the log itself when a session ends
  | 'retention'; // written by the log itself before retention prunes old bodies

export interface AppendInput {
  /** Session id: one per client connection (CONNECT tunnel or plain-HTTP connection). */
  session: string;
  kind: RecordKind;
  /** Integers, strings, booleans, null, arrays, objects only; no floats (canonical JSON). */
  meta: JsonObject;
  /** Payload stored beside the record; the record commits to its SHA-256. Must already be masked. */
  body?: Uint8Array;
}

export interface AppendResult {
  /** Global sequence number in the log. */
  seq: number;
  /**
   * Hex hash of the record: its RFC 9162 leaf hash, SHA-256(0x00 ‖ canonical bytes). The session's
   * next record chains to it (sessionPrev) and the Merkle tree uses it as the leaf.
   */
  hash: string;
}

export interface Recorder {
  /**
   * Appends one record. The record is built at once; the promise resolves once it is in the OS (all
   * records of the event-loop turn are written to the segment with one write call), so callers that
   * must not forward unrecorded traffic await it. Rejects with StoreUnavailableError when the store
   * cannot write.
   */
  append(input: AppendInput): Promise<AppendResult>;
  /**
   * Appends one record and returns once it is in the OS (written with the rest of this turn's
   * records); no promise, no wait for the end of the turn. Throws StoreUnavailableError when it
   * cannot be recorded (the bytes it describes must then not be forwarded).
   */
  appendSync(input: AppendInput): AppendResult;
  /** Appends a 'session-end' record carrying the session's record count and last hash. */
  endSession(session: string, meta?: JsonObject): Promise<AppendResult>;
  /** False while the store is failing or ingest lags too far; the proxy refuses new intercepted traffic with 503 meanwhile. */
  readonly writable: boolean;
  /** Flushes pending batches, writes a final checkpoint, releases the store. */
  close(): Promise<void>;
}

/** Raised (or rejected with) when the store cannot accept writes: disk full, I/O error, closed (503, fail closed). */
export { StoreUnavailableError } from '../errors/index.js';

/** One committed log record, as hashed (its RFC 8785 canonical JSON is the Merkle leaf data). */
export interface AuditRecord {
  v: number;
  /** The log's origin (the checkpoint origin line). */
  origin: string;
  /** Global position; equals the record's leaf index in the Merkle tree (0-based). */
  seq: number;
  /** Unix ms, non-decreasing along the log. */
  ts: number;
  session: string;
  /** Position inside the session (0-based). */
  sessionSeq: number;
  /** Hash (see AppendResult.hash) of the session's previous record, null for its first record. */
  sessionPrev: string | null;
  kind: RecordKind;
  meta: JsonObject;
  /** Hex SHA-256 of the body stored beside the record, null when there is none. */
  bodyHash: string | null;
}

/** A record read back from the store. */
export interface StoredRecord extends AuditRecord {
  /** The record's leaf hash (see AppendResult.hash), what the session's next record chains to. */
  hash: string;
  /** The body, or null when the record has none or it is gone. */
  body: Buffer | null;
  /** True when retention deleted the body (the record still commits to its hash). */
  bodyPruned: boolean;
}

/** What the log keeps about a session (derived from its records). */
export interface SessionSummary {
  session: string;
  firstSeq: number;
  lastSeq: number;
  /** Records in the session, including its session-end record. */
  count: number;
  firstTs: number;
  lastTs: number;
  ended: boolean;
  lastHash: string;
  /** meta.identity subjects and emails seen on the session's records (sorted, at most 16). */
  users: string[];
  /** Agents (`name/version`, from meta.agent) seen on the session's records (sorted, at most 16); absent when none. */
  agents?: string[];
}

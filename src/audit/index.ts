// The audit stage: tamper-evident session log (hash chains, RFC 9162 Merkle tree, signed checkpoints).
export * from './types.js';
export { AuditLog, type AuditOptions, type CheckpointInfo, defaultOrigin } from './log.js';
export { AuditLockedError, AuditNotFoundError } from './store.js';
export { auditAdminRoutes, toWire, fromWire, type WireRecord } from './admin.js';
export { verifyStore, readExternalCheckpoints, type VerifyReport, type VerifyProblem, type ProblemKind } from './verify.js';
export { exportBundle, verifyBundleFile, verifyBundleStream, type ExportFilter, type ExportStats, type BundleReport } from './bundle.js';
export { ReaderError, type AuditReader, type SessionFilter, type SessionPage, type ShownSession } from './reader.js';
export { openLocalReader, loadTrustedKeys, type LocalOptions } from './local-reader.js';
export { remoteReader } from './remote-reader.js';
export { readPublicKeys, rotateSigningKey, SIGNING_KEY_FILE, PUBLIC_KEYS_FILE } from './signing-key.js';
export { parseVerifier, parseSigner, type Verifier } from './note.js';
export { parseTimeArg } from './time-arg.js';
export { INDEXED_FIELDS, MAX_PAGE, type SessionIndexQuery, type SessionIndexPage, type IndexedSession, type IndexedFacts } from './index/index.js';
export { chooseLogKeys, keyChoiceLine, type KeyChoice } from './key-choice.js';
export { readKeyRecord, recordSigningKey, KEY_RECORD_FILE, type KeyRecord } from './key-record.js';
import { AuditLog, type AuditOptions } from './log.js';

/** Opens (creating on first use) the audit log under opts.dataDir; the returned log is the proxy's Recorder. */
export function openAuditLog(opts: AuditOptions): Promise<AuditLog> {
  return AuditLog.open(opts);
}

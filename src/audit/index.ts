// The audit stage: tamper-evident session log (see README "Audit log").
export * from './types.js';
export { AuditLog, type AuditOptions, type CheckpointInfo, defaultOrigin } from './log.js';
export { AuditLockedError, AuditNotFoundError } from './store.js';
import { AuditLog, type AuditOptions } from './log.js';

/** Opens (creating on first use) the audit log under opts.dataDir; the returned log is the proxy's Recorder. */
export function openAuditLog(opts: AuditOptions): Promise<AuditLog> {
  return AuditLog.open(opts);
}

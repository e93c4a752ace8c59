// What the admin UI reads, and nothing more: a narrow view of the audit log's read contract
// (AuditReader) so the pages do not depend on how the log stores records.
import type { AuditReader } from '../../audit/index.js';

export type UiSource = Pick<AuditReader, 'querySessions' | 'activeSessions' | 'showSession' | 'exportBundle' | 'publicKeys' | 'checkpoints'>;

/** @deprecated The running log's reader is a UiSource: pass `log.reader`. */
export type LogReadSide = { readonly reader: AuditReader };

/** The UI source of a running log: its AuditReader. */
export function uiSourceFromLog(log: LogReadSide): UiSource {
  return log.reader;
}

// The integrity badge: a session is `verified` when its records, exported as an audit bundle with
// inclusion proofs, check out against the latest signed checkpoint under the trusted keys — the
// same check `wiretrail verify-bundle` runs offline — and `tampered` (with the reason) otherwise.
import { verifyBundleStream } from '../../audit/index.js';
import type { UiSource } from './source.js';

export interface Integrity {
  status: 'verified' | 'tampered' | 'unsigned';
  reason: string;
  records: number;
  /** Records written after the latest checkpoint: not covered yet (the next checkpoint covers them). */
  uncovered: number;
}

export async function sessionIntegrity(source: UiSource, id: string, sessionRecords: number): Promise<Integrity> {
  let report;
  try {
    report = await verifyBundleStream(source.exportBundle({ session: id }), await source.publicKeys());
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0]!;
    if (/no checkpoint|log is empty/i.test(msg)) return { status: 'unsigned', reason: 'no signed checkpoint yet', records: 0, uncovered: sessionRecords };
    return { status: 'tampered', reason: msg, records: 0, uncovered: 0 };
  }
  if (!report.ok) return { status: 'tampered', reason: report.problem?.message ?? 'the session does not check out', records: report.records, uncovered: 0 };
  if (report.records === 0) return { status: 'unsigned', reason: 'no record of this session is under a signed checkpoint yet', records: 0, uncovered: sessionRecords };
  const uncovered = Math.max(0, sessionRecords - report.records);
  const reason = `${report.records} records checked against the checkpoint of tree size ${report.treeSize} signed by ${report.signer?.split('+')[0] ?? '?'}`;
  return { status: 'verified', reason: uncovered ? `${reason}; ${uncovered} newer records await the next checkpoint` : reason, records: report.records, uncovered };
}

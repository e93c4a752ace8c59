// Several replicas' logs side by side: `--data DIR[:CERTS]` given more than once. Each replica keeps its
// own log, origin and signing key, so each is verified on its own and reported per replica.
import { join, dirname, resolve } from 'node:path';
import { openLocalReader, chooseLogKeys, ReaderError, type AuditReader, type VerifyReport } from '../audit/index.js';

export interface Replica {
  dataDir: string;
  /** The certs folder given after the colon; otherwise the log's own (recorded in its data folder). */
  certsDir: string | undefined;
}

/** `DIR` or `DIR:CERTS`. */
export function parseReplica(arg: string): Replica {
  const i = arg.indexOf(':');
  return i < 0 ? { dataDir: resolve(arg), certsDir: undefined } : { dataDir: resolve(arg.slice(0, i)), certsDir: resolve(arg.slice(i + 1)) };
}

/** Opens one replica's log with its own keys (or the --key ones). */
export async function openReplica(r: Replica, keyArgs: string[]): Promise<AuditReader> {
  const choice = chooseLogKeys({ dataDir: r.dataDir, keyArgs, certsDir: r.certsDir, defaultCertsDir: join(dirname(r.dataDir), 'certs') });
  return openLocalReader({ dataDir: r.dataDir, certsDir: r.certsDir ?? join(dirname(r.dataDir), 'certs'), keys: choice.keys });
}

export interface ReplicaResult {
  data: string;
  certs: string | null;
  report: VerifyReport | null;
  error?: string;
}

export async function verifyReplicas(replicas: Replica[], keyArgs: string[]): Promise<ReplicaResult[]> {
  const out: ReplicaResult[] = [];
  for (const r of replicas) {
    let reader: AuditReader | null = null;
    try {
      reader = await openReplica(r, keyArgs);
      out.push({ data: r.dataDir, certs: r.certsDir ?? null, report: await reader.verify() });
    } catch (err) {
      if (!(err instanceof ReaderError)) throw err;
      out.push({ data: r.dataDir, certs: r.certsDir ?? null, report: null, error: err.message });
    } finally {
      await reader?.close();
    }
  }
  // Logs that share an origin would look like one log merged: say so.
  const origins = out.map((o) => o.report?.origin).filter((o): o is string => !!o);
  const dup = origins.find((o, i) => origins.indexOf(o) !== i);
  if (dup) for (const o of out) if (o.report?.origin === dup && o.report.ok) Object.assign(o, { error: `origin ${dup} is shared with another replica; give each replica its own audit.origin` });
  return out;
}

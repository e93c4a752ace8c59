// Several replicas' logs side by side: `--data DIR[:CERTS]` given more than once. Each replica keeps its
// own log, origin and signing key, so each is verified (or exported) on its own and reported per replica.
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { openLocalReader, chooseLogKeys, ReaderError, type AuditReader, type ExportFilter, type ExportStats, type VerifyReport } from '../audit/index.js';
import { NotFoundError } from '../errors/index.js';

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

export interface ReplicaExport {
  data: string;
  certs: string | null;
  /** The origin the replica's bundle carries (from its signed checkpoint). */
  origin: string | null;
  /** The bundle written, or null when none was. */
  file: string | null;
  stats: ExportStats | null;
  /** Why nothing was written (a failure). */
  error?: string;
  /** Not a failure: the session asked for is not in this replica's log (it lives on another one). */
  absent?: string;
}

/**
 * One bundle per replica in `outDir`, each from that replica's own log with that replica's own keys (a
 * bundle carries one origin and its keys: replicas are never merged into one). Files are named after the
 * origin, which the bundle's first line states.
 */
export async function exportReplicas(replicas: Replica[], filter: ExportFilter, outDir: string): Promise<ReplicaExport[]> {
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const out: ReplicaExport[] = [];
  const origins = new Map<string, string>();
  for (const [i, r] of replicas.entries()) {
    const row: ReplicaExport = { data: r.dataDir, certs: r.certsDir ?? null, origin: null, file: null, stats: null };
    out.push(row);
    const tmp = join(outDir, `.replica-${i}.${process.pid}.partial`);
    let reader: AuditReader | null = null;
    try {
      reader = await openReplica(r, []);
      // A session lives on one replica: on the others it is absent, not an error.
      if (filter.session !== undefined && !(await reader.showSession(filter.session))) {
        row.absent = `no session ${JSON.stringify(filter.session)} in this log`;
        continue;
      }
      const stats: ExportStats = { records: 0, sessions: 0, uncovered: 0 };
      row.origin = await writeBundle(reader.exportBundle(filter, stats), tmp);
      const other = origins.get(row.origin);
      if (other !== undefined) throw new ReaderError(`origin ${row.origin} is shared with replica ${other}; give each replica its own audit.origin`);
      origins.set(row.origin, r.dataDir);
      row.file = join(outDir, `${row.origin.replace(/[^A-Za-z0-9._-]+/g, '_')}.bundle`);
      renameSync(tmp, row.file);
      row.stats = stats;
    } catch (err) {
      rmSync(tmp, { force: true });
      if (err instanceof ReaderError || err instanceof NotFoundError) row.error = err.message;
      else throw err;
    } finally {
      await reader?.close();
    }
  }
  return out;
}

/** Streams a bundle into `file` (0600) and returns the origin its first line names. */
async function writeBundle(chunks: AsyncGenerator<Buffer>, file: string): Promise<string> {
  const out = createWriteStream(file, { mode: 0o600 });
  const done = finished(out);
  let origin: string | null = null;
  try {
    for await (const chunk of chunks) {
      origin ??= bundleOrigin(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  } finally {
    out.end();
    await done;
  }
  if (origin === null) throw new ReaderError('the bundle has no header');
  return origin;
}

/** The origin in a bundle's header line (the first line of the first chunk). */
function bundleOrigin(chunk: Buffer): string {
  const nl = chunk.indexOf(10);
  const head = JSON.parse(chunk.subarray(0, nl < 0 ? chunk.length : nl).toString('utf8')) as { origin?: unknown };
  if (typeof head.origin !== 'string' || !head.origin) throw new ReaderError('the bundle header names no origin');
  return head.origin;
}

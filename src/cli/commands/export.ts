// wiretrail export: writes a self-contained, offline-verifiable bundle (records, bodies, inclusion
// proofs, the signed checkpoint, the public keys). `--public-key` prints the log's verifier keys.
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from '../main.js';
import { parseReplica, exportReplicas, type Replica } from '../replicas.js';
import { CliError, UsageError, parse, settings, adminUrl } from '../args.js';
import { adminFetch, readAdminToken } from '../../admin/client.js';
import { openLocalReader, remoteReader, readPublicKeys, parseTimeArg, chooseLogKeys, keyChoiceLine, ReaderError, type AuditReader, type ExportFilter, type ExportStats } from '../../audit/index.js';

const USAGE =
  'wiretrail export [--config FILE] [--data DIR] [--certs DIR] [--session ID] [--since T] [--until T] [--user U] --out FILE [--admin URL]\n' +
  '       wiretrail export --data DIR[:CERTS] --data DIR[:CERTS]... [filters] --out FOLDER   (one bundle per replica)\n' +
  '       wiretrail export --public-key [--certs DIR | --admin URL]';

export const command: Command = {
  summary: 'export a forensic bundle (records, bodies, proofs, checkpoint, public key)',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        data: { type: 'string', multiple: true },
        certs: { type: 'string' },
        session: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        user: { type: 'string' },
        out: { type: 'string', short: 'o' },
        admin: { type: 'string' },
        'public-key': { type: 'boolean' },
      },
      USAGE,
    );
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const replicas = (values.data?.length ?? 0) > 1;
    if (replicas && (values.admin || values['public-key'])) throw new UsageError(`several --data go with neither --admin nor --public-key\nusage: ${USAGE}`);
    const eff = settings({ ...values, data: values.data?.[0] });
    const { certsDir, dataDir } = eff.config;
    const explicitCerts = eff.values.get('certs')!.source === 'default' ? undefined : certsDir;
    if (values['public-key']) {
      let text: string;
      if (values.admin) text = await (await adminFetch(adminUrl(values.admin), '/v1/audit/public-keys', { token: readAdminToken(certsDir) })).text();
      else {
        const keys = readPublicKeys(certsDir);
        if (!keys.length) throw new CliError(`no audit public key in ${certsDir} (audit-log.pub); pass --certs DIR`);
        text = keys.map((k) => k.text + '\n').join('');
      }
      process.stdout.write(text);
      return 0;
    }
    if (!values.out) throw new UsageError(`--out FILE is required\nusage: ${USAGE}`);
    const filter: ExportFilter = {};
    try {
      if (values.since !== undefined) filter.since = parseTimeArg(values.since, '--since');
      if (values.until !== undefined) filter.until = parseTimeArg(values.until, '--until');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.session !== undefined) filter.session = values.session;
    if (values.user !== undefined) filter.user = values.user;
    // Several --data DIR[:CERTS]: one bundle per replica into the --out folder (src/cli/replicas.ts).
    if (replicas) return exportSideBySide(values.data!.map(parseReplica), filter, values.out);

    let reader: AuditReader;
    try {
      if (values.admin) reader = remoteReader(adminUrl(values.admin), readAdminToken(certsDir));
      else {
        // The bundle carries the log's own keys, found the way verify finds them.
        const choice = chooseLogKeys({ dataDir, keyArgs: [], certsDir: explicitCerts, defaultCertsDir: certsDir });
        reader = await openLocalReader({ dataDir, certsDir, keys: choice.keys });
        process.stderr.write(keyChoiceLine(choice) + '\n');
      }
    } catch (err) {
      if (err instanceof ReaderError) throw new CliError(err.message);
      throw err;
    }
    const stats: ExportStats = { records: 0, sessions: 0, uncovered: 0 };
    const tmp = `${values.out}.${process.pid}.partial`;
    try {
      const out = createWriteStream(tmp, { mode: 0o600 });
      const done = finished(out);
      for await (const chunk of reader.exportBundle(filter, stats)) {
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      out.end();
      await done;
      renameSync(tmp, values.out);
    } catch (err) {
      rmSync(tmp, { force: true });
      if (err instanceof ReaderError) throw new CliError(err.message);
      throw err;
    } finally {
      await reader.close();
    }
    let msg = `wrote ${stats.records} records${stats.sessions ? ` from ${stats.sessions} sessions` : ''} to ${values.out}`;
    if (stats.uncovered) msg += ` (${stats.uncovered} newer records are not under a signed checkpoint yet and were left out)`;
    process.stderr.write(msg + '\n');
    return 0;
  },
};

async function exportSideBySide(replicas: Replica[], filter: ExportFilter, outDir: string): Promise<number> {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`with several --data, --out names a folder (one bundle per replica); ${outDir} is a file`);
  const rows = await exportReplicas(replicas, filter, outDir);
  let failed = 0;
  let written = 0;
  for (const r of rows) {
    const who = `replica ${r.data} (${r.origin ?? 'unknown origin'})`;
    if (r.error) {
      failed++;
      process.stderr.write(`${who}: FAILED: ${r.error}\n`);
    } else if (r.absent) process.stdout.write(`${who}: ${r.absent}; nothing written\n`);
    else {
      written++;
      const s = r.stats!;
      let line = `${who}: wrote ${s.records} records${s.sessions ? ` from ${s.sessions} sessions` : ''} to ${r.file}`;
      if (s.uncovered) line += ` (${s.uncovered} newer records are not under a signed checkpoint yet and were left out)`;
      process.stdout.write(line + '\n');
    }
  }
  process.stdout.write(`${written} of ${rows.length} replicas exported to ${outDir}\n`);
  // A session lives on one replica: the others not having it is expected, none having it is not.
  if (!failed && !written) process.stderr.write(`wiretrail export: no replica holds session ${JSON.stringify(filter.session)}\n`);
  return failed || !written ? 1 : 0;
}

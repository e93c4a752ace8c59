// wiretrail verify: checks the whole audit log; exit 0 intact, 1 on tampering (first bad seq + what failed).
// Keys: --key pins exactly the given keys; otherwise the log's own certs folder (see audit/key-choice.ts).
// One stderr line says which key file was used and why.
import type { Command } from '../main.js';
import { parseReplica, verifyReplicas, type Replica } from '../replicas.js';
import { CliError, parse, settings, adminUrl } from '../args.js';
import { readAdminToken } from '../../admin/client.js';
import { openLocalReader, remoteReader, loadTrustedKeys, chooseLogKeys, keyChoiceLine, ReaderError, type AuditReader, type VerifyReport } from '../../audit/index.js';

const USAGE = 'wiretrail verify [--config FILE] [--data DIR[:CERTS]]... [--certs DIR] [--key PUBKEY]... [--witness FILE]... [--admin URL] [--json]';

export const command: Command = {
  summary: 'verify the audit log: chains, Merkle tree, signed checkpoints, rollback',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        data: { type: 'string', multiple: true },
        certs: { type: 'string' },
        key: { type: 'string', multiple: true },
        witness: { type: 'string', multiple: true },
        admin: { type: 'string' },
        json: { type: 'boolean' },
      },
      USAGE,
    );
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    // Several --data DIR[:CERTS]: one report per replica (src/cli/replicas.ts).
    if ((values.data?.length ?? 0) > 1) return verifySideBySide(values.data!.map(parseReplica), values.key ?? [], values.json === true);
    const eff = settings({ ...values, data: values.data?.[0] });
    const { certsDir, dataDir } = eff.config;
    // --certs, WIRETRAIL_CERTS or the config file name the keys' folder as explicitly as --certs did.
    const explicitCerts = eff.values.get('certs')!.source === 'default' ? undefined : certsDir;
    let reader: AuditReader;
    let given: string[] = [];
    let key: { source: string; reason: string } | null = null;
    try {
      if (values.admin) {
        reader = remoteReader(adminUrl(values.admin), readAdminToken(certsDir));
        given = loadTrustedKeys(values.key ?? [], null).map((k) => k.text);
      } else {
        const choice = chooseLogKeys({ dataDir, keyArgs: values.key ?? [], certsDir: explicitCerts, defaultCertsDir: certsDir });
        reader = await openLocalReader({ dataDir, certsDir, keys: choice.keys, witnessFiles: values.witness ?? [] });
        key = { source: choice.source, reason: choice.reason };
        if (!values.json) process.stderr.write(keyChoiceLine(choice) + '\n');
      }
    } catch (err) {
      if (err instanceof ReaderError) throw new CliError(err.message);
      throw err;
    }
    const tty = process.stderr.isTTY === true && !values.json;
    let report: VerifyReport;
    try {
      report = await reader.verify(tty ? { onProgress: (done, total) => void process.stderr.write(`\rverifying: ${done} / ${total} records`) } : {});
    } catch (err) {
      if (err instanceof ReaderError) throw new CliError(err.message);
      throw err;
    } finally {
      if (tty) process.stderr.write('\r\x1b[K');
      await reader.close();
    }
    // Through --admin the proxy checks with its own keyring; --key pins the signer on top.
    if (report.ok && given.length) {
      const foreign = report.signers.filter((s) => !given.includes(s));
      if (foreign.length) {
        report.ok = false;
        report.problem = { kind: 'unknown key', seq: null, message: `unknown key: checkpoints are signed by a key you did not give me (${foreign.join(', ')})` };
      }
    }
    if (values.json) process.stdout.write(JSON.stringify(key ? { ...report, key } : report, null, 2) + '\n');
    if (!report.ok) {
      const p = report.problem!;
      process.stderr.write(`wiretrail verify: FAILED${p.seq !== null ? ` at seq ${p.seq}` : ''}: ${p.message}\n`);
      return 1;
    }
    if (!values.json) process.stdout.write(summary(report) + '\n');
    return 0;
  },
};

async function verifySideBySide(replicas: Replica[], keyArgs: string[], json: boolean): Promise<number> {
  const results = await verifyReplicas(replicas, keyArgs);
  if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  let failed = 0;
  for (const r of results) {
    const bad = r.error ?? (r.report && !r.report.ok ? `FAILED${r.report.problem!.seq !== null ? ` at seq ${r.report.problem!.seq}` : ''}: ${r.report.problem!.message}` : null);
    if (bad) failed++;
    if (!json) process[bad ? 'stderr' : 'stdout'].write(`replica ${r.data} (${r.report?.origin ?? 'unknown origin'}): ${bad ?? summary(r.report!)}\n`);
  }
  if (!json) process.stdout.write(`${results.length - failed} of ${results.length} replicas verified\n`);
  return failed ? 1 : 0;
}

function summary(r: VerifyReport): string {
  const parts = [
    `ok: ${r.records} records in ${r.sessions} sessions (${r.openSessions} open)`,
    `${r.checkpoints} checkpoints verified`,
    r.latestCheckpoint ? `latest covers ${r.latestCheckpoint.size} (root ${r.latestCheckpoint.root.slice(0, 16)}…)` : 'no checkpoint',
  ];
  if (r.unsignedTail) parts.push(`${r.unsignedTail} newest records not yet under a checkpoint`);
  if (r.prunedBodies) parts.push(`${r.prunedBodies} bodies pruned by retention (before seq ${r.prunedBefore})`);
  if (r.external.length) parts.push(`outside copies checked: ${r.external.map((e) => e.source).join(', ')}`);
  else parts.push('no checkpoint copy outside the store to check for rollback');
  return parts.join('; ');
}

// wiretrail verify-bundle: checks an export bundle offline (no database needed).
import { existsSync } from 'node:fs';
import type { Command } from '../main.js';
import type { BundleReport } from '../../audit/index.js';
import { CliError, UsageError, parse } from '../args.js';
import { verifyBundleFile, loadTrustedKeys, ReaderError } from '../../audit/index.js';

const USAGE = 'wiretrail verify-bundle FILE... [--key PUBKEY]... [--json]   (PUBKEY: a verifier key or a file of them; several FILEs: one line per bundle, e.g. one per replica)';

export const command: Command = {
  summary: 'verify an exported audit bundle offline',
  async run(argv) {
    const { values, positionals } = parse(argv, { key: { type: 'string', multiple: true }, json: { type: 'boolean' } }, USAGE, true);
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError(`expected a bundle file\nusage: ${USAGE}`);
    if (positionals.length > 1) return verifyBundles(positionals, values.key ?? [], values.json === true);
    const file = positionals[0]!;
    if (!existsSync(file)) throw new CliError(`${file} does not exist`);
    let keys;
    try {
      keys = loadTrustedKeys(values.key ?? [], null);
    } catch (err) {
      if (err instanceof ReaderError) throw new CliError(err.message);
      throw err;
    }
    const r = await verifyBundleFile(file, keys);
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    if (!r.ok) {
      const p = r.problem!;
      process.stderr.write(`wiretrail verify-bundle: FAILED${p.seq !== null ? ` at seq ${p.seq}` : ''}: ${p.message}\n`);
      return 1;
    }
    if (!values.json) {
      let msg = `ok: ${r.records} records from ${r.sessions} sessions, all included in the signed tree of ${r.treeSize} records of ${r.origin}`;
      if (r.prunedBodies) msg += `; ${r.prunedBodies} bodies were pruned by retention before export`;
      if (r.chainGaps) msg += `; ${r.chainGaps} session(s) start mid-chain (time-window export)`;
      process.stdout.write(msg + '\n');
    }
    if (r.keySource === 'bundle') {
      process.stderr.write(`note: checked against the public key inside the bundle (${r.signer}); pass --key with your log's public key to check who signed it\n`);
    }
    return 0;
  },
};

/** Several bundles (e.g. one per replica, each with its own origin and key): each checked on its own, one line each. */
async function verifyBundles(files: string[], keyArgs: string[], json: boolean): Promise<number> {
  let keys;
  try {
    keys = keyArgs.length ? loadTrustedKeys(keyArgs, null) : [];
  } catch (err) {
    if (err instanceof ReaderError) throw new CliError(err.message);
    throw err;
  }
  const rows: { file: string; report: BundleReport | null; error?: string }[] = [];
  for (const file of files) {
    if (!existsSync(file)) rows.push({ file, report: null, error: `${file} does not exist` });
    else rows.push({ file, report: await verifyBundleFile(file, keys) });
  }
  if (json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  let failed = 0;
  for (const r of rows) {
    const p = r.report?.problem;
    const bad = r.error ?? (r.report && !r.report.ok ? `FAILED${p!.seq !== null ? ` at seq ${p!.seq}` : ''}: ${p!.message}` : null);
    if (bad) failed++;
    if (json) continue;
    const rep = r.report;
    const who = `bundle ${r.file} (${rep?.origin ?? 'unknown origin'})`;
    if (bad) process.stderr.write(`${who}: ${bad}\n`);
    else process.stdout.write(`${who}: ok: ${rep!.records} records from ${rep!.sessions} sessions in the signed tree of ${rep!.treeSize} records${rep!.keySource === 'bundle' ? ' (checked against the key inside the bundle)' : ''}\n`);
  }
  if (!json) process.stdout.write(`${rows.length - failed} of ${rows.length} bundles verified\n`);
  return failed ? 1 : 0;
}

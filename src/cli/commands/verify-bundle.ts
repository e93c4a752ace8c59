// wiretrail verify-bundle: checks an export bundle offline (no database needed).
import { existsSync } from 'node:fs';
import type { Command } from '../main.js';
import { CliError, UsageError, parse } from '../args.js';
import { verifyBundleFile, loadTrustedKeys, ReaderError } from '../../audit/index.js';

const USAGE = 'wiretrail verify-bundle FILE [--key PUBKEY]... [--json]   (PUBKEY: a verifier key or a file of them)';

export const command: Command = {
  summary: 'verify an exported audit bundle offline',
  async run(argv) {
    const { values, positionals } = parse(argv, { key: { type: 'string', multiple: true }, json: { type: 'boolean' } }, USAGE, true);
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one bundle file\nusage: ${USAGE}`);
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

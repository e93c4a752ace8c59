// wiretrail log-key show|rotate: the Ed25519 key that signs the log's checkpoints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../main.js';
import { parse, settings, adminUrl, CliError, UsageError } from '../args.js';
import { adminFetch, readAdminToken } from '../../admin/client.js';
import { readPublicKeys, rotateSigningKey, parseSigner, SIGNING_KEY_FILE, defaultOrigin } from '../../audit/index.js';

const USAGE = 'wiretrail log-key show|rotate [--certs DIR] [--admin URL]';

export const command: Command = {
  summary: 'show or rotate the key that signs the log checkpoints (old public keys stay trusted)',
  async run(argv) {
    const { values, positionals } = parse(argv, { certs: { type: 'string' }, admin: { type: 'string' } }, USAGE, true);
    if (values.help) {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const [action, ...extra] = positionals;
    if ((action !== 'show' && action !== 'rotate') || extra.length) throw new UsageError(`expected "show" or "rotate"\nusage: ${USAGE}`);
    const { certsDir } = settings(values).config;
    if (values.admin) {
      const admin = adminUrl(values.admin);
      const token = readAdminToken(certsDir);
      if (action === 'show') {
        process.stdout.write(await (await adminFetch(admin, '/v1/audit/public-keys', { token })).text());
        return 0;
      }
      const r = (await (await adminFetch(admin, '/v1/audit/rotate-key', { method: 'POST', token })).json()) as { key: string };
      process.stdout.write(`${r.key}\n`);
      process.stderr.write('rotated: the running proxy signs new checkpoints with this key; earlier keys stay trusted\n');
      return 0;
    }
    if (action === 'show') {
      const keys = readPublicKeys(certsDir);
      if (keys.length === 0) throw new CliError(`no log keys in ${certsDir} (the proxy creates one on first start)`);
      process.stdout.write(keys.map((k) => k.text + '\n').join(''));
      return 0;
    }
    // Offline rotation keeps the key's name (the log origin). A running proxy would keep its key in memory
    // until restart, so use --admin for a live one.
    let name = defaultOrigin();
    try {
      name = parseSigner(readFileSync(join(certsDir, SIGNING_KEY_FILE), 'utf8')).name;
    } catch {
      /* no key yet: a new one under the default origin */
    }
    const signer = rotateSigningKey(certsDir, name);
    process.stdout.write(`${signer.text}\n`);
    process.stderr.write(`rotated ${join(certsDir, SIGNING_KEY_FILE)} (0600); earlier public keys stay in the keyring. A running proxy picks it up on restart (or use --admin).\n`);
    return 0;
  },
};

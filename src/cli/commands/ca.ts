// `wiretrail ca export|info`: the CA certificate for installing into trust stores. Never the key.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Command } from '../main.js';
import { parse, settings, CliError, UsageError } from '../args.js';
import { exportCA, caPaths, type ExportFormat } from '../../ca/index.js';

const USAGE = `wiretrail ca export [--certs DIR] [--format pem|der|p12] [--out FILE]
       wiretrail ca info [--certs DIR]

  export   writes the CA certificate to stdout (or --out FILE): pem (default), der (binary),
           or p12 (PKCS#12 holding the certificate only, no key, empty password "").
  info     prints the CA's path, subject, validity and SHA-256 fingerprint.
  --certs  the certificate directory (default ./certs). The CA is created by "wiretrail start"
           or "wiretrail env"; these commands never create one.`;

const FORMATS: readonly ExportFormat[] = ['pem', 'der', 'p12'];

function write(data: Buffer | string): Promise<void> {
  return new Promise((res, rej) => process.stdout.write(data, (err) => (err ? rej(err) : res())));
}

async function runExport(argv: string[]): Promise<number> {
  const { values } = parse(argv, { certs: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } }, USAGE);
  if (values.help) return write(USAGE + '\n').then(() => 0);
  const format = (values.format ?? 'pem').toLowerCase() as ExportFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format: expected pem, der or p12, got "${values.format}"`);
  let data: Buffer;
  try {
    data = exportCA(settings(values).config.certsDir, format);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (values.out) {
    writeFileSync(resolve(values.out), data, { mode: 0o644 });
    return 0;
  }
  if (format !== 'pem' && process.stdout.isTTY) throw new CliError(`refusing to write binary ${format.toUpperCase()} to a terminal; redirect stdout or use --out FILE`);
  await write(data);
  return 0;
}

async function runInfo(argv: string[]): Promise<number> {
  const { values } = parse(argv, { certs: { type: 'string' } }, USAGE);
  if (values.help) return write(USAGE + '\n').then(() => 0);
  const { certsDir } = settings(values).config;
  let x: X509Certificate;
  try {
    x = new X509Certificate(exportCA(certsDir, 'der'));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const lines = [
    `path:        ${caPaths(certsDir).certPath}`,
    `subject:     ${x.subject.replace(/\n/g, ', ')}`,
    `not before:  ${new Date(x.validFrom).toISOString()}`,
    `not after:   ${new Date(x.validTo).toISOString()}`,
    `sha256:      ${x.fingerprint256}`,
  ];
  await write(lines.join('\n') + '\n');
  return 0;
}

export const command: Command = {
  summary: 'export the CA certificate (pem, der, p12) or show it',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'export') return runExport(rest);
    if (sub === 'info') return runInfo(rest);
    if (sub === '--help' || sub === '-h' || sub === 'help') return write(USAGE + '\n').then(() => 0);
    throw new UsageError(sub ? `unknown subcommand "${sub}"\nusage: ${USAGE}` : `missing subcommand\nusage: ${USAGE}`);
  },
};

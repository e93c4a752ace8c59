// CA files on disk: <certsDir>/ca.pem (0644) and <certsDir>/ca-key.pem (0600, PKCS#8), dir created 0700.
// A key readable by group or others is refused, not silently fixed: it may already have leaked.
import { chmodSync, closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

export interface CaPaths {
  dir: string;
  certPath: string;
  keyPath: string;
}

export function caPaths(certsDir: string): CaPaths {
  const dir = resolve(certsDir);
  return { dir, certPath: join(dir, CA_CERT_FILE), keyPath: join(dir, CA_KEY_FILE) };
}

export interface LoadedFiles {
  cert: X509Certificate;
  certPem: string;
  key: KeyObject;
  created: boolean;
}

/** Reads the CA files, or creates them with `generate` when neither exists. Safe against a concurrent first start. */
export async function loadOrCreateFiles(paths: CaPaths, generate: () => Promise<{ certPem: string; keyPem: string }>): Promise<LoadedFiles> {
  try {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new Error(`cannot create certs directory ${paths.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  checkDirPermissions(paths.dir);
  let created = false;
  if (!existsSync(paths.keyPath) && !existsSync(paths.certPath)) {
    const { certPem, keyPem } = await generate();
    created = publish(paths, certPem, keyPem);
  }
  // Another process may have published the key a moment before its certificate.
  for (let i = 0; i < 50 && existsSync(paths.keyPath) && !existsSync(paths.certPath); i++) await sleep(100);
  return { ...readCaFiles(paths), created };
}

function writeNew(path: string, data: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // the umask may have narrowed it
}

/** Returns false when another process won the race to create the CA. */
function publish(paths: CaPaths, certPem: string, keyPem: string): boolean {
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const keyTmp = join(paths.dir, `.${CA_KEY_FILE}.${tag}`);
  const certTmp = join(paths.dir, `.${CA_CERT_FILE}.${tag}`);
  writeNew(keyTmp, keyPem, 0o600);
  try {
    writeNew(certTmp, certPem, 0o644);
    try {
      linkSync(keyTmp, paths.keyPath); // fails with EEXIST if someone else created a key first
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    renameSync(certTmp, paths.certPath);
    return true;
  } finally {
    for (const p of [keyTmp, certTmp]) {
      try {
        unlinkSync(p);
      } catch {
        /* already moved */
      }
    }
  }
}

export function readCaFiles(paths: CaPaths): { cert: X509Certificate; certPem: string; key: KeyObject } {
  const hasKey = existsSync(paths.keyPath);
  const hasCert = existsSync(paths.certPath);
  if (!hasCert) {
    throw new Error(hasKey
      ? `found CA key ${paths.keyPath} but no certificate ${paths.certPath}; restore it, or remove the key to create a new CA`
      : `no CA certificate at ${paths.certPath}`);
  }
  if (!hasKey) throw new Error(`found CA certificate ${paths.certPath} but no key ${paths.keyPath}; restore it, or remove the certificate to create a new CA`);
  checkKeyPermissions(paths.keyPath);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(paths.keyPath));
  } catch (err) {
    throw new Error(`cannot read CA key ${paths.keyPath}: ${(err as Error).message}`);
  }
  const certPem = readFileSync(paths.certPath, 'utf8');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`cannot read CA certificate ${paths.certPath}: ${(err as Error).message}`);
  }
  if (!cert.ca) throw new Error(`${paths.certPath} is not a CA certificate (basicConstraints CA:TRUE missing)`);
  if (!cert.checkPrivateKey(key)) throw new Error(`CA key ${paths.keyPath} does not match certificate ${paths.certPath}`);
  return { cert, certPem, key };
}

/** Anyone who can write the directory can swap in a CA of their own. */
function checkDirPermissions(dir: string): void {
  if (process.platform === 'win32') return;
  const st = statSync(dir);
  if (!st.isDirectory()) throw new Error(`certs path ${dir} is not a directory`);
  if ((st.mode & 0o002) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    throw new Error(`certs directory ${dir} is writable by others (mode ${mode}); run "chmod 700 ${dir}"`);
  }
}

function checkKeyPermissions(keyPath: string): void {
  if (process.platform === 'win32') return; // POSIX modes do not describe Windows ACLs
  const st = statSync(keyPath);
  if (!st.isFile()) throw new Error(`CA key ${keyPath} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new Error(`CA key ${keyPath} is readable by group or others (mode ${mode}); run "chmod 600 ${keyPath}" if it has not been exposed, or replace the CA`);
  }
}

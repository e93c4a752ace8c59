// The bench's separate processes: the mock upstream, wiretrail (built, started through its CLI),
// mitmdump and squid. Each is started on 127.0.0.1 with port 0 or a free port we pick, and stopped by its own pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export interface MockChild extends Child {
  port: number;
  caFile: string;
  caPem: string;
}

export interface ProxyChild extends Child {
  port: number;
  /** The CA the proxy issues its leaves from (the client must trust it). */
  caPem: string;
  /** What the proxy wrote (its own log, or its flow file), for the report. */
  dir: string;
  version: string;
}

function stopChild(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill(signal);
  });
}

/** Resolves with the first line of a child's stream that `match` accepts; rejects on exit or timeout. */
function waitForLine<T>(proc: ChildProcess, stream: NodeJS.ReadableStream, match: (line: string) => T | null, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const seen: string[] = [];
    const done = (err: Error | null, v?: T) => {
      clearTimeout(timer);
      stream.off('data', onData);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(v as T);
    };
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        seen.push(line);
        const v = match(line);
        if (v !== null) return done(null, v);
      }
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready:\n${seen.slice(-10).join('\n')}`));
    const timer = setTimeout(() => done(new Error(`${what} not ready after ${timeoutMs} ms:\n${seen.slice(-10).join('\n')}`)), timeoutMs);
    stream.on('data', onData);
    proc.once('exit', onExit);
  });
}

/** The mock upstream in its own Node process (tsx runs the TypeScript directly). */
export async function startMock(): Promise<MockChild> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/lib/mock-server.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = await waitForLine(proc, proc.stdout!, (l) => (l.startsWith('{') ? (JSON.parse(l) as { port: number; caFile: string }) : null), 'mock upstream');
  return {
    name: 'mock',
    pid: proc.pid!,
    proc,
    port: ready.port,
    caFile: ready.caFile,
    caPem: readFileSync(ready.caFile, 'utf8'),
    stop: async () => {
      proc.stdin!.end();
      await stopChild(proc);
      rmSync(join(ready.caFile, '..'), { recursive: true, force: true });
    },
  };
}

/**
 * wiretrail from its build (bin/wiretrail.js → dist/), as a user starts it: the shipped default policy
 * (api.openai.com intercepted, masked both ways, every exchange and chunk recorded), info logs to a file,
 * --connect-to sends api.openai.com:443 to the mock while SNI and verification still use the name.
 */
export async function startWiretrail(mock: MockChild, opts: { args?: string[]; nodeArgs?: string[]; bin?: string } = {}): Promise<ProxyChild> {
  const dir = mkdtempSync(join(tmpdir(), 'wt-bench-'));
  const logFd = openSync(join(dir, 'wiretrail.log'), 'w');
  const args = [
    ...(opts.nodeArgs ?? []),
    opts.bin ?? join(ROOT, 'bin/wiretrail.js'), 'start',
    '--listen', '127.0.0.1:0',
    '--admin', 'off',
    '--data', join(dir, 'data'),
    '--certs', join(dir, 'certs'),
    '--policy', join(ROOT, 'policies/default.yaml'),
    '--upstream-ca', mock.caFile,
    '--connect-to', `api.openai.com:443:127.0.0.1:${mock.port}`,
    ...(opts.args ?? []),
  ];
  const proc = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', logFd, 'pipe'] });
  closeSync(logFd);
  // The banner: the address first, the CA path a few lines later.
  let port = 0;
  const caPath = await waitForLine(proc, proc.stderr!, (l) => {
    const m = /wiretrail proxy listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(l);
    if (m) port = Number(m[1]);
    const ca = /NODE_EXTRA_CA_CERTS=(\S+)/.exec(l);
    return ca && port ? ca[1]! : null;
  }, 'wiretrail');
  proc.stderr!.resume();
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
  return {
    name: 'wiretrail',
    pid: proc.pid!,
    proc,
    port,
    caPem: readFileSync(caPath, 'utf8'),
    dir,
    version,
    stop: async () => {
      await stopChild(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const MITMDUMP = '/usr/bin/mitmdump';

/** A free loopback port (mitmdump does not report a port-0 listener in a parseable way). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (proc.exitCode !== null) return reject(new Error(`${proc.spawnfile} exited (${proc.exitCode}) before listening`));
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() - t0 > timeoutMs) reject(new Error(`${proc.spawnfile} not listening on ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

// A mitmproxy 8 addon: the upstream connection for api.openai.com:443 goes to the mock on loopback,
// while SNI and certificate verification keep the name (what wiretrail's --connect-to does).
const REDIRECT_ADDON = (port: number) => `from mitmproxy import connection

class ConnectTo:
    def server_connect(self, data):
        server = data.server
        if server.address == ("api.openai.com", 443):
            if server.sni is None:
                server.sni = "api.openai.com"
            server.address = ("127.0.0.1", ${port})

addons = [ConnectTo()]
`;

/**
 * Debian's mitmdump recording every flow to a file with body streaming on (stream_large_bodies=1:
 * every body is streamed, so streamed SSE bodies are not kept in the flow file), quiet (-q: no per-flow
 * console line, which favours mitmproxy), trusting the mock's CA upstream (verification stays on).
 */
export async function startMitmdump(mock: MockChild): Promise<ProxyChild | null> {
  if (!existsSync(MITMDUMP)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'wt-bench-mitm-'));
  const addon = join(dir, 'connect_to.py');
  writeFileSync(addon, REDIRECT_ADDON(mock.port));
  const port = await freePort();
  const proc = spawn(
    MITMDUMP,
    [
      '-q',
      '--listen-host', '127.0.0.1',
      '-p', String(port),
      '--set', `confdir=${join(dir, 'conf')}`,
      '--set', 'stream_large_bodies=1',
      '--set', `ssl_verify_upstream_trusted_ca=${mock.caFile}`,
      '-w', join(dir, 'flows.mitm'),
      '-s', addon,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let errText = '';
  proc.stderr!.on('data', (d: Buffer) => (errText = (errText + d.toString('utf8')).slice(-4000)));
  try {
    await waitForPort(port, proc, 60_000);
  } catch (err) {
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${errText}`);
  }
  const caFile = join(dir, 'conf', 'mitmproxy-ca-cert.pem');
  const version = await new Promise<string>((resolve) => {
    const v = spawn(MITMDUMP, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    v.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    v.on('exit', () => resolve(/Mitmproxy:\s*(\S+)/.exec(out)?.[1] ?? '?'));
  });
  return {
    name: 'mitmproxy',
    pid: proc.pid!,
    proc,
    port,
    caPem: readFileSync(caFile, 'utf8'),
    dir,
    version,
    stop: async () => {
      await stopChild(proc, 'SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const SQUID = '/usr/sbin/squid';
const CERTGEN = '/usr/lib/squid/security_file_certgen';

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out.slice(-500)}`))));
  });
}

/**
 * Debian's Squid (squid-openssl) as a TLS-intercepting forward proxy: ssl-bump of every CONNECT with
 * certificates generated per host from its own CA (security_file_certgen), no cache, one worker,
 * no access log. The decrypted requests go to the mock through an origin-server peer over TLS,
 * verified against the mock's CA for the name api.openai.com (what wiretrail's --connect-to does).
 * Squid drops to the `proxy` user, so its folder is handed to it. Squid records nothing.
 */
export async function startSquid(mock: MockChild): Promise<ProxyChild | null> {
  if (!existsSync(SQUID) || !existsSync(CERTGEN)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'wt-bench-squid-'));
  const port = await freePort();
  try {
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '2', '-subj', '/CN=squid bench CA', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    await run(CERTGEN, ['-c', '-s', join(dir, 'ssl_db'), '-M', '16MB']);
    writeFileSync(join(dir, 'upstream-ca.pem'), mock.caPem);
    writeFileSync(
      join(dir, 'squid.conf'),
      [
        `http_port 127.0.0.1:${port} ssl-bump tls-cert=${join(dir, 'ca.pem')} tls-key=${join(dir, 'ca.key')} generate-host-certificates=on dynamic_cert_mem_cache_size=16MB`,
        `sslcrtd_program ${CERTGEN} -s ${join(dir, 'ssl_db')} -M 16MB`,
        'sslcrtd_children 4 startup=1 idle=1',
        'ssl_bump bump all',
        `cache_peer 127.0.0.1 parent ${mock.port} 0 no-query no-digest originserver tls tls-cafile=${join(dir, 'upstream-ca.pem')} tls-domain=api.openai.com name=mock`,
        'cache_peer_access mock allow all',
        'never_direct allow all',
        'http_access allow localhost',
        'http_access deny all',
        'cache deny all',
        'cache_mem 0 MB',
        'workers 1',
        'pinger_enable off',
        'cache_effective_user proxy',
        `pid_filename ${join(dir, 'squid.pid')}`,
        `cache_log ${join(dir, 'cache.log')}`,
        'access_log none',
        `coredump_dir ${dir}`,
        '',
      ].join('\n'),
    );
    await run('chown', ['-R', 'proxy', dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const proc = spawn(SQUID, ['-N', '-f', join(dir, 'squid.conf')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let errText = '';
  proc.stderr!.on('data', (d: Buffer) => (errText = (errText + d.toString('utf8')).slice(-4000)));
  try {
    await waitForPort(port, proc, 60_000);
  } catch (err) {
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${errText}`);
  }
  const version = /Version (\S+)/.exec(await run(SQUID, ['-v']))?.[1] ?? '?';
  return {
    name: 'squid',
    pid: proc.pid!,
    proc,
    port,
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    dir,
    version,
    stop: async () => {
      await stopChild(proc, 'SIGTERM', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

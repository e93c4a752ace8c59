// Network-namespace lab for the firewall tests: namespaces and veth pairs named after this process
// (wt<pid>-...), processes run inside them with `ip netns exec`, and a teardown that removes
// everything, also on failure. Leftovers of earlier runs whose process is gone are removed first.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Why namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the suite as root, as CI does)';
  const probe = `wt${process.pid}-probe`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error) return `cannot run ip (${add.error.message}); install iproute2`;
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  for (const tool of ['nft', 'iptables', 'curl']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error) return `${tool} is not installed (apt-get install -y nftables iptables curl)`;
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces of earlier runs (wt<pid>-*) whose process no longer exists. */
export function removeLeftovers(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const m = /^(wt(\d+)-[\w-]+)/.exec(line.trim());
    if (m && Number(m[2]) !== process.pid && !alive(Number(m[2]))) spawnSync('ip', ['netns', 'del', m[1]!]);
  }
}

export class Lab {
  readonly prefix = `wt${process.pid}`;
  private readonly namespaces: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private onExit = (): void => this.destroySync();

  constructor() {
    process.once('exit', this.onExit);
  }

  /** Creates namespace <prefix>-<name> with loopback up; returns its full name. */
  addNamespace(name: string): string {
    const ns = `${this.prefix}-${name}`;
    spawnSync('ip', ['netns', 'del', ns]);
    execFileSync('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two namespaces, with addresses (CIDR notation, IPv4 and IPv6) on each end. */
  link(a: string, aAddrs: string[], b: string, bAddrs: string[], tag: string): void {
    const ia = `${this.prefix}${tag}a`;
    const ib = `${this.prefix}${tag}b`;
    execFileSync('ip', ['link', 'add', ia, 'netns', a, 'type', 'veth', 'peer', 'name', ib, 'netns', b]);
    for (const [ns, dev, addrs] of [[a, ia, aAddrs], [b, ib, bAddrs]] as const) {
      // nodad: IPv6 addresses are usable at once instead of after duplicate address detection
      for (const addr of addrs) execFileSync('ip', ['-n', ns, 'addr', 'add', addr, 'dev', dev, ...(addr.includes(':') ? ['nodad'] : [])]);
      execFileSync('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  }

  ip(ns: string, ...args: string[]): void {
    execFileSync('ip', ['-n', ns, ...args]);
  }

  /** Runs a command in a namespace to completion. */
  run(ns: string, cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input ?? '');
    });
  }

  /**
   * Starts a long-running process in a namespace and resolves once a stdout line matches `ready`
   * (rejects if it exits first or does not get ready in time). Stopped by destroy().
   */
  start(ns: string, cmd: string, args: string[], ready: RegExp, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; line: string; output: () => string }> {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(child);
    let output = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd} in ${ns} did not get ready: ${output.slice(-2000)}`)), opts.timeoutMs ?? 90_000);
      const lines = createInterface({ input: child.stdout! });
      let done = false;
      lines.on('line', (line) => {
        output += line + '\n';
        if (!done && ready.test(line)) {
          done = true;
          clearTimeout(timer);
          resolve({ child, line, output: () => output });
        }
      });
      child.on('exit', (code, signal) => {
        if (!done) {
          clearTimeout(timer);
          reject(new Error(`${cmd} in ${ns} exited (${code ?? signal}) before it was ready: ${output.slice(-2000)}`));
        }
      });
    });
  }

  /** Stops one started process gracefully (SIGTERM, then SIGKILL) and waits for it. */
  async stop(child: ChildProcess, graceMs = 15_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => this.stop(p, 5_000)));
    this.destroySync();
  }

  private destroySync(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of this.namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
    process.removeListener('exit', this.onExit);
  }
}

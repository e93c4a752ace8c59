// Replays a Dockerfile without a Docker engine: each stage gets its own root folder; COPY copies from the
// build context (minus .dockerignore) or an earlier stage; RUN runs its exact command line with `sh -c`,
// chrooted into the stage's root inside a private mount namespace where /usr (the base image: node, npm,
// sh) is the host's, read-only. The final stage then runs the way `docker run --read-only -v …` does:
// its own network namespace, the root mounted read-only, fresh folders bound on the VOLUMEs, as the USER.
// Needs root (mount namespaces, chroot), as the other deploy tests that mount do.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string | null;
  base: string;
  steps: Instruction[];
}

/** Instructions, with `\` continuations joined and comments dropped, grouped by FROM. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i]!)) continue; // comment lines inside a continued instruction are dropped
      line = line.slice(0, -1) + ' ' + lines[i]!.trim();
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse ${JSON.stringify(line)}`);
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start };
    if (ins.op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stages.push({ base: f[1]!, name: f[2] ?? null, steps: [] });
    } else {
      if (!stages.length) throw new Error(`Dockerfile line ${start}: ${ins.op} before FROM`);
      stages.at(-1)!.steps.push(ins);
    }
  }
  return stages;
}

/** `K=V K2="v 2"` pairs of an ENV instruction. */
export function parseEnv(args: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) out.push([m[1]!, m[3] ?? m[2]!]);
  return out;
}

/** A .dockerignore as a predicate over context-relative paths (patterns anchored at the context root). */
export function dockerignore(contextDir: string): (rel: string) => boolean {
  const file = join(contextDir, '.dockerignore');
  const patterns = existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : [];
  const res = patterns.map((p) => new RegExp('^' + p.replace(/^\/+|\/+$/g, '').split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '(/|$)'));
  return (rel) => res.some((r) => r.test(rel));
}

/** The base image's part we provide ourselves: /etc with its users (node:1000 as in the official node images). */
function makeRoot(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const d of ['usr', 'etc', 'proc', 'dev', 'tmp', 'root', 'var/lib']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  for (const l of ['bin', 'lib', 'lib64', 'sbin']) if (existsSync(`/${l}`)) symlinkSync(`usr/${l}`, join(dir, l));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  for (const f of ['hosts', 'resolv.conf', 'nsswitch.conf']) if (existsSync(`/etc/${f}`)) cpSync(`/etc/${f}`, join(dir, 'etc', f));
  mkdirSync(join(dir, 'home/node'), { recursive: true });
  chownSync(join(dir, 'home/node'), 1000, 1000);
}

/** uid:gid of a user named in the stage root's /etc/passwd (or numeric). */
export function userIds(rootDir: string, user: string): [number, number] {
  if (/^\d+(:\d+)?$/.test(user)) {
    const [u, g] = user.split(':');
    return [Number(u), Number(g ?? u)];
  }
  const row = readFileSync(join(rootDir, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!row) throw new Error(`no user ${user} in the image`);
  const f = row.split(':');
  return [Number(f[2]), Number(f[3])];
}

/** Shell lines that set up the mount namespace around a stage root. */
function mountScript(opts: { readOnly: boolean; volumes: [string, string][]; npmCache: string | null }): string {
  const lines = [
    'set -e',
    'mount --make-rprivate /',
    'mount --bind "$WT_ROOT" "$WT_ROOT"',
    'mount --rbind /usr "$WT_ROOT/usr"',
    'mount -o remount,bind,ro "$WT_ROOT/usr"',
    'mount -t proc proc "$WT_ROOT/proc"',
    'mount --rbind /dev "$WT_ROOT/dev"',
  ];
  if (opts.npmCache) lines.push(`mkdir -p "$WT_ROOT/root/.npm" && mount --bind ${JSON.stringify(opts.npmCache)} "$WT_ROOT/root/.npm"`);
  if (!opts.readOnly) lines.push('mount -t tmpfs tmpfs "$WT_ROOT/tmp"');
  for (const [host, path] of opts.volumes) lines.push(`mount --bind ${JSON.stringify(host)} "$WT_ROOT"${JSON.stringify(path)}`);
  if (opts.readOnly) lines.push('mount -o remount,bind,ro "$WT_ROOT"');
  return lines.join('\n');
}

export interface BuiltStage {
  stage: Stage;
  root: string;
  env: [string, string][];
  workdir: string;
  user: string;
  /** Metadata instructions by name (the last of each): ENTRYPOINT, CMD, HEALTHCHECK, VOLUME, … */
  meta: Map<string, string>;
}

const BASE_PATH = 'PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Builds every stage in order under `workDir`; RUN output goes to `log`. */
export function buildStages(dockerfile: string, contextDir: string, workDir: string, opts: { npmCache: string | null; runEnv: [string, string][]; log: (s: string) => void }): BuiltStage[] {
  const ignored = dockerignore(contextDir);
  const built: BuiltStage[] = [];
  for (const [i, stage] of parseDockerfile(readFileSync(dockerfile, 'utf8')).entries()) {
    const root = join(workDir, `stage-${i}`);
    makeRoot(root);
    const b: BuiltStage = { stage, root, env: [], workdir: '/', user: 'root', meta: new Map() };
    for (const ins of stage.steps) {
      switch (ins.op) {
        case 'WORKDIR':
          b.workdir = posix.resolve(b.workdir, ins.args);
          mkdirSync(join(root, b.workdir), { recursive: true });
          break;
        case 'ENV':
          b.env.push(...parseEnv(ins.args));
          break;
        case 'USER':
          b.user = ins.args;
          break;
        case 'COPY':
          copy(ins, b, built, contextDir, ignored);
          break;
        case 'RUN': {
          const t0 = Date.now();
          const r = runInRoot(b, ins.args, { npmCache: opts.npmCache, extraEnv: opts.runEnv });
          opts.log(`# stage ${i} line ${ins.line}: RUN ${ins.args} (${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${r.status})\n${r.output.slice(-4000)}`);
          if (r.status !== 0) throw new Error(`Dockerfile line ${ins.line}: RUN exited ${r.status}: ${r.output.slice(-2000)}`);
          break;
        }
        case 'VOLUME':
        case 'EXPOSE':
        case 'STOPSIGNAL':
        case 'HEALTHCHECK':
        case 'ENTRYPOINT':
        case 'CMD':
        case 'LABEL':
          b.meta.set(ins.op, ins.args);
          break;
        default:
          throw new Error(`Dockerfile line ${ins.line}: ${ins.op} is not replayed by this test; teach test/deploy/dockerfile.ts`);
      }
    }
    built.push(b);
  }
  return built;
}

function copy(ins: Instruction, b: BuiltStage, built: BuiltStage[], contextDir: string, ignored: (rel: string) => boolean): void {
  const words = ins.args.split(/\s+/);
  let from: BuiltStage | null = null;
  while (words[0]!.startsWith('--')) {
    const flag = words.shift()!;
    const m = /^--from=(.+)$/.exec(flag);
    if (!m) throw new Error(`Dockerfile line ${ins.line}: COPY ${flag} is not replayed`);
    from = built.find((s) => s.stage.name === m[1]) ?? built[Number(m[1])] ?? null;
    if (!from) throw new Error(`Dockerfile line ${ins.line}: no stage ${m[1]}`);
  }
  const dest = words.pop()!;
  const destAbs = join(b.root, posix.resolve(b.workdir, dest));
  const intoDir = words.length > 1 || dest.endsWith('/');
  for (const src of words) {
    const srcAbs = from ? join(from.root, posix.resolve(from.workdir, src)) : join(contextDir, src);
    if (!from && ignored(relative(contextDir, srcAbs))) continue;
    if (!existsSync(srcAbs)) throw new Error(`Dockerfile line ${ins.line}: COPY source ${src} does not exist`);
    const target = statSync(srcAbs).isDirectory() ? destAbs : intoDir ? join(destAbs, basename(srcAbs)) : destAbs;
    const filter = from ? undefined : (p: string) => !ignored(relative(contextDir, p));
    cpSync(srcAbs, target, { recursive: true, ...(filter ? { filter } : {}) });
  }
}

/** Environment for a process in the image: the base PATH, HOME, then the image's ENV. */
function imageEnv(b: BuiltStage, home: string, extra: [string, string][]): string[] {
  return [BASE_PATH, `HOME=${home}`, ...extra.map(([k, v]) => `${k}=${v}`), ...b.env.map(([k, v]) => `${k}=${v}`)];
}

function runInRoot(b: BuiltStage, command: string, opts: { npmCache: string | null; extraEnv: [string, string][] }): { status: number | null; output: string } {
  const [uid, gid] = userIds(b.root, b.user);
  const script = `${mountScript({ readOnly: false, volumes: [], npmCache: opts.npmCache })}\nexec chroot --userspec=${uid}:${gid} "$WT_ROOT" /usr/bin/env -i -C "$WT_WORKDIR" "$@" /bin/sh -c "$WT_RUN"`;
  const env = imageEnv(b, uid === 0 ? '/root' : '/home/node', opts.extraEnv);
  const r = spawnSync('unshare', ['-m', '--fork', 'sh', '-c', script, 'sh', ...env], {
    env: { PATH: process.env.PATH, WT_ROOT: b.root, WT_WORKDIR: b.workdir, WT_RUN: command },
    encoding: 'utf8',
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

export interface Container {
  proc: ChildProcess;
  /** The entrypoint process (its pid inside the host's pid namespace). */
  pid: number;
  output: () => string;
  /** Runs an exec-form command inside the container (its namespaces, root, workdir, user and env). */
  exec(argv: string[]): { status: number | null; output: string };
  exited: Promise<number | null>;
}

/** `docker run --read-only -v …` of a built stage: its ENTRYPOINT + CMD, as its USER, in its own network. */
export async function runContainer(b: BuiltStage, volumes: [string, string][], pidFile: string): Promise<Container> {
  const [uid, gid] = userIds(b.root, b.user);
  const argv = [...(JSON.parse(b.meta.get('ENTRYPOINT') ?? '[]') as string[]), ...(JSON.parse(b.meta.get('CMD') ?? '[]') as string[])];
  const script = `${mountScript({ readOnly: true, volumes, npmCache: null })}\nip link set lo up\necho $$ > "$WT_PIDFILE"\nexec chroot --userspec=${uid}:${gid} "$WT_ROOT" /usr/bin/env -i -C "$WT_WORKDIR" "$@"`;
  const env = imageEnv(b, '/home/node', []);
  const proc = spawn('unshare', ['-m', '-n', '--fork', 'sh', '-c', script, 'sh', ...env, ...argv], {
    env: { PATH: process.env.PATH, WT_ROOT: b.root, WT_WORKDIR: b.workdir, WT_PIDFILE: pidFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const end = Date.now() + 30_000;
  while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`the container did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return {
    proc,
    pid,
    output: () => out,
    exited,
    exec(cmd) {
      const r = spawnSync('nsenter', ['-t', String(pid), '-m', '-n', '-r', '-w', '-S', String(uid), '-G', String(gid), '/usr/bin/env', '-i', ...env, ...cmd], { encoding: 'utf8', timeout: 30_000 });
      return { status: r.status, output: (r.stdout ?? '') + (r.stderr ?? '') };
    },
  };
}

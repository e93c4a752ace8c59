// Applying rules to, and reading them back from, the live kernel ruleset through the nft and
// iptables tools (the tools own the netlink details; each apply is a single transaction).
import { spawn } from 'node:child_process';
import { checkIptablesSave, checkNftJson } from './check.js';
import { IPT_TOOLS, iptFamilies, iptRestorePayload, iptSignature, parseIptablesSave } from './iptables.js';
import { renderNftables } from './nftables.js';
import type { Chain } from './rules.js';
import { FirewallRuntimeError, type FirewallSpec } from './types.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool with optional stdin; a missing binary becomes a FirewallRuntimeError naming it. */
export function runTool(cmd: string, args: string[], input?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new FirewallRuntimeError(err.code === 'ENOENT' ? `${cmd} not found; install it (Debian: apt-get install ${cmd.startsWith('nft') ? 'nftables' : 'iptables'})` : `${cmd}: ${err.message}`));
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {}); // the tool may exit before reading everything; its status says why
    child.stdin.end(input ?? '');
  });
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

function toolFailure(what: string, r: ToolResult): FirewallRuntimeError {
  const why = firstLine(r.stderr) || firstLine(r.stdout) || `exit status ${r.code}`;
  const hint = /Operation not permitted|Permission denied/i.test(why) ? ' (needs root or CAP_NET_ADMIN)' : '';
  return new FirewallRuntimeError(`${what} failed: ${why}${hint}`);
}

export async function applyNftables(spec: FirewallSpec, chain: Chain): Promise<void> {
  const r = await runTool('nft', ['-f', '-'], renderNftables(spec, chain));
  if (r.code !== 0) throw toolFailure('nft -f -', r);
}

async function iptablesSave(family: 4 | 6): Promise<string> {
  const t = IPT_TOOLS[family];
  const r = await runTool(t.save, ['-t', 'filter']);
  if (r.code !== 0) throw toolFailure(`${t.save} -t filter`, r);
  return r.stdout;
}

export async function applyIptables(spec: FirewallSpec, chain: Chain): Promise<void> {
  for (const family of iptFamilies(spec)) {
    const t = IPT_TOOLS[family];
    // The jump goes into the same transaction, and only when it is not already first, so a
    // second apply neither duplicates it nor leaves a moment without it.
    const parent = parseIptablesSave(await iptablesSave(family)).rules.get(chain.iptParent) ?? [];
    const jumpFirst = parent.length > 0 && iptSignature(parent[0]!) === `-A ${chain.iptParent} -j ${chain.iptChain}`;
    const r = await runTool(t.restore, ['-w', '--noflush'], iptRestorePayload(spec, chain, family, !jumpFirst));
    if (r.code !== 0) throw toolFailure(`${t.restore} --noflush`, r);
  }
}

export async function checkLiveNftables(chain: Chain): Promise<string[]> {
  const r = await runTool('nft', ['-j', 'list', 'ruleset']);
  if (r.code !== 0) throw toolFailure('nft -j list ruleset', r);
  return checkNftJson(r.stdout, chain);
}

export async function checkLiveIptables(spec: FirewallSpec, chain: Chain): Promise<string[]> {
  const problems: string[] = [];
  for (const family of iptFamilies(spec)) problems.push(...checkIptablesSave(await iptablesSave(family), spec, chain, family));
  return problems;
}

// Turns the raw flag values into a validated FirewallSpec, rejecting combinations that make no
// sense for the chosen format and mode (they would silently do nothing otherwise).
import { formatAllow, formatCidr, formatHostPort, parseAllow, parseCidr, parseEndpoint, parseIp, parseLabel, parseNamespace, parseUid } from './address.js';
import { FirewallInputError, type AllowRule, type Cidr, type FirewallFormat, type FirewallMode, type FirewallSpec } from './types.js';

export interface FirewallFlags {
  proxy?: string;
  format?: string;
  mode?: string;
  allowDns?: string;
  proxyUid?: string;
  runnerCidr?: string[];
  allow?: string[];
  podLabel?: string;
  namespace?: string;
  proxyPodLabel?: string;
  proxyNamespace?: string;
}

export const DEFAULT_POD_LABEL = 'wiretrail.dev/egress=proxy';

const FORMATS: readonly FirewallFormat[] = ['nftables', 'iptables', 'k8s'];
const MODES: readonly FirewallMode[] = ['host', 'gateway'];

export function parseFormat(value: string | undefined): FirewallFormat {
  if (value === undefined) throw new FirewallInputError('--format is required (nftables, iptables or k8s)');
  if (!(FORMATS as readonly string[]).includes(value)) throw new FirewallInputError(`--format: ${JSON.stringify(value)} is not one of nftables, iptables, k8s`);
  return value as FirewallFormat;
}

function allowKey(a: AllowRule): string {
  return `${a.dest.family}|${a.dest.address}|${String(a.dest.prefix).padStart(3, '0')}|${a.proto ?? ''}|${String(a.port ?? 0).padStart(5, '0')}`;
}

export function buildSpec(format: FirewallFormat, f: FirewallFlags): FirewallSpec {
  if (f.proxy === undefined) throw new FirewallInputError('--proxy ADDR:PORT is required');
  const mode = (f.mode ?? 'host') as FirewallMode;
  if (!MODES.includes(mode)) throw new FirewallInputError(`--mode: ${JSON.stringify(f.mode)} is not one of host, gateway`);
  const k8s = format === 'k8s';
  const only = (flag: string, present: boolean, where: string): void => {
    if (present) throw new FirewallInputError(`${flag} only applies to ${where}`);
  };
  only('--pod-label', !k8s && f.podLabel !== undefined, '--format k8s');
  only('--namespace', !k8s && f.namespace !== undefined, '--format k8s');
  only('--proxy-pod-label', !k8s && f.proxyPodLabel !== undefined, '--format k8s');
  only('--proxy-namespace', (!k8s || f.proxyPodLabel === undefined) && f.proxyNamespace !== undefined, '--format k8s with --proxy-pod-label');
  only('--mode', k8s && f.mode !== undefined, '--format nftables or iptables');
  only('--proxy-uid', (k8s || mode === 'gateway') && f.proxyUid !== undefined, 'host mode (nftables or iptables)');
  only('--runner-cidr', (k8s || mode === 'host') && (f.runnerCidr?.length ?? 0) > 0, '--mode gateway');

  const proxy = parseEndpoint(f.proxy, '--proxy', k8s && f.proxyPodLabel !== undefined);
  const kubeDns = k8s && f.allowDns === 'kube-dns';
  const dns = f.allowDns === undefined || kubeDns ? null : parseIp(f.allowDns, '--allow-dns');
  if (dns && (dns.address === '0.0.0.0' || dns.address === '::')) throw new FirewallInputError(`--allow-dns: ${JSON.stringify(f.allowDns)} is an unspecified address`);
  const proxyUid = f.proxyUid === undefined ? null : parseUid(f.proxyUid);

  // Sorted and de-duplicated so the same exceptions in any order give the same rules.
  const allowMap = new Map<string, AllowRule>();
  for (const a of f.allow ?? []) {
    const rule = parseAllow(a);
    allowMap.set(allowKey(rule), rule);
  }
  const allow = [...allowMap.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);

  const cidrMap = new Map<string, Cidr>();
  for (const c of f.runnerCidr ?? []) {
    const cidr = parseCidr(c, '--runner-cidr');
    cidrMap.set(`${cidr.family}|${cidr.address}|${String(cidr.prefix).padStart(3, '0')}`, cidr);
  }
  const runnerCidrs = [...cidrMap.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);

  if (mode === 'gateway' && !k8s) {
    if (runnerCidrs.length === 0) throw new FirewallInputError('--mode gateway needs --runner-cidr CIDR (the runner network to restrict)');
    const families = new Set(runnerCidrs.map((c) => c.family));
    const reachable = (family: number, what: string): void => {
      if (!families.has(family as 4 | 6)) throw new FirewallInputError(`${what} is IPv${family} but no --runner-cidr is IPv${family}`);
    };
    reachable(proxy.ip!.family, `--proxy ${f.proxy}`);
    if (dns) reachable(dns.family, `--allow-dns ${f.allowDns}`);
    for (const a of allow) reachable(a.dest.family, `--allow ${formatAllow(a)}`);
  }

  return {
    mode: k8s ? 'host' : mode,
    proxy,
    dns,
    proxyUid,
    runnerCidrs,
    allow,
    k8s: k8s
      ? {
          podLabel: parseLabel(f.podLabel ?? DEFAULT_POD_LABEL, '--pod-label'),
          namespace: f.namespace === undefined ? null : parseNamespace(f.namespace, '--namespace'),
          proxyPodLabel: f.proxyPodLabel === undefined ? null : parseLabel(f.proxyPodLabel, '--proxy-pod-label'),
          proxyNamespace: f.proxyNamespace === undefined ? null : parseNamespace(f.proxyNamespace, '--proxy-namespace'),
          kubeDns,
        }
      : null,
  };
}

/** The canonical command line that regenerates this output (written into its header comment). */
export function canonicalCommand(format: FirewallFormat, s: FirewallSpec): string {
  const args = ['wiretrail firewall', `--proxy ${formatHostPort(s.proxy.host, s.proxy.ip?.family ?? null, s.proxy.port)}`, `--format ${format}`];
  if (format !== 'k8s') args.push(`--mode ${s.mode}`);
  for (const c of s.runnerCidrs) args.push(`--runner-cidr ${formatCidr(c)}`);
  if (s.dns) args.push(`--allow-dns ${s.dns.address}`);
  if (s.k8s?.kubeDns) args.push('--allow-dns kube-dns');
  if (s.proxyUid !== null) args.push(`--proxy-uid ${s.proxyUid}`);
  for (const a of s.allow) args.push(`--allow ${formatAllow(a)}`);
  if (s.k8s) {
    args.push(`--pod-label ${s.k8s.podLabel.key}=${s.k8s.podLabel.value}`);
    if (s.k8s.namespace) args.push(`--namespace ${s.k8s.namespace}`);
    if (s.k8s.proxyPodLabel) args.push(`--proxy-pod-label ${s.k8s.proxyPodLabel.key}=${s.k8s.proxyPodLabel.value}`);
    if (s.k8s.proxyNamespace) args.push(`--proxy-namespace ${s.k8s.proxyNamespace}`);
  }
  return args.join(' ');
}

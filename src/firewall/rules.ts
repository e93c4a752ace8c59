// The policy as an ordered list of abstract filter rules. The nftables and iptables renderers and
// the live-ruleset checks all derive from this one list, so what is applied and what is checked
// cannot drift apart.
import { formatAllow, formatCidr, formatHostPort } from './address.js';
import type { Cidr, FirewallSpec, IpFamily, L4Proto } from './types.js';

export const LOG_PREFIX = 'wiretrail-drop: ';
/** Rate limit of the drop log: enough to see what is blocked, never enough to flood the journal. */
export const LOG_RATE = { rate: 10, per: 'minute', burst: 5 } as const;
/** Neighbour discovery and MLD: IPv6 does not work on a link without them. */
export const ND_TYPES = ['nd-router-solicit', 'nd-neighbor-solicit', 'nd-neighbor-advert', 'mld2-listener-report'] as const;
export type NdType = (typeof ND_TYPES)[number];

export type Action = 'accept' | 'log' | 'reject-tcp' | 'reject';

export interface Rule {
  /** Why the rule exists; written next to it in every format. */
  comment: string;
  /** Restricts the rule to one family when no address does. */
  family?: IpFamily;
  oifLoopback?: boolean;
  ctEstablished?: boolean;
  saddr?: Cidr;
  daddr?: Cidr;
  proto?: L4Proto;
  dport?: number;
  icmpv6Types?: readonly NdType[];
  skuid?: number;
  action: Action;
}

export interface Chain {
  /** nftables table (family inet): one per mode, so a host can run both side by side. */
  table: typeof NFT_TABLE | typeof NFT_GATEWAY_TABLE;
  /** nftables chain name in that table. */
  name: 'output' | 'forward';
  hook: 'output' | 'forward';
  /** Host mode drops by policy as a backstop; gateway mode only restricts the runner networks. */
  policy: 'drop' | 'accept';
  /** iptables user chain and the built-in chain that jumps to it. */
  iptChain: 'WIRETRAIL-OUT' | 'WIRETRAIL-FWD';
  iptParent: 'OUTPUT' | 'FORWARD';
  rules: Rule[];
}

export const NFT_TABLE = 'wiretrail';
/** Gateway mode's table: a Docker or GitLab runner host needs host rules and forward rules at once. */
export const NFT_GATEWAY_TABLE = 'wiretrail_gateway';

/** The family a rule applies to, or null for both. */
export function ruleFamily(r: Rule): IpFamily | null {
  return r.saddr?.family ?? r.daddr?.family ?? r.family ?? null;
}

function allowRules(spec: FirewallSpec, saddr?: Cidr): Rule[] {
  const out: Rule[] = [];
  const from = saddr ? { saddr } : {};
  const fits = (c: Cidr): boolean => !saddr || c.family === saddr.family;
  if (spec.proxy.ip && fits(spec.proxy.ip)) {
    const where = formatHostPort(spec.proxy.host, spec.proxy.ip.family, spec.proxy.port);
    out.push({ comment: `wiretrail: the proxy ${where}`, ...from, daddr: spec.proxy.ip, proto: 'tcp', dport: spec.proxy.port, action: 'accept' });
  }
  if (spec.dns && fits(spec.dns)) {
    for (const proto of ['udp', 'tcp'] as const) {
      out.push({ comment: `wiretrail: DNS resolver ${spec.dns.address} (${proto})`, ...from, daddr: spec.dns, proto, dport: 53, action: 'accept' });
    }
  }
  for (const a of spec.allow) {
    if (!fits(a.dest)) continue;
    const r: Rule = { comment: `wiretrail: exception ${formatAllow(a)}`, ...from, daddr: a.dest, action: 'accept' };
    if (a.port !== null && a.proto !== null) {
      r.proto = a.proto;
      r.dport = a.port;
    }
    out.push(r);
  }
  return out;
}

function denyRules(saddr: Cidr | undefined, logUid: boolean): Rule[] {
  const from = saddr ? { saddr } : {};
  const scope = saddr ? ` from ${formatCidr(saddr)}` : '';
  return [
    { comment: `wiretrail: log what is refused${scope} (rate-limited)${logUid ? ', with the sender uid' : ''}`, ...from, action: 'log' },
    { comment: `wiretrail: refuse other TCP${scope} with a reset so clients fail fast`, ...from, proto: 'tcp', action: 'reject-tcp' },
    { comment: `wiretrail: refuse everything else${scope} as administratively prohibited`, ...from, action: 'reject' },
  ];
}

/** Host mode: the runner's own output chain. */
function hostChain(spec: FirewallSpec): Chain {
  const rules: Rule[] = [
    { comment: 'wiretrail: loopback', oifLoopback: true, action: 'accept' },
    { comment: 'wiretrail: replies and related ICMP of allowed connections', ctEstablished: true, action: 'accept' },
    { comment: 'wiretrail: IPv6 neighbour discovery and MLD on the local link', family: 6, icmpv6Types: ND_TYPES, action: 'accept' },
  ];
  if (spec.proxyUid !== null) {
    rules.push({ comment: `wiretrail: the proxy process itself (uid ${spec.proxyUid}) goes out directly`, skuid: spec.proxyUid, action: 'accept' });
  }
  rules.push(...allowRules(spec), ...denyRules(undefined, true));
  return { table: NFT_TABLE, name: 'output', hook: 'output', policy: 'drop', iptChain: 'WIRETRAIL-OUT', iptParent: 'OUTPUT', rules };
}

/** Gateway mode: forwarded traffic from each runner network may only reach the proxy. */
function gatewayChain(spec: FirewallSpec): Chain {
  const rules: Rule[] = [];
  for (const c of spec.runnerCidrs) {
    const net = formatCidr(c);
    rules.push(
      { comment: `wiretrail: replies to ${net}`, daddr: c, ctEstablished: true, action: 'accept' },
      { comment: `wiretrail: established connections from ${net}`, saddr: c, ctEstablished: true, action: 'accept' },
      ...allowRules(spec, c),
      ...denyRules(c, false),
    );
  }
  return { table: NFT_GATEWAY_TABLE, name: 'forward', hook: 'forward', policy: 'accept', iptChain: 'WIRETRAIL-FWD', iptParent: 'FORWARD', rules };
}

export function buildChain(spec: FirewallSpec): Chain {
  return spec.mode === 'gateway' ? gatewayChain(spec) : hostChain(spec);
}

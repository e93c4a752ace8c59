// The egress policy the firewall generators render, after validation. Addresses are canonical
// (lower-case, RFC 5952 compressed IPv6, network address of a prefix) so output is deterministic.

export type IpFamily = 4 | 6;
export type FirewallFormat = 'nftables' | 'iptables' | 'k8s';
export type FirewallMode = 'host' | 'gateway';
export type L4Proto = 'tcp' | 'udp';

/** An address or network: `prefix` is 32 / 128 for a single host. */
export interface Cidr {
  family: IpFamily;
  /** Canonical network address. */
  address: string;
  prefix: number;
}

export interface Endpoint {
  /** An IP literal, or (k8s with a proxy pod selector only) a DNS name used in comments. */
  host: string;
  /** Set when `host` is an IP literal. */
  ip: Cidr | null;
  port: number;
}

/** One `--allow ADDR[:PORT[/PROTO]]` exception; without a port, every protocol to ADDR. */
export interface AllowRule {
  dest: Cidr;
  port: number | null;
  proto: L4Proto | null;
}

export interface Label {
  key: string;
  value: string;
}

export interface K8sOptions {
  /** Pods the policy applies to. */
  podLabel: Label;
  namespace: string | null;
  /** When set, egress to the proxy is by pod selector instead of an ipBlock. */
  proxyPodLabel: Label | null;
  proxyNamespace: string | null;
  /** `--allow-dns kube-dns`: the cluster DNS pods instead of an address. */
  kubeDns: boolean;
}

export interface FirewallSpec {
  mode: FirewallMode;
  proxy: Endpoint;
  /** The one resolver the runner may query (udp+tcp 53); null = no DNS at all. */
  dns: Cidr | null;
  /** Exempted uid of a proxy running on the runner itself (host mode). */
  proxyUid: number | null;
  /** Gateway mode: the runner networks whose forwarded traffic is restricted. */
  runnerCidrs: Cidr[];
  allow: AllowRule[];
  k8s: K8sOptions | null;
}

/** Bad input, with a message naming the flag; the CLI maps it to a usage error (exit 2). */
export class FirewallInputError extends Error {
  override readonly name = 'FirewallInputError';
}

/** The live ruleset could not be read or changed (exit 1). */
export class FirewallRuntimeError extends Error {
  override readonly name = 'FirewallRuntimeError';
}

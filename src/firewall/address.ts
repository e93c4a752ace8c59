// Parsing and canonicalising the addresses, networks, ports and labels the firewall flags take.
// Every error names the flag and the offending value; nothing here resolves DNS names, because
// firewall rules must not depend on what a name resolves to at load time.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { FirewallInputError, type AllowRule, type Cidr, type Endpoint, type IpFamily, type L4Proto, type Label } from './types.js';

function fail(flag: string, value: string, why: string): never {
  throw new FirewallInputError(`${flag}: ${JSON.stringify(value)} ${why}`);
}

/** A single IPv4 / IPv6 literal (IPv6 optionally in brackets) as a host-sized Cidr. */
export function parseIp(value: string, flag: string): Cidr {
  const raw = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (raw.includes('%')) fail(flag, value, 'has an IPv6 zone; use an address without %zone');
  const kind = isIP(raw);
  if (kind === 0) fail(flag, value, 'is not an IP address (host names are not allowed: rules must not depend on DNS)');
  const addr = ipaddr.parse(raw);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    fail(flag, value, 'is an IPv4-mapped IPv6 address; give the IPv4 address instead');
  }
  const family: IpFamily = kind === 4 ? 4 : 6;
  return { family, address: addr.toString(), prefix: family === 4 ? 32 : 128 };
}

/** ADDR or ADDR/LEN; host bits must be clear so the rule means what it says. */
export function parseCidr(value: string, flag: string): Cidr {
  const slash = value.indexOf('/');
  if (slash < 0) return parseIp(value, flag);
  const base = parseIp(value.slice(0, slash), flag);
  const lenText = value.slice(slash + 1);
  const max = base.family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) fail(flag, value, `has an invalid prefix length (0-${max})`);
  const prefix = Number(lenText);
  const network = (base.family === 4 ? ipaddr.IPv4 : ipaddr.IPv6).networkAddressFromCIDR(`${base.address}/${prefix}`).toString();
  if (network !== base.address) fail(flag, value, `has host bits set; did you mean ${network}/${prefix}?`);
  return { family: base.family, address: network, prefix };
}

export function parsePort(text: string, flag: string, whole: string = text): number {
  if (!/^\d{1,5}$/.test(text)) fail(flag, whole, 'has an invalid port');
  const port = Number(text);
  if (port < 1 || port > 65535) fail(flag, whole, 'has a port outside 1-65535');
  return port;
}

/**
 * ADDR:PORT with ADDR an IP literal (IPv6 in brackets). With `allowName`, ADDR may also be a DNS
 * name (only the k8s pod-selector form uses it, in comments).
 */
export function parseEndpoint(value: string, flag: string, allowName = false): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):([^:]*)$/.exec(value);
  if (!m) fail(flag, value, 'is not ADDR:PORT (IPv6 as [ADDR]:PORT)');
  const port = parsePort(m[3]!, flag, value);
  const host = (m[1] ?? m[2])!;
  if (m[2] !== undefined && allowName && isIP(host) === 0) {
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(host)) {
      fail(flag, value, 'is not an IP address or DNS name');
    }
    return { host: host.toLowerCase(), ip: null, port };
  }
  const ip = parseIp(host, flag);
  if (ip.address === '0.0.0.0' || ip.address === '::') fail(flag, value, 'is an unspecified address; give the address clients connect to');
  return { host: ip.address, ip, port };
}

/**
 * `--allow` forms: ADDR, ADDR/LEN, ADDR:PORT, ADDR/LEN:PORT, each optionally ending /tcp or /udp
 * after the port (default tcp); IPv6 in brackets when a port follows ([fd00::/64]:443/udp).
 */
export function parseAllow(value: string, flag = '--allow'): AllowRule {
  let target: string;
  let portText: string | undefined;
  let protoText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::([^/]*)(?:\/(.*))?)?$/.exec(value);
  const v4 = /^([0-9.]+(?:\/[^:]*)?)(?::([^/]*)(?:\/(.*))?)?$/.exec(value);
  if (v6) [, target = '', portText, protoText] = v6;
  else if (v4) [, target = '', portText, protoText] = v4;
  else if ((value.match(/:/g) ?? []).length >= 2) target = value; // bare IPv6 address or network
  else fail(flag, value, 'is not ADDR[:PORT[/tcp|udp]] (IPv6 as [ADDR]:PORT, networks as ADDR/LEN)');
  const dest = parseCidr(target, flag);
  if (dest.prefix === 0) fail(flag, value, 'would allow every destination; the proxy is the only way out');
  if (portText === undefined) return { dest, port: null, proto: null };
  const port = parsePort(portText, flag, value);
  let proto: L4Proto = 'tcp';
  if (protoText !== undefined) {
    if (protoText !== 'tcp' && protoText !== 'udp') fail(flag, value, 'has an unknown protocol (tcp or udp)');
    proto = protoText;
  }
  return { dest, port, proto };
}

export function parseUid(value: string, flag = '--proxy-uid'): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) > 4294967294) fail(flag, value, 'is not a numeric uid');
  const uid = Number(value);
  // Exempting root would exempt every job that runs as root on the runner: fail closed.
  if (uid === 0) fail(flag, value, 'would exempt every root process; run the proxy as a dedicated user');
  return uid;
}

const labelName = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes label KEY=VALUE (key with optional DNS-subdomain prefix). */
export function parseLabel(value: string, flag: string): Label {
  const eq = value.indexOf('=');
  if (eq < 0) fail(flag, value, 'is not KEY=VALUE');
  const key = value.slice(0, eq);
  const val = value.slice(eq + 1);
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if ((prefix !== null && !dnsSubdomain.test(prefix)) || !labelName.test(name)) fail(flag, value, 'has an invalid label key');
  if (val !== '' && !labelName.test(val)) fail(flag, value, 'has an invalid label value (63 characters of [A-Za-z0-9-_.])');
  return { key, value: val };
}

export function parseNamespace(value: string, flag: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) fail(flag, value, 'is not a Kubernetes namespace name');
  return value;
}

export function formatCidr(c: Cidr): string {
  return c.prefix === (c.family === 4 ? 32 : 128) ? c.address : `${c.address}/${c.prefix}`;
}

/** Address with prefix always written (iptables-save and NetworkPolicy ipBlock style). */
export function formatCidrFull(c: Cidr): string {
  return `${c.address}/${c.prefix}`;
}

export function formatHostPort(host: string, family: IpFamily | null, port: number): string {
  return family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function formatAllow(a: AllowRule): string {
  if (a.port === null) return formatCidr(a.dest);
  const target = a.dest.family === 6 ? `[${formatCidr(a.dest)}]` : formatCidr(a.dest);
  return `${target}:${a.port}/${a.proto}`;
}

export function cidrEquals(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.address === b.address && a.prefix === b.prefix;
}

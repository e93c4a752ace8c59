// SSRF guard: which resolved addresses a tunnel or upstream connection may reach.
// Learned from smokescreen: classify the *resolved* IP, dial exactly that IP, never re-resolve.
import { DestinationProhibitedError } from '../errors/index.js';
import { BlockList, isIP } from 'node:net';

// Separate lists: node's BlockList matches IPv4 addresses against IPv6 rules as mapped addresses.
const blocked4 = new BlockList();
const blocked6 = new BlockList();
// IPv4 ranges that are not the public internet.
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved + broadcast
] as const) {
  blocked4.addSubnet(net, bits, 'ipv4');
}
// IPv6: loopback, unspecified, ULA, link-local, multicast, and every form that embeds an IPv4 address
// (mapped, compatible, NAT64, 6to4, Teredo), since those can smuggle a private IPv4 target.
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96], // IPv4-mapped
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96], // NAT64 well-known prefix
  ['64:ff9b:1::', 48], // NAT64 local-use
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // ULA
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked6.addSubnet(net, bits, 'ipv6');
}

/** True when `ip` is loopback, private, link-local, CGNAT, ULA, reserved or IPv4-embedding IPv6. */
export function isNonPublicAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return blocked4.check(ip, 'ipv4');
  if (v === 6) return blocked6.check(ip, 'ipv6');
  return true; // not an IP: never treat as public
}

/** SSRF guard refusal: 403 with Proxy-Status `destination_ip_prohibited` (the class decides, not the text). */
export class BlockedAddressError extends DestinationProhibitedError {
  override readonly name = 'BlockedAddressError';
  constructor(readonly host: string, readonly address: string) {
    super(`refusing to connect to ${host}: it resolves to non-public address ${address} (add it to allow_private in the policy to permit it)`);
  }
}

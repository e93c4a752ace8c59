// Leaf subject names: a DNS name (already punycode, as the proxy normalises IDN) or an IP literal.
import { isIP } from 'node:net';

export type LeafName = { kind: 'dns'; name: string } | { kind: 'ip'; name: string; bytes: Buffer };

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Lower-cases, strips a trailing dot and IPv6 brackets; throws on anything that cannot be a TLS host name. */
export function leafName(host: string): LeafName {
  if (typeof host !== 'string') throw new TypeError('host must be a string');
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h)) {
    if (h.includes('%')) throw new Error(`cannot issue a certificate for a scoped IPv6 address: "${host}"`);
    return ipName(h);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) throw new Error(`invalid host name for a certificate: "${host}"`);
  const labels = h.split('.');
  if (!labels.every((l) => LABEL.test(l))) throw new Error(`invalid host name for a certificate: "${host}"`);
  return { kind: 'dns', name: h };
}

/**
 * IP literal → canonical text and the 4 or 16 SAN bytes. forge's own IP parser mis-encodes IPv6 with an
 * embedded IPv4 part (e.g. 64:ff9b::192.0.2.33), so the WHATWG URL parser canonicalises to pure hex first.
 */
function ipName(ip: string): LeafName {
  if (isIP(ip) === 4) return { kind: 'ip', name: ip, bytes: Buffer.from(ip.split('.').map(Number)) };
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (all.length !== 8) throw new Error(`invalid IPv6 address: "${ip}"`);
  const bytes = Buffer.alloc(16);
  all.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  return { kind: 'ip', name: canonical, bytes };
}

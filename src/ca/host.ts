// Leaf subject names: a DNS name (already punycode, as the proxy normalises IDN) or an IP literal.
import { isIP } from 'node:net';

export type LeafName = { kind: 'dns'; name: string } | { kind: 'ip'; name: string };

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Lower-cases, strips a trailing dot and IPv6 brackets; throws on anything that cannot be a TLS host name. */
export function leafName(host: string): LeafName {
  if (typeof host !== 'string') throw new TypeError('host must be a string');
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h)) {
    if (h.includes('%')) throw new Error(`cannot issue a certificate for a scoped IPv6 address: "${host}"`);
    return { kind: 'ip', name: h };
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) throw new Error(`invalid host name for a certificate: "${host}"`);
  const labels = h.split('.');
  if (!labels.every((l) => LABEL.test(l))) throw new Error(`invalid host name for a certificate: "${host}"`);
  return { kind: 'dns', name: h };
}

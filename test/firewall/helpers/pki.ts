// A throwaway test CA and one leaf per host name, so the mock upstreams serve real, verifiable HTTPS.
import { makeTestPki, type Leaf } from '../../helpers/test-pki.js';

export type { Leaf };

export function makePki(hosts: string[]): { caPem: string; leaves: Record<string, Leaf> } {
  const pki = makeTestPki('wiretrail firewall test CA', hosts.map((h) => [h]));
  return { caPem: pki.caPem, leaves: Object.fromEntries(hosts.map((h, i) => [h, pki.leaves[i]!])) };
}

// The firewall stage: egress rules that force a runner's traffic through the proxy.
import { applyIptables, applyNftables, checkLiveIptables, checkLiveNftables } from './apply.js';
import { renderIptables } from './iptables.js';
import { renderK8s } from './k8s.js';
import { renderNftables } from './nftables.js';
import { buildChain } from './rules.js';
import type { FirewallFormat, FirewallSpec } from './types.js';

export * from './types.js';
export { buildSpec, parseFormat, canonicalCommand, DEFAULT_POD_LABEL, type FirewallFlags } from './spec.js';
export { parseAllow, parseCidr, parseEndpoint, parseIp, parseUid, parseLabel } from './address.js';
export { buildChain, LOG_PREFIX, NFT_TABLE, NFT_GATEWAY_TABLE, type Chain, type Rule } from './rules.js';
export { checkNftJson, checkIptablesSave } from './check.js';
export { renderNftables, renderIptables, renderK8s };

/** The rules as text in the chosen format (deterministic: same spec, same bytes). */
export function render(format: FirewallFormat, spec: FirewallSpec): string {
  if (format === 'k8s') return renderK8s(spec);
  const chain = buildChain(spec);
  return format === 'nftables' ? renderNftables(spec, chain) : renderIptables(spec, chain);
}

/** Applies the rules to the live ruleset in one transaction per table. */
export async function apply(format: 'nftables' | 'iptables', spec: FirewallSpec): Promise<void> {
  const chain = buildChain(spec);
  await (format === 'nftables' ? applyNftables(spec, chain) : applyIptables(spec, chain));
}

/** What the live ruleset lacks to enforce the policy; empty when it does. */
export async function check(format: 'nftables' | 'iptables', spec: FirewallSpec): Promise<string[]> {
  const chain = buildChain(spec);
  return format === 'nftables' ? checkLiveNftables(chain) : checkLiveIptables(spec, chain);
}

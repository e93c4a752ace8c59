// Does a live ruleset enforce the policy? Both checks reduce every rule, expected and live, to a
// signature of what it matches and does (comments, counters and handles ignored), then report
// expected rules that are missing and extra rules that could let traffic out.
import { formatCidr } from './address.js';
import { iptChainLines, iptFamilies, iptSignature, parseIptablesSave } from './iptables.js';
import { LOG_PREFIX, LOG_RATE, type Chain, type Rule } from './rules.js';
import type { FirewallSpec, IpFamily } from './types.js';

/** Expected nftables rule → signature (must agree with nftSignatureOfJson for the same rule). */
export function nftSignatureOfRule(r: Rule): string {
  const m: string[] = [];
  const s: string[] = [];
  if (r.oifLoopback) m.push('oif=lo');
  if (r.ctEstablished) m.push('ct.state=established,related');
  if (r.saddr) m.push(`${r.saddr.family === 4 ? 'ip' : 'ip6'}.saddr=${formatCidr(r.saddr)}`);
  if (r.daddr) m.push(`${r.daddr.family === 4 ? 'ip' : 'ip6'}.daddr=${formatCidr(r.daddr)}`);
  if (r.icmpv6Types) m.push(`icmpv6.type=${[...r.icmpv6Types].sort().join(',')}`);
  if (r.skuid !== undefined) m.push(`skuid=${r.skuid}`);
  if (r.proto && r.dport !== undefined) m.push(`${r.proto}.dport=${r.dport}`);
  else if (r.proto) m.push(`l4proto=${r.proto}`);
  switch (r.action) {
    case 'accept':
      s.push('accept');
      break;
    case 'log':
      s.push(`limit=${LOG_RATE.rate}/${LOG_RATE.per}/${LOG_RATE.burst}`, `log=${LOG_PREFIX}`);
      break;
    case 'reject-tcp':
      s.push('reject=tcp reset');
      break;
    case 'reject':
      s.push('reject=icmpx admin-prohibited');
      break;
  }
  return [...m.sort(), '|', ...s].join(' ');
}

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function valueText(v: Json): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(valueText).sort().join(',');
  if (isObj(v)) {
    if ('set' in v) return valueText(v.set);
    const prefix = v.prefix;
    if (isObj(prefix)) return `${String(prefix.addr)}/${String(prefix.len)}`;
    if (Array.isArray(v.range)) return v.range.map(valueText).join('-');
  }
  return JSON.stringify(v);
}

function leftText(l: Json): string {
  if (isObj(l)) {
    const meta = l.meta;
    if (isObj(meta)) {
      const key = String(meta.key);
      return key === 'oifname' ? 'oif' : key;
    }
    const ct = l.ct;
    if (isObj(ct)) return `ct.${String(ct.key)}`;
    const payload = l.payload;
    if (isObj(payload)) return `${String(payload.protocol)}.${String(payload.field)}`;
  }
  return JSON.stringify(l);
}

/** Live rule (an entry of `nft -j list ruleset`) → signature, plus whether it can let traffic through. */
export function nftSignatureOfJson(expr: Json[]): { sig: string; passes: boolean } {
  const m: string[] = [];
  const s: string[] = [];
  let passes = false;
  for (const e of expr) {
    if (!isObj(e)) continue;
    const [key, body] = Object.entries(e)[0] ?? ['', null];
    switch (key) {
      case 'match': {
        const b = isObj(body) ? body : {};
        const op = b.op === '==' || b.op === 'in' ? '=' : String(b.op);
        m.push(`${leftText(b.left)}${op}${valueText(b.right)}`);
        break;
      }
      case 'counter':
        break;
      case 'accept':
        s.push('accept');
        passes = true;
        break;
      case 'drop':
        s.push('drop');
        break;
      case 'reject': {
        const b = isObj(body) ? body : {};
        s.push(`reject=${[b.type, b.expr].filter((x) => x !== undefined).map(String).join(' ')}`);
        break;
      }
      case 'limit': {
        const b = isObj(body) ? body : {};
        s.push(`limit=${String(b.rate)}/${String(b.per)}/${String(b.burst ?? 0)}`);
        break;
      }
      case 'log': {
        const b = isObj(body) ? body : {};
        s.push(`log=${String(b.prefix ?? '')}`);
        break;
      }
      default:
        // jump, goto, queue, mangle, nat...: anything we do not write may route around the policy
        s.push(JSON.stringify(e));
        passes = true;
    }
  }
  return { sig: [...m.sort(), '|', ...s].join(' '), passes };
}

function describe(r: Rule): string {
  return r.comment.replace(/^wiretrail: /, '');
}

/** Problems with a live `nft -j list ruleset` for the policy; empty when it is enforced. */
export function checkNftJson(jsonText: string, chain: Chain): string[] {
  let doc: Json;
  try {
    doc = JSON.parse(jsonText);
  } catch {
    return ['the ruleset from nft is not valid JSON'];
  }
  const entries = isObj(doc) && Array.isArray(doc.nftables) ? doc.nftables : [];
  const ours = (o: Json): o is Record<string, Json> => isObj(o) && o.family === 'inet' && o.table === chain.table;
  const table = entries.some((e) => isObj(e) && isObj(e.table) && e.table.family === 'inet' && e.table.name === chain.table);
  if (!table) return [`table inet ${chain.table} is missing (nothing restricts egress)`];
  const chainEntry = entries.map((e) => (isObj(e) ? e.chain : undefined)).find((c) => ours(c) && c.name === chain.name) as Record<string, Json> | undefined;
  if (!chainEntry) return [`chain ${chain.name} is missing from table inet ${chain.table}`];

  const problems: string[] = [];
  if (chainEntry.type !== 'filter' || chainEntry.hook !== chain.hook) problems.push(`chain ${chain.name} is not a filter chain on the ${chain.hook} hook`);
  if (chain.policy === 'drop' && chainEntry.policy !== 'drop') problems.push(`chain ${chain.name} has policy ${String(chainEntry.policy)}, expected drop`);

  const live = entries
    .map((e) => (isObj(e) ? e.rule : undefined))
    .filter((r): r is Record<string, Json> => ours(r) && r.chain === chain.name)
    .map((r) => ({ ...nftSignatureOfJson(Array.isArray(r.expr) ? r.expr : []), used: false }));

  for (const r of chain.rules) {
    const sig = nftSignatureOfRule(r);
    const hit = live.find((l) => !l.used && l.sig === sig);
    if (hit) hit.used = true;
    else problems.push(`missing rule: ${describe(r)}`);
  }
  for (const l of live) if (!l.used && l.passes) problems.push(`unexpected rule lets traffic through: ${l.sig}`);
  return problems;
}

/** Problems with one family's live `iptables-save` output for the policy. */
export function checkIptablesSave(saveText: string, spec: FirewallSpec, chain: Chain, family: IpFamily): string[] {
  const tool = family === 4 ? 'iptables' : 'ip6tables';
  const saved = parseIptablesSave(saveText);
  const liveRules = saved.rules.get(chain.iptChain);
  if (!liveRules) return [`${tool}: chain ${chain.iptChain} is missing (nothing restricts egress)`];
  const problems: string[] = [];
  const parent = saved.rules.get(chain.iptParent) ?? [];
  const jump = `-A ${chain.iptParent} -j ${chain.iptChain}`;
  const at = parent.findIndex((l) => iptSignature(l) === jump);
  if (at < 0) problems.push(`${tool}: ${chain.iptParent} does not jump to ${chain.iptChain}`);
  else if (at > 0) problems.push(`${tool}: ${at} rule(s) in ${chain.iptParent} come before the jump to ${chain.iptChain} and can bypass it`);

  const live = liveRules.map((l) => ({ sig: iptSignature(l), used: false }));
  const expected = iptChainLines(spec, chain, family);
  for (const line of expected) {
    const sig = iptSignature(line);
    const hit = live.find((l) => !l.used && l.sig === sig);
    if (hit) hit.used = true;
    else problems.push(`${tool}: missing rule: ${/--comment "wiretrail: ([^"]*)"/.exec(line)?.[1] ?? sig}`);
  }
  for (const l of live) {
    const target = /(?:^| )-[jg] (\S+)/.exec(l.sig)?.[1];
    if (!l.used && target !== undefined && !['DROP', 'REJECT', 'LOG'].includes(target)) problems.push(`${tool}: unexpected rule lets traffic through: ${l.sig}`);
  }
  return problems;
}

export { iptFamilies };

// The Policy: one validated policy file, and the host-level decisions made from it.
import { DEFAULT_INTERCEPT, policySchema, type HostSettings, type PolicyDoc } from './schema.js';
import { HostSet, specificity } from './hosts.js';
import { ConfigError, loadYamlFile, parseYamlWith } from './load.js';
import { RuleSet } from './rules.js';

export type Action = 'intercept' | 'tunnel' | 'deny';

export interface Decision {
  action: Action;
  /** One line a user can act on. */
  reason: string;
  /** The pattern that decided, if any. */
  rule: string | null;
}

export class Policy {
  readonly doc: PolicyDoc;
  private readonly intercepts: HostSet;
  private readonly tunnels: HostSet;
  private readonly privateAllowed: HostSet;
  private readonly hostRules: { set: HostSet; settings: HostSettings }[];
  /** Request rules (first match wins). */
  readonly rules: RuleSet;

  constructor(doc: PolicyDoc) {
    this.doc = doc;
    const at = (key: string, f: () => HostSet): HostSet => {
      try {
        return f();
      } catch (err) {
        throw new ConfigError(`${key}: ${(err as Error).message}`);
      }
    };
    this.intercepts = at('intercept', () => new HostSet(doc.intercept ?? DEFAULT_INTERCEPT));
    this.tunnels = at('tunnel', () => new HostSet(doc.tunnel));
    this.privateAllowed = at('allow_private', () => new HostSet(doc.allow_private));
    this.hostRules = Object.entries(doc.hosts).map(([pattern, settings]) => ({
      set: at(`hosts.${pattern}`, () => new HostSet([pattern])),
      settings,
    }));
    this.rules = new RuleSet(doc.rules);
  }

  static fromYaml(text: string, source = 'policy'): Policy {
    return new Policy(parseYamlWith(text, policySchema, source));
  }

  static load(file: string): Policy {
    const doc = loadYamlFile(file, policySchema);
    try {
      return new Policy(doc);
    } catch (err) {
      throw new ConfigError(`${file}: ${(err as Error).message}`);
    }
  }

  /** `host` must be normalised (see normalizeHost). */
  decide(host: string): Decision {
    const i = this.intercepts.match(host);
    if (i) return { action: 'intercept', reason: `intercepted by rule ${i}`, rule: i };
    const t = this.tunnels.match(host);
    if (t) return { action: 'tunnel', reason: `tunnel allowed by rule ${t}`, rule: t };
    if (this.doc.egress === 'enforce') {
      return { action: 'deny', reason: `egress to ${host} is not allowed by policy (egress: enforce)`, rule: null };
    }
    return { action: 'tunnel', reason: 'not intercepted; tunnelled blind (egress: audit)', rule: null };
  }

  /** Whether `host` may resolve to (or be) a private, loopback or link-local address. */
  allowsPrivate(host: string): boolean {
    return this.privateAllowed.match(host) !== null;
  }

  /** Merged settings of every `hosts:` entry that matches, more specific entries last so they win (exact > infix > `*.`). */
  settingsFor(host: string): HostSettings {
    const out: HostSettings = {};
    const matches = this.hostRules.filter((r) => r.set.match(host) !== null);
    matches.sort((a, b) => specificity(a.set.patterns[0]!) - specificity(b.set.patterns[0]!));
    for (const m of matches) Object.assign(out, m.settings);
    return out;
  }

  /** Whether the request (prompt) and response sides are masked before they reach the other side. */
  maskSides(host: string): { request: boolean; response: boolean } {
    const s = this.settingsFor(host).mask ?? {};
    return { request: s.request ?? this.doc.mask.request, response: s.response ?? this.doc.mask.response };
  }

  get interceptPatterns(): string[] {
    return this.intercepts.patterns.map((p) => p.text);
  }
}

export function defaultPolicy(): Policy {
  return new Policy(policySchema.parse({}));
}

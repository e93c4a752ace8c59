// The mask stage: a catalog of credential rules, a streaming masker per channel, and whole-text
// masking, all sharing placeholder numbers within a session. See src/mask/README.md.
import { compileCatalog } from './catalog.js';
import { compileCustomRules } from './custom.js';
import { CATALOG } from './rules/index.js';
import { jwtRule } from './rules/jwt.js';
import { pemRule } from './rules/pem.js';
import { TOKEN_SPECS } from './rules/tokens.js';
import type { AllowList } from './scanner.js';
import { Session } from './session.js';
import type { MaskEngine, MaskOptions, MaskSession, SessionState } from './types.js';

export type { CustomRule, Finding, MaskEngine, MaskOptions, MaskSession, RuleInfo, SessionState, StreamMasker } from './types.js';
export { CustomRuleError } from './custom.js';

export const DEFAULT_PLACEHOLDER = '[MASKED:{rule}#{n}]';

/** The built-in catalog, for docs and tests. */
export const RULES: readonly { name: string; description: string }[] = CATALOG;

const STRONG = new Set<string>([...TOKEN_SPECS.map((s) => s.name), pemRule.name, jwtRule.name]);

/**
 * Whether a finding's rule recognises a credential by its own format (a provider prefix such as
 * `sk-proj-`, `ghp_`, `AKIA`; a PEM private key; a JWT) rather than by context (a key name, a URL,
 * an entropy guess). Callers that must leave identifiers and opaque blobs intact still mask these.
 */
export function isStrongRule(rule: string): boolean {
  return STRONG.has(rule);
}

let shared: ReturnType<typeof compileCatalog> | null = null;

function allowList(values: string[]): AllowList {
  const set = new Set(values.filter((v) => v.length > 0));
  const list = [...set];
  return { has: (v) => set.has(v), hasPrefix: (h) => list.some((v) => v.startsWith(h)) };
}

/** Compiles the catalog (once per process) plus the options; the engine is reusable. */
export function createMaskEngine(opts: MaskOptions = {}): MaskEngine {
  shared ??= compileCatalog();
  const parts = {
    options: { ...opts },
    catalog: shared,
    template: opts.placeholder ?? DEFAULT_PLACEHOLDER,
    allow: allowList(opts.allow ?? []),
    custom: compileCustomRules(opts.customRules ?? []),
  };
  return { session: () => new Session(parts) };
}


/** Engines built from snapshots, one per distinct options (a worker thread masks for one proxy). */
const fromOptions = new Map<string, MaskEngine>();

/** A session that masks exactly as the one `state` was taken from (same engine options, same numbering). */
export function sessionFromState(state: SessionState): MaskSession {
  const key = JSON.stringify(state.options);
  let engine = fromOptions.get(key);
  if (!engine) {
    engine = createMaskEngine(state.options);
    if (fromOptions.size >= 8) fromOptions.clear();
    fromOptions.set(key, engine);
  }
  const session = engine.session() as Session;
  session.adopt(state);
  return session;
}

// The mask stage: a catalog of credential rules, a streaming masker per channel, and whole-text
// masking, all sharing placeholder numbers within a session. See src/mask/README.md.
import { compileCatalog } from './catalog.js';
import { compileCustomRules } from './custom.js';
import { CATALOG } from './rules/index.js';
import type { AllowList } from './scanner.js';
import { Session } from './session.js';
import type { MaskEngine, MaskOptions } from './types.js';

export type { CustomRule, Finding, MaskEngine, MaskOptions, MaskSession, RuleInfo, StreamMasker } from './types.js';
export { CustomRuleError } from './custom.js';

export const DEFAULT_PLACEHOLDER = '[MASKED:{rule}#{n}]';

/** The built-in catalog, for docs and tests. */
export const RULES: readonly { name: string; description: string }[] = CATALOG;

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
    catalog: shared,
    template: opts.placeholder ?? DEFAULT_PLACEHOLDER,
    allow: allowList(opts.allow ?? []),
    custom: compileCustomRules(opts.customRules ?? []),
  };
  return { session: () => new Session(parts) };
}


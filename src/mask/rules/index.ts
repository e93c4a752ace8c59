// The built-in catalog in priority order: prefix tokens, structured formats, keyword assignments.
import type { CatalogEntry, Rule } from '../rule.js';
import { basicRule, bearerRule } from './auth.js';
import { base64Rule, base64ValueRule, unicodeEscapeRule } from './decode.js';
import { ANCHORED_SPECS, anchoredRules } from './infix.js';
import { jwtRule } from './jwt.js';
import { KEYWORD_SPECS, keywordRule } from './keyword.js';
import { pemRule } from './pem.js';
import { tokenRules, TOKEN_SPECS } from './tokens.js';
import { URL_ENTRIES, urlRule } from './url.js';

export function builtinRules(): Rule[] {
  return [...tokenRules(), pemRule, jwtRule, urlRule, bearerRule, basicRule, base64Rule, base64ValueRule, unicodeEscapeRule, ...anchoredRules(), keywordRule];
}

/** One entry per placeholder rule name a finding can carry. */
export const CATALOG: readonly CatalogEntry[] = Object.freeze([
  ...TOKEN_SPECS.map((s) => ({ name: s.name, description: s.description })),
  { name: pemRule.name, description: pemRule.description },
  { name: jwtRule.name, description: jwtRule.description },
  ...URL_ENTRIES,
  { name: bearerRule.name, description: bearerRule.description },
  { name: basicRule.name, description: basicRule.description },
  { name: base64Rule.name, description: base64Rule.description },
  { name: unicodeEscapeRule.name, description: unicodeEscapeRule.description },
  ...KEYWORD_SPECS.map((k) => ({ name: k.name, description: k.description })),
  // the Entra ID secret shares its name with the keyword rule for its key names
  ...ANCHORED_SPECS.filter((a) => !KEYWORD_SPECS.some((k) => k.name === a.name)).map((a) => ({ name: a.name, description: a.description })),
]);

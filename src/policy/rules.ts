// The request rules engine: compiled once per policy load, evaluated per request. First match wins;
// no match = allow. Every evaluation can explain itself (used by `wiretrail policy explain`).
import type { Identity } from '../identity/types.js';
import { HostSet } from './hosts.js';
import { anyGlob } from './glob.js';
import { compilePromptRegex, type PromptRegex } from './regex.js';
import type { PromptView } from './prompt.js';
import type { RuleAction, RuleSpec } from './rules-schema.js';

export interface RuleRequest {
  /** Normalised host (the CONNECT authority). */
  host: string;
  method: string;
  path: string;
  identity: Identity;
  /** Read on demand: only rules with models/prompt conditions need the body decoded. */
  prompt(): PromptView;
}

export interface CompiledRule {
  name: string;
  /** 1-based position in the file. */
  index: number;
  action: RuleAction;
  reason: string;
  approval: { timeoutMs: number; approvers: { groups: string[]; subjects: string[] }; windowMs: number | null } | null;
  requestsPerMinute: number | null;
  record: 'full' | 'metadata';
}

/** One condition's verdict: matched or not, and a phrase saying why. */
interface Check {
  ok: boolean;
  why: string;
}
type Condition = (req: RuleRequest) => Check;

export interface RuleTrace {
  rule: string;
  matched: boolean;
  why: string[];
}

export interface Evaluation {
  rule: CompiledRule | null;
  /** Why the deciding rule matched (empty when no rule matched). */
  why: string[];
  /** Every rule looked at, in order, up to and including the deciding one. */
  trace: RuleTrace[];
}

const quote = (xs: readonly string[]) => xs.map((x) => JSON.stringify(x)).join(', ');

function hostCondition(patterns: string[]): Condition {
  const set = new HostSet(patterns);
  return (req) => {
    const m = set.match(req.host);
    return m ? { ok: true, why: `host ${req.host} matches ${m}` } : { ok: false, why: `host ${req.host} is not in [${quote(patterns)}]` };
  };
}

function methodCondition(methods: string[]): Condition {
  const upper = methods.map((m) => m.toUpperCase());
  return (req) => {
    const m = req.method.toUpperCase();
    return upper.includes(m) ? { ok: true, why: `method ${m}` } : { ok: false, why: `method ${m} is not in [${upper.join(', ')}]` };
  };
}

function pathCondition(paths: string[]): Condition {
  return (req) => {
    const p = req.path.split('?')[0]!;
    const hit = paths.find((x) => (x.endsWith('*') ? p.startsWith(x.slice(0, -1)) : p === x));
    return hit ? { ok: true, why: `path ${p} matches ${hit}` } : { ok: false, why: `path ${p} is not in [${quote(paths)}]` };
  };
}

function identityCondition(spec: NonNullable<RuleSpec['match']['identity']>): Condition {
  return (req) => {
    const id = req.identity;
    const who = id.subject ?? 'anonymous';
    const why: string[] = [];
    // groups and subjects name who (any of them); claims then narrow (every listed claim must match).
    if (spec.groups || spec.subjects) {
      const g = spec.groups ? id.groups.find((x) => spec.groups!.includes(x)) : undefined;
      const s = spec.subjects && id.subject !== null ? anyGlob(spec.subjects, id.subject) : null;
      if (g) why.push(`${who} is in group ${g}`);
      else if (s) why.push(`subject ${who} matches ${s}`);
      else {
        const wanted = [spec.groups ? `groups [${quote(spec.groups)}]` : '', spec.subjects ? `subjects [${quote(spec.subjects)}]` : ''].filter(Boolean).join(' or ');
        return { ok: false, why: `${who} is in none of ${wanted}` };
      }
    }
    for (const [claim, globs] of Object.entries(spec.claims ?? {})) {
      const v = id.attributes[claim];
      const hit = v === undefined ? null : anyGlob(globs, v);
      if (!hit) return { ok: false, why: `claim ${claim}=${v === undefined ? '(absent)' : JSON.stringify(v)} matches none of [${quote(globs)}]` };
      why.push(`claim ${claim}=${JSON.stringify(v)} matches ${hit}`);
    }
    return { ok: true, why: why.join(', ') || 'any identity' };
  };
}

function modelCondition(models: string[]): Condition {
  const lower = models.map((m) => m.toLowerCase());
  return (req) => {
    const model = req.prompt().model;
    if (model === null) return { ok: false, why: 'the request names no model' };
    const hit = anyGlob(lower, model.toLowerCase());
    return hit ? { ok: true, why: `model ${model} matches ${hit}` } : { ok: false, why: `model ${model} is not in [${quote(models)}]` };
  };
}

function promptCondition(spec: NonNullable<RuleSpec['match']['prompt']>, action: RuleAction): Condition {
  const needles = (spec.contains ?? []).map((c) => ({ text: c, lower: c.toLowerCase() }));
  const regexes: PromptRegex[] = (spec.regex ?? []).map(compilePromptRegex);
  let lastText: string | null = null;
  let lastLower = '';
  return (req) => {
    const text = req.prompt().text;
    if (text === null) {
      // A body we cannot decode cannot be shown to be harmless: restrictive rules match (fail closed).
      return action === 'allow' ? { ok: false, why: 'the prompt could not be decoded' } : { ok: true, why: 'the prompt could not be decoded (fail closed)' };
    }
    if (text !== lastText) {
      lastText = text;
      lastLower = text.toLowerCase();
    }
    const n = needles.find((x) => lastLower.includes(x.lower));
    if (n) return { ok: true, why: `prompt contains ${JSON.stringify(n.text)}` };
    const r = regexes.find((x) => x.test(text));
    if (r) return { ok: true, why: `prompt matches /${r.source}/` };
    return { ok: false, why: 'no prompt pattern matched' };
  };
}

function compileRule(spec: RuleSpec, index: number): { rule: CompiledRule; conditions: Condition[] } {
  const m = spec.match;
  const conditions: Condition[] = [];
  // Cheap header-level conditions first, so most requests never decode a body.
  if (m.hosts) conditions.push(hostCondition(m.hosts));
  if (m.methods) conditions.push(methodCondition(m.methods));
  if (m.paths) conditions.push(pathCondition(m.paths));
  if (m.identity) conditions.push(identityCondition(m.identity));
  if (m.models) conditions.push(modelCondition(m.models));
  if (m.prompt) conditions.push(promptCondition(m.prompt, spec.action));
  const approval =
    spec.action === 'require_approval'
      ? {
          timeoutMs: spec.approval?.timeout ?? 5 * 60_000,
          approvers: { groups: spec.approval?.approvers?.groups ?? [], subjects: spec.approval?.approvers?.subjects ?? [] },
          windowMs: spec.approval?.window ?? null,
        }
      : null;
  const rule: CompiledRule = {
    name: spec.name,
    index,
    action: spec.action,
    reason: spec.reason ?? (spec.action === 'deny' ? 'blocked by policy' : spec.action === 'require_approval' ? 'needs approval' : 'allowed by policy'),
    approval,
    requestsPerMinute: spec.rate_limit?.requests_per_minute ?? null,
    record: spec.record,
  };
  return { rule, conditions };
}

export class RuleSet {
  private readonly compiled: { rule: CompiledRule; conditions: Condition[] }[];

  constructor(specs: readonly RuleSpec[]) {
    this.compiled = specs.map((s, i) => compileRule(s, i + 1));
  }

  get rules(): CompiledRule[] {
    return this.compiled.map((c) => c.rule);
  }

  get size(): number {
    return this.compiled.length;
  }

  /** First matching rule (and why), or none. */
  evaluate(req: RuleRequest): Evaluation {
    const trace: RuleTrace[] = [];
    for (const { rule, conditions } of this.compiled) {
      const why: string[] = [];
      let matched = true;
      for (const c of conditions) {
        const r = c(req);
        why.push(r.why);
        if (!r.ok) {
          matched = false;
          break;
        }
      }
      if (conditions.length === 0) why.push('no conditions: matches every request');
      trace.push({ rule: rule.name, matched, why });
      if (matched) return { rule, why, trace };
    }
    return { rule: null, why: [], trace };
  }
}

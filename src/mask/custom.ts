// Custom rules from policy, applied after the built-in scanner on its raw output. A custom regex
// is searched within each whitespace-delimited word (cut every MAX_WORD characters), so the
// stage only ever holds the current word. With a keyword, the rule applies to words on a line
// where the keyword (case-insensitive) has appeared, in an earlier word or in the word itself.
// A capture group, when present, selects the part to mask (gitleaks' secretGroup).
import type { AllowList } from './scanner.js';
import type { CustomRule } from './types.js';

const MAX_WORD = 1024;

export interface CompiledCustomRule {
  name: string;
  re: RegExp;
  keyword: string | null;
  group: boolean;
}

export class CustomRuleError extends Error {
  override readonly name = 'CustomRuleError';
}

export function compileCustomRules(rules: CustomRule[]): CompiledCustomRule[] {
  return rules.map((r) => {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(r.name)) throw new CustomRuleError(`custom mask rule name "${r.name}": lower-case letters, digits and dashes`);
    let re: RegExp;
    try {
      re = new RegExp(r.regex, 'g');
    } catch (err) {
      throw new CustomRuleError(`custom mask rule "${r.name}": invalid regex: ${(err as Error).message}`);
    }
    if (re.test('')) throw new CustomRuleError(`custom mask rule "${r.name}": regex matches the empty string`);
    const groups = new RegExp(`${r.regex}|`).exec('')!.length - 1;
    return { name: r.name, re, keyword: r.keyword ? r.keyword.toLowerCase() : null, group: groups > 0 };
  });
}

interface Out {
  raw(text: string): void;
  secret(rule: string, key: string): void;
}

export class CustomStage {
  private word = '';
  private line = ''; // lower-cased words of the current line, for keyword checks

  constructor(
    private readonly rules: CompiledCustomRule[],
    private readonly allow: AllowList,
    private readonly out: Out,
  ) {}

  get held(): number {
    return this.word.length;
  }

  push(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      const space = c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
      if (space) {
        this.word += text.slice(start, i);
        this.endWord();
        this.out.raw(text[i]!);
        if (c === 10) this.line = '';
        start = i + 1;
      } else if (this.word.length + (i - start) + 1 >= MAX_WORD) {
        this.word += text.slice(start, i + 1);
        this.endWord();
        start = i + 1;
      }
    }
    this.word += text.slice(start);
  }

  /** A placeholder from the built-in stage: passes through and ends the current word. */
  opaque(placeholder: string): void {
    this.endWord();
    this.out.raw(placeholder);
  }

  flush(): void {
    this.endWord();
    this.line = '';
  }

  private endWord(): void {
    const w = this.word;
    if (!w) return;
    this.word = '';
    const lw = w.toLowerCase();
    this.line += ' ' + lw;
    // spans to mask, in word order, first rule wins on overlap
    const spans: { s: number; e: number; rule: string }[] = [];
    for (const r of this.rules) {
      if (r.keyword && !this.line.includes(r.keyword)) continue;
      r.re.lastIndex = 0;
      for (let m = r.re.exec(w); m; m = r.re.exec(w)) {
        if (m[0] === '') {
          r.re.lastIndex++;
          continue;
        }
        let s = m.index;
        let e = s + m[0].length;
        if (r.group && m[1] !== undefined) {
          const off = m[0].indexOf(m[1]);
          if (off < 0 || m[1] === '') continue;
          s += off;
          e = s + m[1].length;
        }
        if (this.allow.has(w.slice(s, e))) continue;
        if (spans.some((x) => s < x.e && e > x.s)) continue;
        spans.push({ s, e, rule: r.name });
      }
    }
    if (!spans.length) return this.out.raw(w);
    spans.sort((a, b) => a.s - b.s);
    let at = 0;
    for (const x of spans) {
      if (x.s > at) this.out.raw(w.slice(at, x.s));
      this.out.secret(x.rule, w.slice(x.s, x.e));
      at = x.e;
    }
    if (at < w.length) this.out.raw(w.slice(at));
  }
}

// A tiny stand-in for src/mask, used only by these tests until the real engine lands.
// Detects the two fixture secret shapes; holds back a trailing run of token characters.
import type { Finding, MaskSession, StreamMasker } from '../../src/mask/index.js';

const RULES: Array<{ rule: string; re: RegExp; prefix: RegExp }> = [
  { rule: 'openai-api-key', re: /^sk-(?:proj-)?[A-Za-z0-9_-]{20,}$/, prefix: /^sk-/ },
  { rule: 'aws-access-key-id', re: /^AKIA[0-9A-Z]{16}$/, prefix: /^AKIA/ },
];
const TOKEN = /[A-Za-z0-9_-]/;

export function fakeEngine(): { session(): MaskSession } {
  return {
    session(): MaskSession {
      const ids = new Map<string, string>();
      const counters = new Map<string, number>();
      const placeholder = (rule: string, value: string): string => {
        let p = ids.get(value);
        if (!p) {
          const n = (counters.get(rule) ?? 0) + 1;
          counters.set(rule, n);
          p = `[MASKED:${rule}#${n}]`;
          ids.set(value, p);
        }
        return p;
      };
      const maskRun = (run: string, final: boolean, findings: Finding[]): string => {
        for (const r of RULES) {
          if (r.re.test(run) || (final && r.prefix.test(run))) {
            const p = placeholder(r.rule, run);
            findings.push({ rule: r.rule, placeholder: p });
            return p;
          }
        }
        return run;
      };
      const maskText = (text: string): { text: string; findings: Finding[] } => {
        const findings: Finding[] = [];
        const out = text.replace(/[A-Za-z0-9_-]+/g, (run) => maskRun(run, false, findings));
        return { text: out, findings };
      };
      return {
        maskText,
        stream(): StreamMasker {
          let held = '';
          const findings: Finding[] = [];
          return {
            push(text: string): string {
              let out = '';
              const input = held + text;
              held = '';
              for (const ch of input) {
                if (TOKEN.test(ch)) {
                  held += ch;
                } else {
                  out += maskRun(held, false, findings) + ch;
                  held = '';
                }
              }
              return out;
            },
            flush(): string {
              const r = maskRun(held, true, findings);
              held = '';
              return r;
            },
            get held() {
              return held.length;
            },
            findings,
          };
        },
      };
    },
  };
}

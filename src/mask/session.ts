// Sessions number placeholders; streams and whole-text masking of one session share the numbers.
import type { Catalog } from './catalog.js';
import { CustomStage, type CompiledCustomRule } from './custom.js';
import { Scanner, type AllowList, type Sink } from './scanner.js';
import type { Finding, MaskOptions, MaskSession, SessionState, StreamMasker } from './types.js';

export interface EngineParts {
  /** What the engine was created from (to build the same engine in a worker thread). */
  options: MaskOptions;
  catalog: Catalog;
  template: string;
  allow: AllowList;
  custom: CompiledCustomRule[];
}

export class Session implements MaskSession {
  private readonly ids = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  constructor(private readonly parts: EngineParts) {}

  /** The placeholder of a secret: the same identity always gets the same text in a session. */
  placeholder(rule: string, key: string): string {
    const known = this.ids.get(key);
    if (known !== undefined) return known;
    const n = (this.counters.get(rule) ?? 0) + 1;
    this.counters.set(rule, n);
    const ph = this.parts.template.replace(/\{rule\}/g, rule).replace(/\{n\}/g, String(n));
    this.ids.set(key, ph);
    return ph;
  }

  stream(): StreamMasker {
    return new ChannelMasker(this, this.parts);
  }

  get issued(): number {
    return this.ids.size;
  }

  snapshot(): SessionState {
    return { options: this.parts.options, ids: [...this.ids], counters: [...this.counters] };
  }

  adopt(state: SessionState): void {
    this.ids.clear();
    for (const [k, v] of state.ids) this.ids.set(k, v);
    this.counters.clear();
    for (const [k, v] of state.counters) this.counters.set(k, v);
  }

  maskText(text: string): { text: string; findings: Finding[] } {
    const m = new ChannelMasker(this, this.parts);
    return { text: m.end(text), findings: m.findings };
  }
}

class ChannelMasker implements StreamMasker {
  readonly findings: Finding[] = [];
  private out: string[] = [];
  private readonly scanner: Scanner;
  private readonly custom: CustomStage | null;

  constructor(session: Session, parts: EngineParts) {
    const emit = (s: string) => this.out.push(s);
    const found = (rule: string, key: string) => {
      const placeholder = session.placeholder(rule, key);
      this.findings.push({ rule, placeholder });
      return placeholder;
    };
    this.custom = parts.custom.length ? new CustomStage(parts.custom, parts.allow, { raw: emit, secret: (r, k) => emit(found(r, k)) }) : null;
    const next: Sink = this.custom
      ? { raw: (s) => this.custom!.push(s), secret: (r, k) => this.custom!.opaque(found(r, k)) }
      : { raw: emit, secret: (r, k) => emit(found(r, k)) };
    this.scanner = new Scanner(parts.catalog, next, parts.allow);
  }

  get held(): number {
    return this.scanner.held + (this.custom?.held ?? 0);
  }

  push(text: string): string {
    this.scanner.push(text);
    return this.take();
  }

  flush(): string {
    this.scanner.flush();
    this.custom?.flush();
    return this.take();
  }

  /** The whole remaining input at once: push(text) + flush() without holding anything. */
  end(text: string): string {
    this.scanner.end(text);
    this.custom?.flush();
    return this.take();
  }

  private take(): string {
    if (this.out.length === 0) return '';
    const s = this.out.length === 1 ? this.out[0]! : this.out.join('');
    this.out = [];
    return s;
  }
}

// Reads a YAML policy and validates it; every error names the key path and the line.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { type ZodType } from 'zod';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | null {
  // Walk down as far as the path exists; report the deepest node we reach (the key's own line).
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n) as (string | number)[];
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node) && node.range) {
      if (n > 0) {
        // Prefer the key's position for map entries.
        const parent = n === 1 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
        const pair = (parent as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | undefined)?.items?.find(
          (it) => it.key && (it.key as { value?: unknown }).value === sub[sub.length - 1],
        );
        const r = pair?.key?.range ?? node.range;
        return lc.linePos(r[0]).line;
      }
      return lc.linePos(node.range[0]).line;
    }
  }
  return null;
}

/** Every problem of `text` against `schema`, as "source:line: key: message" lines (empty when valid). */
export function yamlProblems<T>(text: string, schema: ZodType<T>, source: string): { value: T | null; problems: string[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      value: null,
      problems: doc.errors.map((e) => `${source}:${e.pos ? lc.linePos(e.pos[0]).line : '?'}: invalid YAML: ${e.message.split('\n')[0]}`),
    };
  }
  const data: unknown = doc.toJS() ?? {};
  const res = schema.safeParse(data);
  if (res.success) return { value: res.data, problems: [] };
  const problems = res.error.issues.map((issue) => {
    let path = issue.path;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      path = [...path, issue.keys[0]!];
      message = `unknown key "${issue.keys[0]}"`;
    }
    const key = path.length ? path.map(String).join('.') : '(top level)';
    return `${source}:${lineOf(doc, lc, path) ?? '?'}: ${key}: ${message}`;
  });
  return { value: null, problems };
}

/** Parses `text` as YAML and validates it with `schema`; throws ConfigError "file:line: key: message". */
export function parseYamlWith<T>(text: string, schema: ZodType<T>, source: string): T {
  const { value, problems } = yamlProblems(text, schema, source);
  if (problems.length) throw new ConfigError(problems[0]!);
  return value as T;
}

export function loadYamlFile<T>(file: string, schema: ZodType<T>): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseYamlWith(text, schema, file);
}

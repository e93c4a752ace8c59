// Prompt regexes run on RE2JS, a pure-JavaScript port of RE2: matching time is linear in the input
// for every pattern, so a policy author cannot write a catastrophic (ReDoS) pattern at all. Patterns
// RE2 cannot run in linear time (backreferences, lookaround, possessive/atomic groups) and
// repetitions that blow up the compiled program are refused at load with RE2's own message.
// Why not the `re2` native binding: it needs node-gyp at install on every user's Node version;
// RE2JS has no dependencies and no build step, and measures ~5 MB/s per pattern here, which is
// enough for prompts bounded by the proxy's request body limit.
import { RE2JS } from 're2js';

export interface PromptRegex {
  source: string;
  test(text: string): boolean;
}

/** Compiles a case-insensitive prompt pattern; throws an Error whose message says why it is refused. */
export function compilePromptRegex(source: string): PromptRegex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    const msg = (err as Error).message.replace(/^error parsing regexp:\s*/, '');
    throw new Error(`regex refused (only linear-time RE2 syntax is accepted: no backreferences, lookaround or nested repeats over 1000): ${msg}`);
  }
  return { source, test: (text) => re.matcher(text).find() };
}

/** Null when the pattern compiles, else the refusal message. */
export function regexProblem(source: string): string | null {
  try {
    compilePromptRegex(source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

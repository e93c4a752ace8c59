// Names of wiretrail credentials: checked where they are created, escaped where they are printed.
// A name ends up in `tokens list`, log lines and records; a control character (ESC sequences, CR,
// bidi overrides) could rewrite what an operator sees in a terminal.
import { ExchangeError } from './authenticator.js';

export const MAX_NAME_CHARS = 128;

// C0 and C1 controls, DEL, line/paragraph separators, bidi embeddings/overrides/isolates, BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/** The name of an exchanged credential: a requested name is refused when unsafe; the subject default is cleaned. */
export function exchangedCredentialName(requested: string | undefined, subject: string | null): string {
  if (requested !== undefined) {
    if (requested.trim() === '') throw new ExchangeError('name must not be empty', 400);
    if (requested.search(UNSAFE) >= 0) throw new ExchangeError('name must not contain control or bidirectional-override characters', 400);
    if ([...requested].length > MAX_NAME_CHARS) throw new ExchangeError(`name: at most ${MAX_NAME_CHARS} characters`, 400);
    return requested;
  }
  const cleaned = [...(subject ?? '').replace(UNSAFE, '')].slice(0, MAX_NAME_CHARS).join('').trim();
  return cleaned || 'oidc';
}

/** A value as it may be printed on a terminal: unsafe characters become visible \u escapes. */
export function printable(value: string): string {
  return value.replace(UNSAFE, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

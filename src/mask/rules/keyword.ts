// Keyword-anchored assignments: NAME <op> VALUE in .env, shell, YAML, JSON (also escaped inside
// a JSON string), TOML, code, XML and CLI flags. One parse per trigger position; the catalog's
// keyword rules then judge the name and the value, specific ones first, generic ones last.
// These rules, unlike prefix rules, leave documented example values alone (EXAMPLE, xxxx,
// your-key-here, ${VAR}, <placeholder>, …).
import {
  classCount,
  cls,
  distinct,
  entropy,
  hasExampleMarker,
  isDigit,
  isLower,
  isPlaceholderWord,
  isSpace,
  isUpper,
  looksFiller,
  looksLikeName,
  looksLikeIdentifier,
  looksLikeReference,
  looksLikeWords,
  randomBody,
  type CharTest,
} from '../chars.js';
import { MAX_SWALLOW, MORE, NO, type Rule, type ScanView, type TriggerSpec, type Verdict } from '../rule.js';

/** Values are judged on at most this many characters; longer ones commit and swallow the rest. */
export const VALUE_COMMIT = 100;
const NAME_BACK = 48;
const NAME_FWD = 64;

export type NameClass = 'password' | 'secret' | 'token' | 'key';

export interface Assignment {
  /** Lower-cased name without separators ("awssecretaccesskey"). */
  norm: string;
  /** Lower-cased segments ("aws", "secret", "access", "key"). */
  segs: string[];
  cls: NameClass | null;
  value: string;
  /** False when the value reached VALUE_COMMIT characters and was cut there. */
  complete: boolean;
  quoted: boolean;
  /** Quoted, and the input ended before the closing quote. */
  truncated: boolean;
  /** Unquoted identifier followed by code punctuation: a variable, not a value. */
  codeNext: boolean;
  /** "password is …" in prose rather than an assignment. */
  prose: boolean;
}

export interface KeywordRuleSpec {
  name: string;
  description: string;
  test(a: Assignment): boolean;
}

const identChar = cls('A-Za-z0-9_.-');
const identBack = cls('A-Za-z0-9_.-');
// value characters: quoted values stop at any quote, backslash or whitespace; unquoted ones also
// at separators of the surrounding syntax
const quotedValue: CharTest = (c) => c > 32 && c !== 34 && c !== 39 && c !== 96 && c !== 92 && c !== 127;
const unquotedValue: CharTest = (c) =>
  c > 32 && c !== 34 && c !== 39 && c !== 96 && c !== 92 && c !== 127 && c !== 44 && c !== 59 && c !== 38 &&
  c !== 40 && c !== 41 && c !== 123 && c !== 125 && c !== 91 && c !== 93 && c !== 60 && c !== 62 && c !== 124;

/** Splits an identifier into lower-case segments at separators and camelCase steps. */
export function segments(name: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isUpper(c) && !isLower(c) && !isDigit(c)) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    if (cur && isUpper(c)) {
      const p = name.charCodeAt(i - 1);
      const next = i + 1 < name.length ? name.charCodeAt(i + 1) : 0;
      // aB → a|B; ABc → A|Bc
      if (isLower(p) || isDigit(p) || (isUpper(p) && isLower(next))) {
        out.push(cur);
        cur = '';
      }
    }
    cur += isUpper(c) ? String.fromCharCode(c + 32) : name[i];
  }
  if (cur) out.push(cur);
  return out;
}

const KEY_NOT_SECRET = new Set([
  'public', 'primary', 'foreign', 'sort', 'partition', 'cache', 'lookup', 'map', 'row', 'dict', 'object', 'group',
  'unique', 'composite', 'idempotency', 'routing', 'shard', 'index', 'hash', 'range', 'partitioning', 'search',
  'storage', 'translation', 'i18n', 'message', 'react', 'list', 'item', 'dedup', 'dedupe', 'natural', 'surrogate',
  'registry', 'press', 'short', 'hot', 'sign', 'ssh', 'gpg', 'pub', 'state', 'query', 'cursor', 'hotkey', 'config',
]);

export function classify(segs: string[]): NameClass | null {
  const words = [...segs];
  while (words.length && /^\d+$/.test(words[words.length - 1]!)) words.pop();
  const last = words[words.length - 1]?.replace(/\d+$/, '');
  if (!last) return null;
  if (/^(?:password|passwd|passphrase|pwd|pass|pw|passwort|contrasena|senha|motdepasse)$/.test(last) || /(?:password|passwd)$/.test(last)) return 'password';
  if (/secret$/.test(last) || /^(?:credentials?|creds)$/.test(last)) return 'secret';
  if (last === 'auth' && words.length <= 2) return 'secret';
  if (/token$/.test(last) || last === 'authorization') return 'token';
  if (/(?:apikey|secretkey|accesskey|privatekey|masterkey|signingkey|licensekey|encryptionkey)$/.test(last)) return 'key';
  // an Azure storage account key is a credential, a browser storage key is not
  if (last === 'key' && words.length >= 2 && (!KEY_NOT_SECRET.has(words[words.length - 2]!) || words.includes('azure') || words.includes('account'))) return 'key';
  if (last === 'accountkey') return 'key';
  // Terraform's TF_TOKEN_<host> credential variables
  if (words[0] === 'tf' && words[1] === 'token') return 'token';
  return null;
}

/** Skips an optional quote, escaped any number of times (\", \\\"); -1 when the text ends first. */
function skipQuote(text: string, i: number): number {
  let j = i;
  while (j < text.length && text[j] === '\\') j++;
  if (j === text.length) return j > i ? -1 : i;
  const q = text[j];
  return q === '"' || q === "'" || q === '`' ? j + 1 : i;
}

const REFERENCES = [
  'process.env', 'import.meta.env', 'os.environ', 'os.getenv', 'System.getenv', 'Deno.env', 'Bun.env', 'ENV[', 'ENV.fetch',
  'env(', 'getenv(', 'env.', 'config.', 'settings.', 'self.', 'this.', 'cfg.', 'options.', 'opts.', 'args.', 'props.', 'secrets.',
  'vars.', '${', '$(', '{{', '<%', '%(',
];

const CODE_NEXT = new Set([',', ';', ')', '}', ']', '[', '?', '|', '&', '+', '*', '/', '.', '=', '<', '>', '!', ':', '(']);

type Parsed = { t: 'no' } | { t: 'more' } | { t: 'ok'; a: Assignment; vs: number; ve: number; test: CharTest };

/** Parses NAME <op> VALUE around trigger position c. */
export function parseAssignment(view: ScanView, c: number): Parsed {
  const { text, final } = view;
  const n = text.length;
  const NO_: Parsed = { t: 'no' };
  const more = (): Parsed => (final ? NO_ : { t: 'more' });
  let s = c;
  // back to the start of the name, not into an escape before it ("…\\nTF_TOKEN_x=…")
  while (s > 0 && c - s < NAME_BACK && identBack(text.charCodeAt(s - 1)) && !(s >= 2 && text[s - 2] === '\\' && 'nrt'.includes(text[s - 1]!))) s--;
  let e = c;
  while (e < n && e - c < NAME_FWD && identChar(text.charCodeAt(e))) e++;
  if (e === n) return more();
  if (e - c >= NAME_FWD) return NO_;
  const name = text.slice(s, e);
  const flag = name.startsWith('-');
  const xml = s > 0 && text[s - 1] === '<';
  // closing quote / bracket of the name, then the operator
  let i = skipQuote(text, e);
  if (i < 0 || i === n) return more();
  const nameQuoted = i > e;
  if (text[i] === ']') i++;
  let ws = 0;
  while (i < n && (text[i] === ' ' || text[i] === '\t')) i++, ws++;
  if (i === n) return more();
  const op = readOperator(text, i, { ws, xml, flag, nameQuoted, final, name });
  if (op.t === 'no') return NO_;
  if (op.t === 'more') return more();
  const prose = op.prose;
  i = op.end;
  // XML elements may put the value on its own line
  while (i < n && (text[i] === ' ' || text[i] === '\t' || (op.op === '>' && (text[i] === '\n' || text[i] === '\r')))) i++;
  // … also written as \n escapes inside a JSON string
  if (op.op === '>') i = skipBlank(text, i);
  if (i < 0) return more();
  if (i === n) return more();
  const segs = segments(name);
  const nameCls = classify(segs);
  const vs0 = i;
  const vs = skipQuote(text, i);
  if (vs < 0 || vs === n) return more();
  const quoted = vs !== vs0;
  if (!quoted) {
    // code that reads the value from elsewhere (process.env.X, os.environ[…], ${VAR}): decided
    // as soon as the reference is recognisable, not at the end of the value
    for (const r of REFERENCES) {
      const k = Math.min(r.length, n - vs);
      if (text.startsWith(r.slice(0, k), vs)) {
        if (k === r.length) return NO_;
        if (!final) return { t: 'more' };
      }
    }
  }
  // a value of a known format gets its own rule (OPENAI_API_KEY=sk-…, private_key: "-----BEGIN …"),
  // decided here so a strong prefix commits without waiting for the end of the value
  const inner = view.prefixAt(vs);
  if (inner.t === 'more') return { t: 'more' };
  if (inner.t === 'hit') return NO_;
  if (op.op === ',' && !quoted) return NO_; // setenv("NAME", "value"): only a quoted argument
  const test = quoted ? quotedValue : lineValue(text, s, e, op.op, vs) ? envValue : unquotedValue;
  let j = vs;
  while (j < n && j - vs < VALUE_COMMIT && test(text.charCodeAt(j))) j++;
  const complete = j - vs < VALUE_COMMIT;
  if (complete && j === n && !final) return { t: 'more' };
  if (xml && op.op === '>') {
    // <password>value</password>, the value possibly on a line of its own
    const k = skipBlank(text, j);
    if (complete && (k < 0 || k + 1 >= n)) return more();
    if (complete && (text[k] !== '<' || text[k + 1] !== '/')) return NO_;
  }
  if (complete && j < n) {
    const end = text[j]!;
    if (quoted && end !== '"' && end !== "'" && end !== '`' && end !== '\\') return NO_;
    if (!quoted && end === '(') return NO_;
  }
  // a quoted value cut off by the end of the input (the stream ended in an error)
  const truncated = complete && quoted && j === n;
  // in prose a sentence's full stop is not part of the value; nor is a line's trailing ; or ,
  if (prose && complete && j > vs && text[j - 1] === '.') j--;
  if (test === envValue && complete && j > vs && (text[j - 1] === ';' || text[j - 1] === ',')) j--;
  const value = text.slice(vs, j);
  // an unquoted identifier followed by code (`apiKey: tokenProvider ?? key,`) is a variable
  let codeNext = false;
  if (!quoted && !prose && complete && test !== envValue && op.op !== '>' && looksLikeIdentifier(value.startsWith('!') ? value.slice(1) : value)) {
    let k = j;
    while (k < n && (text[k] === ' ' || text[k] === '\t')) k++;
    if (k === n && !final) return { t: 'more' };
    codeNext = k < n && CODE_NEXT.has(text[k]!);
  }
  const a: Assignment = { norm: segs.join(''), segs, cls: nameCls ?? (name === '-p' && loginCommand(text, s) ? 'password' : null), value, complete, quoted, truncated, codeNext, prose };
  return { t: 'ok', a, vs, ve: j, test };
}

type Op = { t: 'no' } | { t: 'more' } | { t: 'ok'; op: string; end: number; prose: boolean };

/**
 * The assignment operator at text[i] (gitleaks' operator set: = : := ::= :::= ?= ??= ||= += .=
 * => , and >): `,` only after a quoted name (setenv("NAME", "value")), whitespace only after a
 * CLI flag, "is"/"was" only in prose about a password or secret, a type between name and `=`
 * (var token string = "…", val key: String = "…").
 */
function readOperator(text: string, i: number, o: { ws: number; xml: boolean; flag: boolean; nameQuoted: boolean; final: boolean; name: string }): Op {
  const n = text.length;
  const MORE_: Op = o.final ? { t: 'no' } : { t: 'more' };
  const ok = (op: string, end: number): Op => ({ t: 'ok', op, end, prose: false });
  const ch = text[i]!;
  if (o.flag && o.ws > 0) return ok(' ', i); // "--password hunter2": whitespace is the operator
  if (o.ws > 0 && (ch === 'i' || ch === 'w')) {
    // prose: "my password is hunter2", "the secret was Xy7…" (password and secret names only)
    const word = ch === 'i' ? 'is ' : 'was ';
    const k = Math.min(word.length, n - i);
    if (!text.startsWith(word.slice(0, k), i)) return typedDeclaration(text, i, o);
    if (k < word.length) return MORE_;
    const c0 = classify(segments(o.name));
    if (c0 !== 'password' && c0 !== 'secret') return { t: 'no' };
    return { t: 'ok', op: word, end: i + word.length, prose: true };
  }
  if (ch === ':') {
    let k = i;
    while (k < n && text[k] === ':' && k - i < 3) k++;
    if (k === n) return MORE_;
    if (text[k] === '=') return ok(':=', k + 1);
    if (k - i > 1) return { t: 'no' }; // Foo::Bar
    return skipType(text, k, ok(':', k), MORE_);
  }
  if (ch === '=') {
    let k = i;
    while (k < n && text[k] === '=' && k - i < 3) k++;
    if (k === n) return MORE_;
    return text[k] === '>' ? ok('=>', k + 1) : ok('=', k);
  }
  if (ch === '?' || ch === '.' || ch === '|' || ch === '+') {
    // ?= ??= .= ||= +=
    const two = ch === '?' || ch === '|';
    let k = i + 1;
    if (two && k < n && text[k] === ch) k++;
    if (k >= n) return MORE_;
    if (text[k] !== '=') return { t: 'no' };
    if (k + 1 >= n) return MORE_;
    if (text[k + 1] === '=') return { t: 'no' }; // comparison
    return ok(ch + '=', k + 1);
  }
  if (ch === ',' && o.nameQuoted) return ok(',', i + 1);
  if (ch === '>' && o.xml) return ok('>', i + 1);
  return typedDeclaration(text, i, o);
}

/** Declared types of a string variable: Go, Rust, Kotlin/Java, TypeScript, Python, C#. */
const TYPES = ['string', 'String', 'str', '&str', "&'static str", '[]byte', 'SecretStr', 'Option<String>', 'text'];

/** `name Type = value`: a declared type between the name and `=` (var token string = "…"). */
function typedDeclaration(text: string, i: number, o: { ws: number; final: boolean }): Op {
  if (o.ws === 0) return { t: 'no' };
  return typeThenEquals(text, i, { t: 'no' }, o.final);
}

/** After `name:`, an optional type annotation before `=` (val key: String = "…"). */
function skipType(text: string, k: number, plain: Op, more: Op): Op {
  let j = k;
  while (j < text.length && text[j] === ' ') j++;
  if (j === text.length) return more;
  return typeThenEquals(text, j, plain, more.t === 'no');
}

/** A type word from TYPES at i, then `=`: the operator ends after `=`; otherwise `fallback`. */
function typeThenEquals(text: string, i: number, fallback: Op, final: boolean): Op {
  const n = text.length;
  const more: Op = final ? fallback : { t: 'more' };
  // decided as soon as the word can no longer be a type, so plain text is not held
  let k = i;
  while (k < n && k - i < 16 && !isSpace(text.charCodeAt(k)) && text[k] !== '=') {
    k++;
    const w = text.slice(i, k);
    if (!TYPES.some((ty) => ty.startsWith(w))) return fallback;
  }
  if (k === n) return more;
  if (!TYPES.includes(text.slice(i, k))) return fallback;
  while (k < n && (text[k] === ' ' || text[k] === '\t')) k++;
  if (k + 1 >= n) return more;
  if (text[k] !== '=' || text[k + 1] === '=' || text[k + 1] === '>') return fallback;
  return { t: 'ok', op: '=', end: k + 1, prose: false };
}

/** Whitespace, raw or as JSON escapes (\n, \r, \t); -1 when an escape is cut off by the end. */
function skipBlank(text: string, i: number): number {
  for (;;) {
    if (i < text.length && isSpace(text.charCodeAt(i))) i++;
    else {
      // \n, or \\n when the JSON string is itself inside a JSON string
      let k = i;
      while (k < text.length && k - i < 4 && text[k] === '\\') k++;
      if (k > i && k >= text.length) return -1; // cut off: the caller waits
      if (k === i || !'nrt'.includes(text[k]!)) return i;
      i = k + 1;
    }
  }
}

/** The whole rest of a line is the value: NAME=value in .env / shell, KEY: value in YAML. */
const envValue: CharTest = (c) => c > 32 && c !== 34 && c !== 39 && c !== 96 && c !== 92 && c !== 127;

/**
 * Whether the value runs to the end of the line: an env-style NAME=value (.env, shell, properties)
 * or a YAML `key: value`, the name starting a line (after indentation, `export `, `- `, or an
 * escaped \n). Minified code (`getKey:e.key||null,…`) is neither.
 */
function lineValue(text: string, s: number, e: number, op: string, vs: number): boolean {
  if (op === ':') {
    if (text[e] !== ':' || (text[e + 1] !== ' ' && text[e + 1] !== '\t')) return false;
  } else if (op === '=') {
    if (!/^[A-Za-z][A-Za-z0-9]*(?:[_.-][A-Za-z0-9]+)+$|^[A-Z][A-Z0-9]*$/.test(text.slice(s, e)) || text[vs - 1] !== '=') return false;
  } else return false;
  let k = s;
  if (k >= 7 && text.startsWith('export ', k - 7)) k -= 7;
  while (k > 0 && (text[k - 1] === ' ' || text[k - 1] === '\t')) k--;
  if (k >= 2 && text[k - 1] === '-' ) k -= 1;
  while (k > 0 && (text[k - 1] === ' ' || text[k - 1] === '\t')) k--;
  if (k === 0 || text[k - 1] === '\n' || text[k - 1] === '\r') return true;
  return k >= 2 && text[k - 2] === '\\' && text[k - 1] === 'n';
}

/** `-p` is a password flag on a registry login command line (docker/podman/helm … login -p). */
function loginCommand(text: string, s: number): boolean {
  const line = text.slice(Math.max(0, text.lastIndexOf('\n', s) + 1), s);
  return /\b(?:docker|podman|nerdctl|buildah|skopeo|helm(?: registry)?|oras|crane)\s+login\b/.test(line);
}

// ---- value judgements -------------------------------------------------------------------------

function common(a: Assignment): boolean {
  const v = a.value;
  if (hasExampleMarker(v) || isPlaceholderWord(v) || /^(.)\1*$/.test(v) || /[[\]]/.test(v)) return false;
  if (/^\(.*\)$/.test(v)) return false; // (hidden), (optional)
  if (!a.quoted && (looksLikeReference(v) || a.codeNext)) return false;
  // file paths (PWD=/home/me) and URLs (the URL rule looks inside them)
  if (looksLikePath(v) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return false;
  return true;
}

/** /home/me/.ssh, ./certs/key.pem — but not base64 that happens to start with a slash. */
function looksLikePath(v: string): boolean {
  if (!/^(?:~|\.{1,2})?\/[\w.@+-]+(?:\/[\w.@+-]*)*$/.test(v)) return false;
  return v.split('/').every((seg) => seg.length < 16 || looksLikeName(seg) || looksLikeIdentifier(seg));
}

function symbolCount(v: string): number {
  let k = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!isUpper(c) && !isLower(c) && !isDigit(c)) k++;
  }
  return k;
}

export function passwordValue(a: Assignment): boolean {
  const v = a.value;
  if (v.length < 6 || !common(a)) return false;
  if (/^[a-z]+(?:[-_][a-z]+)*$/.test(v) && (v.length < 12 || a.prose)) return false;
  if (a.prose && classCount(v) + (symbolCount(v) > 0 ? 1 : 0) < 2) return false;
  if (/^\d+$/.test(v) && v.length < 8) return false;
  return classCount(v) + (symbolCount(v) > 0 ? 1 : 0) >= 2 || v.length >= 12;
}

export function tokenValue(a: Assignment): boolean {
  const v = a.value;
  if (v.length < 12 || !common(a)) return false;
  if (classCount(v) < 2 || looksFiller(v) || looksLikeName(v) || looksLikeWords(v)) return false;
  return distinct(v) >= Math.min(10, v.length / 2) && entropy(v) >= 3;
}

const exact = (re: RegExp) => (a: Assignment) => a.complete && re.test(a.value) && common(a) && randomBody(a.value, 1);
const has = (a: Assignment, ...words: string[]) => words.some((w) => a.norm.includes(w));

export const KEYWORD_SPECS: KeywordRuleSpec[] = [
  {
    name: 'aws-secret-access-key',
    description: 'AWS secret access key (40 chars) after an aws_secret_access_key-like name; EXAMPLE values left alone',
    test: (a) => (has(a, 'secretaccesskey', 'awssecret') || (has(a, 'aws') && a.cls !== null)) && exact(/^[A-Za-z0-9/+]{40}$/)(a),
  },
  {
    name: 'aws-session-token',
    description: 'AWS session / security token after an aws_session_token-like name',
    test: (a) => has(a, 'sessiontoken', 'securitytoken') && /^[A-Za-z0-9/+=]+$/.test(a.value) && (a.value.length >= 100 || !a.complete) && common(a),
  },
  {
    name: 'azure-openai-api-key',
    description: 'Azure OpenAI / Cognitive Services key (32 hex or 84 chars) after api-key, AZURE_OPENAI_API_KEY, Ocp-Apim-Subscription-Key, …',
    test: (a) =>
      (has(a, 'azure', 'cognitive', 'ocpapim', 'openai') || a.norm === 'apikey' || a.norm === 'xapikey') &&
      a.cls !== null &&
      exact(/^(?:[a-fA-F0-9]{32}|[A-Za-z0-9]{84})$/)(a),
  },
  {
    name: 'azure-ad-client-secret',
    description: 'Microsoft Entra ID (Azure AD) application client secret (…Q~…)',
    test: (a) => a.cls !== null && exact(/^[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}$/)(a),
  },
  {
    name: 'gcp-service-account-key-id',
    description: 'GCP service-account JSON private_key_id (40 hex)',
    test: (a) => a.norm.endsWith('privatekeyid') && exact(/^[a-f0-9]{40}$/)(a),
  },
  {
    name: 'heroku-api-key',
    description: 'Heroku API key (UUID) after a HEROKU_API_KEY-like name',
    test: (a) => has(a, 'heroku') && exact(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)(a),
  },
  {
    name: 'cloudflare-api-token',
    description: 'Cloudflare API token (40 chars) or global API key (37 hex) after a cloudflare-like name',
    test: (a) => (has(a, 'cloudflare') || /^cf(?:api|apikey|apitoken|token|key)/.test(a.norm)) && exact(/^(?:[A-Za-z0-9_-]{40}|[a-f0-9]{37})$/)(a),
  },
  {
    name: 'datadog-api-key',
    description: 'Datadog API key (32 hex) or application key (40 hex) after a datadog / DD_ name',
    test: (a) => (has(a, 'datadog') || /^dd(?:api|app|application)/.test(a.norm)) && exact(/^(?:[a-f0-9]{32}|[a-f0-9]{40})$/)(a),
  },
  {
    name: 'twilio-auth-token',
    description: 'Twilio auth token (32 hex) after a twilio name',
    test: (a) => has(a, 'twilio') && exact(/^[a-f0-9]{32}$/)(a),
  },
  {
    name: 'mailchimp-api-key',
    description: 'Mailchimp API key (32 hex + data centre, …-us21)',
    test: (a) => exact(/^[a-f0-9]{32}-us\d{1,2}$/)(a),
  },
  {
    name: 'telegram-bot-token',
    description: 'Telegram bot token (123456789:AA…)',
    test: (a) => (has(a, 'telegram', 'bottoken', 'tgtoken') || a.cls !== null) && exact(/^\d{8,10}:[A-Za-z0-9_-]{35}$/)(a),
  },
  {
    name: 'discord-bot-token',
    description: 'Discord bot token (three dot-separated base64url parts) after a discord name',
    test: (a) => has(a, 'discord') && exact(/^[A-Za-z0-9_-]{24,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}$/)(a),
  },
  {
    name: 'okta-api-token',
    description: 'Okta API token (00 + 40 chars) after an okta name',
    test: (a) => has(a, 'okta') && exact(/^00[A-Za-z0-9_-]{40}$/)(a),
  },
  {
    name: 'algolia-admin-key',
    description: 'Algolia admin / API key (32 hex) after an algolia name',
    test: (a) => has(a, 'algolia') && exact(/^[a-f0-9]{32}$/)(a),
  },
  {
    name: 'generic-password',
    description: 'Value assigned to a password-like name (password, passwd, pwd, DB_PASS, --password …)',
    test: (a) => a.cls === 'password' && (passwordValue(a) || (!a.complete && common(a))),
  },
  {
    name: 'generic-secret',
    description: 'High-entropy value assigned to a secret-like name (client_secret, JWT_SECRET, credentials, auth …)',
    test: (a) => a.cls === 'secret' && tokenValue(a),
  },
  {
    name: 'generic-token',
    description: 'High-entropy value assigned to a token-like name (access_token, authToken, Authorization …)',
    test: (a) => a.cls === 'token' && tokenValue(a),
  },
  {
    name: 'generic-api-key',
    description: 'High-entropy value assigned to a key-like name (API_KEY, apiKey, x-api-key, SECRET_KEY, private_key …)',
    test: (a) => a.cls === 'key' && tokenValue(a),
  },
];

// Keywords start an identifier segment (DB_PASSWORD, dbPassword, x-api-key); common compounds
// written without a separator are listed as literals of their own.
const KEYWORD_TRIGGERS: TriggerSpec[] = [
  'password', 'passwd', 'passphrase', 'passwort', 'pwd', 'pass', 'pw', 'secret', 'credential', 'creds', 'token', 'key', 'auth',
  'apikey', 'accesskey', 'secretkey', 'privatekey', 'signingkey', 'masterkey', 'encryptionkey',
  'authtoken', 'accesstoken', 'refreshtoken', 'idtoken', 'apitoken', 'bottoken', 'sessiontoken', 'securitytoken',
  'clientsecret', 'appsecret', 'jwtsecret', 'accountkey', 'dbpassword', 'rootpassword', 'adminpassword', 'dbpass',
].map((lit): TriggerSpec => ({ lit, ci: true, boundary: 'segment' }));
// docker login -u ci -p <password>
KEYWORD_TRIGGERS.push({ lit: '-p ', boundary: (text, c) => c > 0 && (text[c - 1] === ' ' || text[c - 1] === '\t') });

export const keywordRule: Rule = {
  name: 'keyword-assignment',
  description: 'Keyword-anchored assignments',
  family: 'keyword',
  triggers: KEYWORD_TRIGGERS,
  match(view, c): Verdict {
    const p = parseAssignment(view, c);
    if (p.t === 'no') return NO;
    if (p.t === 'more') return MORE;
    const { a, vs, ve, test } = p;
    let spec = KEYWORD_SPECS.find((k) => k.test(a));
    if (!spec && a.truncated && a.cls && a.value.length >= 4 && common(a)) spec = KEYWORD_SPECS.find((k) => k.name === `generic-${a.cls === 'key' ? 'api-key' : a.cls}`);
    if (!spec) return NO;
    if (!a.complete) return { t: 'hit', rule: spec.name, start: vs, end: ve, key: a.value, swallow: { kind: 'class', test, left: MAX_SWALLOW } };
    return { t: 'hit', rule: spec.name, start: vs, end: ve, key: a.value };
  },
};

// Passwords in URLs: scheme://user:password@host. Only the password is masked; database schemes
// get their own rule name. The scheme is read from the context before "://".
import { hasExampleMarker, isPlaceholderWord } from '../chars.js';
import { MORE, NO, type Rule, type Verdict } from '../rule.js';

const DB_SCHEMES = new Set([
  'postgres', 'postgresql', 'mysql', 'mariadb', 'mongodb', 'mongodb+srv', 'redis', 'rediss', 'amqp', 'amqps',
  'mssql', 'sqlserver', 'oracle', 'cockroachdb', 'clickhouse', 'neo4j', 'neo4j+s', 'bolt', 'couchdb',
  'cassandra', 'memcached', 'db2', 'snowflake', 'influxdb', 'elasticsearch', 'nats', 'kafka', 'mqtt', 'postgis',
]);

const userChar = (c: number) => c > 32 && c !== 58 && c !== 47 && c !== 63 && c !== 35 && c !== 64 && c !== 34 && c !== 39 && c !== 96 && c !== 60 && c !== 62 && c !== 92 && c !== 127;
const passChar = (c: number) => c > 32 && c !== 47 && c !== 63 && c !== 35 && c !== 64 && c !== 34 && c !== 39 && c !== 96 && c !== 60 && c !== 62 && c !== 92 && c !== 127;
const hostStart = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 91;
const schemeChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 45 || c === 46;

const TEMPLATE = /^[{<$%:]|[{}<>]|\$\{|%s|%\(|^\*+$/;

export const urlRule: Rule = {
  name: 'url-credentials',
  description: 'Password in a URL (https://user:password@host)',
  family: 'prefix',
  triggers: [{ lit: '://', boundary: 'none' }],
  match(view, c): Verdict {
    const { text, final } = view;
    const n = text.length;
    const more = () => (final ? NO : MORE);
    let s = c;
    while (s > 0 && c - s < 32 && schemeChar(text.charCodeAt(s - 1))) s--;
    const scheme = text.slice(s, c).toLowerCase().replace(/^[^a-z]+/, '');
    if (!scheme) return NO;
    let i = c + 3;
    while (i < n && i - c <= 131 && userChar(text.charCodeAt(i))) i++;
    if (i === n) return more();
    if (text[i] !== ':') return NO;
    const ps = i + 1;
    let j = ps;
    while (j < n && j - ps <= 256 && passChar(text.charCodeAt(j))) j++;
    if (j === n) {
      if (!final) return MORE;
      // user:pass cut off by the end of the input (not host:port)
      const cut = text.slice(ps, j);
      const ok = i > c + 3 && cut.length >= 4 && !/^\d+$/.test(cut) && !TEMPLATE.test(cut) && !isPlaceholderWord(cut) && !hasExampleMarker(cut);
      return ok ? { t: 'hit', rule: DB_SCHEMES.has(scheme) ? 'database-url-password' : 'url-credentials', start: ps, end: j, key: cut } : NO;
    }
    if (text[j] !== '@' || j === ps || j - ps > 256) return NO;
    if (j + 1 === n) return more();
    if (!hostStart(text.charCodeAt(j + 1))) return NO;
    const pw = text.slice(ps, j);
    // documentation passwords such as https://abc:xyz@example.com are too short to matter
    if (pw.length < 4 || TEMPLATE.test(pw) || isPlaceholderWord(pw) || hasExampleMarker(pw)) return NO;
    const rule = DB_SCHEMES.has(scheme) || scheme.startsWith('jdbc') ? 'database-url-password' : 'url-credentials';
    return { t: 'hit', rule, start: ps, end: j, key: pw };
  },
};

export const URL_ENTRIES = [
  { name: 'database-url-password', description: 'Password in a database URL (postgres://, mysql://, mongodb+srv://, redis://, amqp://, …)' },
  { name: 'url-credentials', description: urlRule.description },
];

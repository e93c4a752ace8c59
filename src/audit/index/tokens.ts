// Words for the full-text index. Why words and not trigrams: an agent's prompt repeats the whole
// conversation with every request, and answers run to many kilobytes; trigrams would post one key
// per character position (hundreds of millions of keys at 3M records, at ingest speed), while
// distinct words per session are a few hundred to a few thousand and most repeat, so postings stay
// near the number of sessions times their vocabulary. The price: a search matches whole words
// (every word of the query must occur in the session), not arbitrary substrings.

/** Words shorter than this are not indexed (single letters and digits match nearly everything). */
export const MIN_WORD = 2;
/** Longer words are cut to this many characters, on both sides (index and query), so they still match. */
export const MAX_WORD = 40;
/** Text of one exchange beyond this many characters is not indexed (every buffer has a bound). */
export const MAX_TEXT_CHARS = 1 << 20;

// The most common English words (and chat-format filler) say nothing about a session and would be
// the longest posting lists: left out of the index and ignored in queries.
const STOP = new Set(
  'a an and are as at be but by for from has have he her his i if in into is it its me my no not of on or our she so that the their them then there these they this to was we were what when which who will with you your'.split(
    ' ',
  ),
);

const WORD = /[\p{L}\p{N}_]+/gu;

/** The indexable words of a text: lower-cased runs of letters, digits and '_', bounded, stop words left out. */
export function* words(text: string): Generator<string> {
  const s = text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
  for (const m of s.toLowerCase().matchAll(WORD)) {
    const w = m[0];
    if (w.length < MIN_WORD || STOP.has(w)) continue;
    yield w.length > MAX_WORD ? w.slice(0, MAX_WORD) : w;
  }
}

/** The distinct words of a search query (what the index can match), in order of first appearance. */
export function queryWords(q: string): string[] {
  return [...new Set(words(q))];
}

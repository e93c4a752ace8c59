// Stored value of a record (key r/<seq>): a 12-byte header, the record's canonical bytes, then the
// body. One LevelDB put per record keeps group commits cheap; retention rewrites old values without
// their body. The header's back pointer links a session's records for transcripts and export.
//   [0]     format (1)
//   [1]     flags: bit 0 = body present
//   [2..8)  previous seq of the same session + 1, 48-bit big-endian (0: first record of its session)
//   [8..12) record length, 32-bit big-endian
//   record bytes, then body bytes (when present)

export const VALUE_FORMAT = 1;
const HEADER = 12;
const FLAG_BODY = 1;

export interface DecodedValue {
  prev: number | null;
  record: Buffer;
  body: Buffer | null;
}

export function encodeValue(prev: number | null, record: Buffer, body: Uint8Array | undefined): Buffer {
  const out = Buffer.allocUnsafe(HEADER + record.length + (body?.byteLength ?? 0));
  out[0] = VALUE_FORMAT;
  out[1] = body ? FLAG_BODY : 0;
  out.writeUIntBE(prev === null ? 0 : prev + 1, 2, 6);
  out.writeUInt32BE(record.length, 8);
  record.copy(out, HEADER);
  if (body) out.set(body, HEADER + record.length);
  return out;
}

/** Throws when the value is not well-formed. */
export function decodeValue(v: Buffer): DecodedValue {
  if (v.length < HEADER || v[0] !== VALUE_FORMAT || (v[1]! & ~FLAG_BODY) !== 0) throw new Error('malformed record value');
  const len = v.readUInt32BE(8);
  if (HEADER + len > v.length) throw new Error('malformed record value');
  const p = v.readUIntBE(2, 6);
  const hasBody = (v[1]! & FLAG_BODY) !== 0;
  if (!hasBody && HEADER + len !== v.length) throw new Error('malformed record value');
  return {
    prev: p === 0 ? null : p - 1,
    record: v.subarray(HEADER, HEADER + len),
    body: hasBody ? v.subarray(HEADER + len) : null,
  };
}

/** The same value without its body (retention). */
export function stripBody(v: Buffer): Buffer {
  const len = v.readUInt32BE(8);
  const out = Buffer.from(v.subarray(0, HEADER + len));
  out[1] = 0;
  return out;
}

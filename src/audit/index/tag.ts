// Every index value starts with an 8-byte tag, the truncated SHA-256 of its key and payload, so
// verify catches a changed, truncated or misplaced index entry (a flipped byte in a key or value)
// without re-deriving the indexes. Indexes are search aids derived from the records, not evidence:
// the tag finds accidents and single-point edits, as the summaries' digest does; the records, their
// bodies and the checkpoints stay protected by hashes and signatures.
import { hash } from 'node:crypto';

const TAG = 8;

function tagOf(key: string, payload: Buffer): Buffer {
  return hash('sha256', Buffer.concat([Buffer.from(key, 'utf8'), Buffer.from([0]), payload]), 'buffer').subarray(0, TAG);
}

/** The stored value of an index entry. */
export function tagged(key: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([tagOf(key, payload), payload]);
}

/** The payload of a stored index value; null when its tag does not match (changed or misplaced). */
export function untag(key: string, value: Buffer): Buffer | null {
  if (value.length < TAG) return null;
  const payload = value.subarray(TAG);
  return tagOf(key, payload).equals(value.subarray(0, TAG)) ? payload : null;
}

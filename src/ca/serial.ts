// Certificate serial numbers: 128 CSPRNG bits, positive and minimally DER-encoded
// (first byte non-zero with its high bit cleared), as CA/B Forum BR 7.1 asks (>= 64 bits).
import { randomBytes } from 'node:crypto';

export const SERIAL_BYTES = 16;

export function randomSerialHex(): string {
  const b = randomBytes(SERIAL_BYTES);
  b[0] = b[0]! & 0x7f;
  // A zero first byte would make the INTEGER non-minimal; draw it again rather than bias it.
  while (b[0] === 0) b[0] = randomBytes(1)[0]! & 0x7f;
  return b.toString('hex');
}

// Ending a refusal sent while the client is still sending its body ("lingering close", as nginx and
// Apache do it). Closing a socket that has unread bytes in its receive buffer, or that gets more after
// the close, makes the kernel answer with a TCP reset; the client's stack then drops the response it had
// not read yet and reports ECONNRESET instead of our 503/413. So the response goes out at once (head and
// whole body, with Content-Length, so the client can read it while still writing), the rest of the
// request body is read and thrown away, and the response is ended — which lets the HTTP server close
// the connection — only once the body is over, or once the bounds below are reached: no refused client
// makes us read forever, and nothing read is held.
import type { ServerResponse } from 'node:http';

export interface LingerBounds {
  /** Longest time to keep reading after the response went out. */
  ms: number;
  /** Most body bytes read and discarded after the response went out. */
  bytes: number;
}

/** nginx's lingering_time is 30 s; a client still sending after 10 s has long been able to read the answer. */
export const LINGER: LingerBounds = { ms: 10_000, bytes: 64 * 1024 * 1024 };

/** Writes `body` now, discards what is left of the request body (bounded), then ends the response. */
export function endAfterRequestBody(res: ServerResponse, body: string, bounds: LingerBounds = LINGER): void {
  const req = res.req;
  res.write(body);
  if (!req || req.complete || req.destroyed) {
    res.end();
    return;
  }
  let discarded = 0;
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > bounds.bytes) finish();
  };
  const timer = setTimeout(finish, bounds.ms);
  timer.unref();
  function finish() {
    clearTimeout(timer);
    req!.off('data', onData);
    req!.off('end', finish);
    req!.off('close', finish);
    if (!res.writableEnded && !res.destroyed) res.end();
  }
  req.on('data', onData);
  req.once('end', finish);
  req.once('close', finish);
  req.resume();
}

// Blind tunnels (policy `tunnel`): dial the approved address and splice bytes both ways. Bytes are
// counted and logged, never read; recording is best effort (fail-closed applies to intercepted traffic).
import type net from 'node:net';
import type { JsonObject } from '../audit/types.js';
import { describeUpstreamError } from '../upstream/index.js';
import type { InterceptEnv } from './intercept.js';
import type { ConnContext } from './session.js';

/** Blind tunnel (policy `tunnel`): bytes are counted and logged, never read. */
export async function tunnel(env: InterceptEnv, ctx: ConnContext, socket: net.Socket, head: Buffer, meta: JsonObject): Promise<void> {
  const { deps, conns, limits } = env;
  let up: net.Socket;
  try {
    const r = await deps.upstream.connectRaw(ctx.target.host, ctx.target.port);
    up = r.socket;
    meta.address = r.resolved.address;
  } catch (err) {
    const ue = describeUpstreamError(err, ctx.target.host);
    await conns.refuse(ctx, { kind: 'raw', socket }, ue, { endsConnection: true, meta: { ...meta, phase: 'tunnel-connect' } });
    return;
  }
  // Tunnels are logged; recording is best effort (fail-closed applies to intercepted traffic).
  try {
    await conns.append(ctx, 'tunnel', { ...meta, phase: 'open' });
  } catch (err) {
    deps.logger.warn({ session: ctx.session, err: (err as Error).message }, 'tunnel not recorded');
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length) up.write(head);
  socket.setTimeout(limits.tunnelIdleTimeoutMs, () => socket.destroy());
  socket.pipe(up);
  up.pipe(socket);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    socket.destroy();
    up.destroy();
    ctx.bytesFromClient = up.bytesWritten;
    ctx.bytesToClient = up.bytesRead;
    try {
      await conns.append(ctx, 'tunnel', { phase: 'close', bytesUp: ctx.bytesFromClient, bytesDown: ctx.bytesToClient, durationMs: Date.now() - ctx.startedAt });
    } catch (err) {
      deps.logger.warn({ session: ctx.session, err: (err as Error).message }, 'tunnel close not recorded');
    }
    await conns.finish(ctx);
  };
  socket.on('close', close);
  up.on('close', close);
  up.on('error', (err) => {
    ctx.error = (err as NodeJS.ErrnoException).code ?? 'upstream-error';
  });
}

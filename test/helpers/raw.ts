// Raw-socket helpers for talking to the proxy byte by byte.
import net from 'node:net';
import tls from 'node:tls';

/** Sends `data` and collects everything until the server closes or `ms` pass (then destroys). */
export function rawExchange(port: number, data: string | Buffer, ms = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), ms);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    if (data.length) s.write(data);
  });
}

/** Opens a CONNECT tunnel; resolves with the socket and the status line. */
export function connectTunnel(port: number, authority: string, headers: Record<string, string> = {}): Promise<{ socket: net.Socket; status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      // Paused so nothing is emitted before the caller attaches its reader (call resume() to read raw).
      s.pause();
      s.off('data', onData);
      const head = buf.subarray(0, i).toString('latin1');
      const rest = buf.subarray(i + 4);
      if (rest.length) s.unshift(rest);
      resolve({ socket: s, status: Number(head.split(' ')[1]), head });
    };
    s.on('data', onData);
    s.once('error', reject);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`);
  });
}

/** TLS over an open tunnel. */
export function tlsOver(socket: net.Socket, servername: string, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({ socket, servername, ca, ALPNProtocols: ['http/1.1'] });
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  });
}

/** Sends one HTTP/1.1 request over a (TLS) socket and reads the full response (connection: close). */
export function httpOver(socket: net.Socket | tls.TLSSocket, request: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
    socket.resume();
    socket.write(request);
  });
}

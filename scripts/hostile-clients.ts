/**
 * The raw-socket clients of `npm run hostile` (scripts/hostile.ts): stalled uploads, slowloris heads and
 * held connections, each resolving with when the gateway closed it. A client that never reads can't see
 * a graceful close, so for it the close is taken from the kernel's table (test/support/tcp-state.ts).
 */
import { connect, type Socket } from 'node:net';
import { serverHolds } from '../test/support/tcp-state';

/** A raw connection; resolves with when the server closed it and what it answered. */
export interface Held {
  readonly closed: Promise<{ ms: number; status: number }>;
}

/** The status of a connection whose client never read its answer (unknown to the client). */
const UNREAD = -2;

/**
 * `reads`: the client reads the answer and sees the close itself. Otherwise it never reads, and so never
 * sees a graceful close (its FIN waits behind the unread answer): the close is taken from the kernel's
 * table instead, as the moment the gateway no longer holds its end (test/support/tcp-state.ts).
 */
export function hold(port: number, start: (s: Socket) => void, reads = true): Held {
  const t0 = performance.now();
  let head = '';
  const closed = new Promise<{ ms: number; status: number }>((res) => {
    const s = connect(port, '127.0.0.1', () => {
      start(s);
      if (!reads) watchGatewayEnd(port, s, () => res({ ms: performance.now() - t0, status: UNREAD }));
    });
    s.on('error', () => undefined);
    if (!reads) return;
    s.on('data', (b: Buffer) => {
      if (head.length < 64) head += b.toString('latin1', 0, 64);
    });
    s.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      res({ ms: performance.now() - t0, status: m ? Number(m[1]) : 0 });
    });
  });
  return { closed };
}

/** Calls `done` once the gateway no longer holds its end of `s`, then closes `s`. */
function watchGatewayEnd(port: number, s: Socket, done: () => void): void {
  const clientPort = s.localPort!;
  const t = setInterval(() => {
    if (serverHolds(port, clientPort)) return;
    clearInterval(t);
    done();
    s.destroy();
  }, 100);
}

/** Writes `bytes` of `a` (honouring backpressure), then stalls without ending. */
export function stalledUpload(port: number, bytes: number, chunked: boolean, reads = true): Held {
  const block = Buffer.alloc(256 * 1024, 0x61);
  return hold(
    port,
    (s) => {
      const head = chunked
        ? 'PUT /metrics/job/upload HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n'
        : `PUT /metrics/job/upload HTTP/1.1\r\nHost: gw\r\nContent-Length: ${bytes + 1}\r\n\r\n`;
      s.write(head);
      let sent = 0;
      const pump = () => {
        while (sent < bytes && !s.destroyed) {
          const n = Math.min(block.length, bytes - sent);
          const piece = chunked
            ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), block.subarray(0, n), Buffer.from('\r\n')])
            : block.subarray(0, n);
          sent += n;
          if (!s.write(piece)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    },
    reads,
  );
}

export function slowloris(port: number, until: () => boolean): Held {
  return hold(port, (s) => {
    s.write('GET /metrics HTTP/1.1\r\nHost: gw\r\n');
    const t = setInterval(() => {
      if (s.destroyed || until()) clearInterval(t);
      else s.write('X-Slow: 1\r\n');
    }, 1000);
    s.on('close', () => clearInterval(t));
  });
}

/**
 * GETs `path` and reads its answer one socket read every `everyMs` (under the idle timeout, so bytes keep
 * moving), for at most `limitMs`: resolves with when the gateway let go of the connection (the kernel's table: the client, which
 * has much of the answer still to read, sees the close only after it).
 */
export function slowReader(port: number, path: string, everyMs: number, limitMs: number): Held {
  const t0 = performance.now();
  const closed = new Promise<{ ms: number; status: number }>((res) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`);
      const t = setInterval(() => s.resume(), everyMs);
      // Still held after `limitMs`: given up, reported as never closed.
      const giveUp = setTimeout(() => {
        res({ ms: Number.POSITIVE_INFINITY, status: UNREAD });
        s.destroy();
      }, limitMs);
      s.once('close', () => {
        clearInterval(t);
        clearTimeout(giveUp);
      });
      watchGatewayEnd(port, s, () => res({ ms: performance.now() - t0, status: UNREAD }));
    });
    s.on('error', () => undefined);
    s.on('data', () => s.pause());
  });
  return { closed };
}

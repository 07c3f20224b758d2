/**
 * Every upload connection is closed by the server within its documented bound (docs/security.md
 * "Limits (service)"), whatever the client does after its head: stalls mid-body, sends everything, reads
 * the answer or never reads it; with `Content-Length` or chunked; under the body limit, over it, or
 * refused by the in-flight body budget. Real HTTP on 127.0.0.1; the close is observed on the server's
 * own sockets, and, on Linux, in the kernel's connection table from the client's side.
 *
 * Why the kernel check: issue 13's lost uploads-only script reported a chunked 15 MiB upload whose client
 * never read as "open > 69 s". A client that never reads never sees a graceful close: the server's FIN
 * waits behind the unread answer, so the client socket emits neither 'end' nor 'close', while the server
 * had closed at its deadline (the last case below shows it). When the server closed with bytes still
 * unread on its side, the kernel sent a reset instead, which the client does see: hence 1 run in 3.
 */
import { connect, type Socket } from 'node:net';
import type { ServiceLimits } from '../../shared/config';
import { ServerSockets } from '../support/server-sockets';
import { canReadTcpTable, clientSawClose, serverHolds } from '../support/tcp-state';
import { type Running, startService } from './service-support';

const KiB = 1024;
const MiB = 1024 * KiB;
const LIMITS: Partial<ServiceLimits> = {
  headersTimeoutMs: 500,
  requestTimeoutMs: 1200,
  keepAliveTimeoutMs: 500,
  idleTimeoutMs: 2000,
};
const BODY_LIMIT = 1 * MiB;
/** Node checks deadlines on a timer; jest shares two cores with other suites. */
const SLACK_MS = 3000;
/** Node keeps a keep-alive socket 1 s longer than it advertises (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER). */
const KEEP_ALIVE_BUFFER_MS = 1000;

/** What bounds a case: refused at once, the whole-request deadline, or the keep-alive deadline after a 2xx. */
type Deadline = 'refusal' | 'request' | 'keepAlive';

function boundMs(d: Deadline): number {
  if (d === 'refusal') return SLACK_MS;
  if (d === 'request') return LIMITS.requestTimeoutMs! + SLACK_MS;
  return LIMITS.keepAliveTimeoutMs! + KEEP_ALIVE_BUFFER_MS + SLACK_MS;
}

interface Upload {
  readonly framing: 'length' | 'chunked';
  /** Body bytes the client writes. */
  readonly bytes: number;
  /** 'stalls': never finishes the body (Content-Length one more, or no last chunk); 'complete': finishes it. */
  readonly ends: 'stalls' | 'complete';
  readonly reads: boolean;
  /** A text push, so that a complete body under the limit is a valid push. */
  readonly path: string;
}

interface Closed {
  /** ms from the client's first byte to the server closing its socket. */
  readonly serverMs: number;
  /** The status line, when the client reads. */
  readonly status: number | undefined;
  /** Linux: the server's close reached the client's kernel (CLOSE_WAIT or reset); undefined elsewhere. */
  readonly reachedClient: boolean | undefined;
}

/** A text body of `bytes` (`u_m{i="…"} 1` lines, padded with a comment line). */
function textBody(bytes: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n + 40 < bytes; i++) {
    const l = `u_m{i="${i}"} 1\n`;
    lines.push(l);
    n += l.length;
  }
  lines.push(`#${'x'.repeat(Math.max(0, bytes - n - 2))}\n`);
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

/** Sends the head and `u.bytes` of body (honouring backpressure), then does what `u` says. */
function start(port: number, u: Upload): { socket: Socket; t0: number; head: () => string } {
  const body = textBody(u.bytes);
  const declared = u.ends === 'stalls' ? u.bytes + 1 : u.bytes;
  const head =
    u.framing === 'chunked'
      ? `PUT ${u.path} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`
      : `PUT ${u.path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${declared}\r\n\r\n`;
  const pieces: Buffer[] = [Buffer.from(head)];
  for (let at = 0; at < body.length; at += 64 * KiB) {
    const part = body.subarray(at, at + 64 * KiB);
    pieces.push(
      u.framing === 'chunked'
        ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')])
        : part,
    );
  }
  if (u.framing === 'chunked' && u.ends === 'complete') pieces.push(Buffer.from('0\r\n\r\n'));
  let got = '';
  const t0 = Date.now();
  const socket = connect(port, '127.0.0.1', () => {
    const pump = () => {
      while (pieces.length > 0 && !socket.destroyed) if (!socket.write(pieces.shift()!)) break;
      if (pieces.length > 0 && !socket.destroyed) socket.once('drain', pump);
    };
    pump();
  });
  socket.on('error', () => undefined);
  if (u.reads)
    socket.on('data', (b: Buffer) => {
      if (got.length < 64) got += b.toString('latin1', 0, 64);
    });
  return { socket, t0, head: () => got };
}

async function upload(svc: Running, sockets: ServerSockets, u: Upload, limitMs: number): Promise<Closed> {
  const port = Number(new URL(svc.base).port);
  const { socket, t0, head } = start(port, u);
  await new Promise<void>((r) => (socket.connecting ? socket.once('connect', () => r()) : r()));
  const clientPort = socket.localPort!;
  try {
    const at = await sockets.closed(clientPort, limitMs);
    if (at === undefined) throw new Error(`server still holds the connection after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
    const m = /^HTTP\/1\.1 (\d{3})/.exec(head());
    return {
      serverMs: at - t0,
      status: m ? Number(m[1]) : undefined,
      reachedClient: canReadTcpTable() ? clientSawClose(clientPort, port) : undefined,
    };
  } finally {
    socket.destroy();
  }
}

/** Rows: what the client does, its answer (when it reads), the deadline that bounds the close. */
const ROWS: [string, Upload['framing'], number, Upload['ends'], number, Deadline][] = [
  ['Content-Length, stalls mid-body', 'length', 600 * KiB, 'stalls', 408, 'request'],
  ['chunked, stalls mid-body', 'chunked', 600 * KiB, 'stalls', 408, 'request'],
  ['Content-Length over the body limit, stalls', 'length', 3 * MiB, 'stalls', 413, 'refusal'],
  ['chunked over the body limit, stalls', 'chunked', 3 * MiB, 'stalls', 413, 'refusal'],
  ['Content-Length over the body limit, sends everything', 'length', 3 * MiB, 'complete', 413, 'refusal'],
  ['chunked over the body limit, sends everything', 'chunked', 3 * MiB, 'complete', 413, 'refusal'],
  ['Content-Length push, sends everything', 'length', 32 * KiB, 'complete', 200, 'keepAlive'],
  ['chunked push, sends everything', 'chunked', 32 * KiB, 'complete', 200, 'keepAlive'],
];

/** A service per describe (or per test, `fresh`), with its server-side socket watch. */
function served(
  limits: Partial<ServiceLimits>,
  maxBodyBytes: number,
  fresh = false,
): { readonly svc: Running; readonly sockets: ServerSockets } {
  const it = {} as { svc: Running; sockets: ServerSockets };
  (fresh ? beforeEach : beforeAll)(async () => {
    it.svc = await startService({ maxBodyBytes, limits });
    it.sockets = new ServerSockets(it.svc.app.server);
  });
  (fresh ? afterEach : afterAll)(async () => {
    await it.svc.stop();
  });
  return it;
}

/** The server closed within `deadline`'s bound; a reading client got `status`; the close reached the client. */
function expectClosed(r: Closed, deadline: Deadline, status: number | undefined): void {
  expect(r.serverMs).toBeLessThan(boundMs(deadline));
  expect(r.status).toBe(status);
  if (r.reachedClient !== undefined) expect(r.reachedClient).toBe(true);
}

describe.each([
  ['reads the answer', true],
  ['never reads', false],
])('an upload whose client %s is closed within its bound', (_n, reads) => {
  const s = served(LIMITS, BODY_LIMIT);

  it.each(ROWS)('%s', async (_name, framing, bytes, ends, status, deadline) => {
    const u: Upload = { framing, bytes, ends, reads, path: '/metrics/job/upload' };
    expectClosed(await upload(s.svc, s.sockets, u, 30_000), deadline, reads ? status : undefined);
  });
});

describe('an upload refused by the in-flight body budget (503) is closed at once', () => {
  const s = served({ ...LIMITS, maxInflightBodyBytes: 1 * MiB }, BODY_LIMIT, true);

  it.each<[string, Upload['framing'], Upload['ends'], boolean]>([
    ['Content-Length, stalls, never reads', 'length', 'stalls', false],
    ['chunked, stalls, never reads', 'chunked', 'stalls', false],
    ['chunked, sends everything, never reads', 'chunked', 'complete', false],
    ['chunked, stalls, reads', 'chunked', 'stalls', true],
  ])('%s', async (_n, framing, ends, reads) => {
    // A stalled upload that declared 900 KiB holds most of the 1 MiB budget (and times out later).
    const port = Number(new URL(s.svc.base).port);
    const hog = connect(port, '127.0.0.1', () =>
      hog.write(`PUT /metrics/job/hog HTTP/1.1\r\nHost: a\r\nContent-Length: ${900 * KiB}\r\n\r\n`),
    );
    hog.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const u: Upload = { framing, bytes: 900 * KiB, ends, reads, path: '/metrics/job/refused' };
    const r = await upload(s.svc, s.sockets, u, 30_000);
    hog.destroy();
    expectClosed(r, 'refusal', reads ? 503 : undefined);
  });
});

describe('why a client that never reads looked open (issue 13, the lost script)', () => {
  // A body limit over the upload, so the server reads all of it and closes gracefully at its deadline.
  const s = served(LIMITS, 4 * MiB);

  (canReadTcpTable() ? it : it.skip)(
    'the server closes at the request deadline; the client socket never emits close, its kernel end is in CLOSE_WAIT',
    async () => {
      const port = Number(new URL(s.svc.base).port);
      const u: Upload = {
        framing: 'chunked',
        bytes: 3 * MiB,
        ends: 'stalls',
        reads: false,
        path: '/metrics/job/u',
      };
      const { socket, t0 } = start(port, u);
      let clientClosed = false;
      socket.once('close', () => {
        clientClosed = true;
      });
      await new Promise<void>((r) => socket.once('connect', () => r()));
      const clientPort = socket.localPort!;
      const at = await s.sockets.closed(clientPort, 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      try {
        expect(at! - t0).toBeLessThan(boundMs('request'));
        expect(serverHolds(port, clientPort)).toBe(false);
        expect(clientSawClose(clientPort, port)).toBe(true);
        expect(clientClosed).toBe(false);
      } finally {
        socket.destroy();
      }
    },
  );
});

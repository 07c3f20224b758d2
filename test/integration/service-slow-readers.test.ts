/**
 * A client that reads a large answer a few bytes at a time keeps bytes moving, so the idle timeout never
 * closes it; the response deadline (docs/security.md "Limits", ACCRUE_RESPONSE_DEADLINE_MS) does. Real HTTP
 * on 127.0.0.1 against a real service: a slow reader of a large /metrics (plain text, streamed from the
 * cached parts) and of /api/v1/metrics is cut at the deadline and counted; a normal reader of the same body
 * gets all of it. The idle timeout is set above the deadline and the slow reader reads far more often than
 * it, so only the response deadline can close it (on the code before the deadline it stayed open).
 */
import { connect, type Socket } from 'node:net';
import type { ServiceLimits } from '../../shared/config';
import { ServerSockets } from '../support/server-sockets';
import { canReadTcpTable, serverHolds } from '../support/tcp-state';
import { http, type Running, startService } from './service-support';

const LIMITS: Partial<ServiceLimits> = { idleTimeoutMs: 4000, responseDeadlineMs: 1500 };
/** Node's timers and jest's other suites on two cores. */
const SLACK_MS = 2500;
/** The slow reader takes one socket read (≤ 64 KiB) this often: far more often than the idle timeout. */
const READ_EVERY_MS = 200;
const SERIES = 6000;
/** ~6 MB of text: more than the loopback socket buffers hold for a client that barely reads. */
const PAD = 'p'.repeat(1000);

function bigPush(): string {
  const lines = ['# TYPE big_g gauge'];
  for (let i = 0; i < SERIES; i++) lines.push(`big_g{i="${i}",pad="${PAD}"} ${i}`);
  return `${lines.join('\n')}\n`;
}

/** A raw GET of `path`; `slow`: one socket read every READ_EVERY_MS, else as fast as it comes. */
function get(port: number, path: string, slow: boolean) {
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const socket: Socket = connect(port, '127.0.0.1', () =>
    socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`),
  );
  const t0 = Date.now();
  socket.on('data', (b: Buffer) => {
    bytes += b.length;
    if (slow) socket.pause();
  });
  socket.on('error', () => undefined);
  if (slow) timer = setInterval(() => socket.resume(), READ_EVERY_MS);
  const connected = new Promise<number>((r) => socket.once('connect', () => r(socket.localPort!)));
  const ended = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    t0,
    connected,
    ended,
    bytes: () => bytes,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

describe('the response deadline', () => {
  let svc: Running;
  let port: number;
  let full: Record<string, number>;
  let sockets: ServerSockets;
  /** Cuts so far (the rows share one service). */
  let cuts = 0;

  beforeAll(async () => {
    svc = await startService({ maxBodyBytes: 16 * 1024 * 1024, limits: LIMITS });
    port = Number(new URL(svc.base).port);
    sockets = new ServerSockets(svc.app.server);
    const r = await http(svc.base, 'PUT', '/metrics/job/big', bigPush());
    expect(r.status).toBe(200);
    full = {
      '/metrics': (await http(svc.base, 'GET', '/metrics')).body.length,
      '/api/v1/metrics': (await http(svc.base, 'GET', '/api/v1/metrics')).body.length,
    };
  }, 60_000);
  afterAll(async () => {
    await svc.stop();
  });

  it.each(['/metrics', '/api/v1/metrics'])(
    '%s: a slow reader is cut at the deadline and counted; a normal reader gets the whole body',
    async (path) => {
      expect(full[path]).toBeGreaterThan(5_000_000);
      const slow = get(port, path, true);
      const normal = get(port, path, false);
      const slowPort = await slow.connected;
      try {
        const closedAt = await sockets.closed(slowPort, LIMITS.responseDeadlineMs! + SLACK_MS + 3000);
        await normal.ended;
        const heldMs = (closedAt ?? Number.POSITIVE_INFINITY) - slow.t0;

        expect(heldMs).toBeGreaterThanOrEqual(LIMITS.responseDeadlineMs! - 100);
        expect(heldMs).toBeLessThan(LIMITS.responseDeadlineMs! + SLACK_MS);
        if (canReadTcpTable()) expect(serverHolds(port, slowPort)).toBe(false);
        expect(slow.bytes()).toBeLessThan(full[path]!);
        // The normal reader got the head and the whole body (as long as measured before).
        expect(normal.bytes()).toBeGreaterThan(full[path]!);
      } finally {
        slow.stop();
        normal.stop();
      }

      const own = (await http(svc.base, 'GET', '/metrics')).text;
      const line = own.split('\n').find((l) => l.startsWith('accrue_responses_cut_total{'));
      expect(line).toBe(`accrue_responses_cut_total{reason="response_deadline"} ${++cuts}`);
    },
    30_000,
  );
});

/**
 * When a server closed each of its connections, by the client's port: what a client can't always see
 * (a client that reads slowly or not at all gets the server's FIN only after the bytes before it).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class ServerSockets {
  private readonly closedAt = new Map<number, number>();

  constructor(server: Server) {
    server.on('connection', (s: Socket) => {
      const port = s.remotePort!;
      s.once('close', () => this.closedAt.set(port, Date.now()));
    });
  }

  /** Resolves with when the server closed the connection from `clientPort`, or undefined after `limitMs`. */
  async closed(clientPort: number, limitMs: number): Promise<number | undefined> {
    const end = Date.now() + limitMs;
    while (Date.now() < end) {
      const at = this.closedAt.get(clientPort);
      if (at !== undefined) return at;
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.closedAt.get(clientPort);
  }
}

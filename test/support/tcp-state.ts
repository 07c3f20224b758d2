/**
 * The kernel's view of one loopback TCP connection (Linux `/proc/net/tcp`), for checks that a client can't
 * make through its own socket: a client that never reads never sees a graceful close (its 'end' and
 * 'close' wait until the answer in its buffer is read), although the server closed long ago.
 */
import { existsSync, readFileSync } from 'node:fs';

const PROC_TCP = '/proc/net/tcp';

/** Connection states of /proc/net/tcp (include/net/tcp_states.h) that the checks name. */
export const TCP_STATE = { established: 1, finWait2: 5, closeWait: 8 } as const;

export interface TcpEnd {
  /** TCP state (TCP_STATE). */
  readonly state: number;
  /** The socket's inode; 0 once no process holds it (closed, the kernel finishes the goodbye). */
  readonly inode: number;
}

/** True where /proc/net/tcp can be read (Linux). */
export function canReadTcpTable(): boolean {
  return existsSync(PROC_TCP);
}

/** The IPv4 end bound to `localPort` and connected to `remotePort`, or undefined when the kernel has none. */
export function tcpEnd(localPort: number, remotePort: number): TcpEnd | undefined {
  for (const line of readFileSync(PROC_TCP, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    if (portOf(f[1]!) === localPort && portOf(f[2]!) === remotePort)
      return { state: Number.parseInt(f[3]!, 16), inode: Number(f[9]) };
  }
  return undefined;
}

/**
 * True while the server still holds (or has yet to accept) its end of the connection from `clientPort`.
 * An end waiting in the accept queue is ESTABLISHED with no inode yet; once the server closes it, it is
 * gone (reset) or in a closing state with no inode.
 */
export function serverHolds(serverPort: number, clientPort: number): boolean {
  const end = tcpEnd(serverPort, clientPort);
  return end !== undefined && (end.inode !== 0 || end.state === TCP_STATE.established);
}

/** True when the server's close reached the client: its end is in CLOSE_WAIT (FIN) or gone (RST). */
export function clientSawClose(clientPort: number, serverPort: number): boolean {
  const end = tcpEnd(clientPort, serverPort);
  return end === undefined || end.state === TCP_STATE.closeWait;
}

function portOf(address: string): number {
  return Number.parseInt(address.split(':')[1] ?? '', 16);
}

/** Helpers for the service's integration tests: a real server over a real store, raw HTTP, promtool. */
import { spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../service/server';
import type { ServiceConfig } from '../../shared/config';
import { MemoryStore } from '../../shared/store';
import type { Store } from '../../shared/store/types';

export const testServiceConfig: ServiceConfig = {
  host: '127.0.0.1',
  port: 0,
  adminApi: true,
  maxBodyBytes: 1024 * 1024,
  snapshotRefreshMs: 0,
  snapshotMaxAgeMs: 60_000,
};

export interface Running {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly base: string;
  stop(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0; over a fresh non-durable MemoryStore unless a store is given. */
export async function startService(config: Partial<ServiceConfig> = {}, store?: Store): Promise<Running> {
  const s = store ?? (await MemoryStore.open({}));
  const app = await buildServer({ store: s, config: { ...testServiceConfig, ...config } });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    store: s,
    base,
    async stop() {
      await app.close();
      if (!store) await s.close();
    },
  };
}

export interface Res {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly text: string;
}

/** Raw HTTP (node:http), so paths, headers and bodies go out exactly as given. */
export function http(
  base: string,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const r = httpRequest({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
      });
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** `promtool check metrics` on an exposition body; returns its exit code and output. */
export function promtool(text: string): { code: number; output: string } {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** A port free on 127.0.0.1 right now (another process may still take it before it is bound). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

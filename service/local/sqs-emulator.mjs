// Starts the embedded SQS endpoint (fauxqs 1.9.2) on loopback only.
// fauxqs' own startFauxqs() listens on 0.0.0.0; Accrue binds 127.0.0.1 (DEVELOPERS.md: servers bind to
// loopback in tests and local runs), so we build its app and listen ourselves.
// ESM because fauxqs 1.x is ESM-only; CommonJS callers use `await import()`.
import { buildApp } from 'fauxqs';

/**
 * @param {{ port?: number, host?: string }} [options]
 * @returns {Promise<{ endpoint: string, port: number, stop: () => Promise<void> }>}
 */
export async function startSqsEmulator(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const app = buildApp({ logger: false, host: `${host}` });
  const address = await app.listen({ port: options.port ?? 0, host });
  const port = Number(new URL(address).port);
  return {
    endpoint: `http://${host}:${port}`,
    port,
    stop: () => app.close(),
  };
}

// CLI: `node service/local/sqs-emulator.mjs [port]` prints the endpoint and runs until SIGTERM.
if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await startSqsEmulator({ port: Number(process.argv[2] ?? 0) });
  process.stdout.write(`${s.endpoint}\n`);
  const stop = () => s.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

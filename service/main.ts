/**
 * The container's entry point: configuration (read once), the store, the HTTP server, graceful shutdown.
 * SIGTERM/SIGINT stop accepting connections, let in-flight requests finish, then close the store
 * (a durable memory store flushes its journal) and exit 0. A second signal exits at once.
 */
import { loadConfig } from '../shared/config';
import { createStore } from '../shared/wiring/store';
import { buildServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const store = await createStore(config.store, config.aws);
  const app = await buildServer({ store, config: config.service, storeConfig: config.store, logger: true });
  await app.listen({ host: config.service.host, port: config.service.port });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`accrue: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

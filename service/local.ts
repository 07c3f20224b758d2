/**
 * `npm start`: Accrue in one process on this machine — embedded SQS endpoint, the ingest pipeline behind
 * a poller that behaves like Lambda's SQS event source mapping, the durable embedded store, and the
 * service on 127.0.0.1:9091. Configuration: shared/config.ts (docs/local.md lists what matters here).
 *
 * Writes `.accrue/local.json` (`{ sqsEndpoint, queueUrl, dlqUrl, metricsUrl, region, pid }`) so that the
 * CLI and the demo find this gateway, and removes it on shutdown.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../shared/config';
import { banner, type LocalHandle, startLocal } from './local/runner';
import { startErrorMessage } from './local/start-error';

// The AWS SDK warns once per process that its releases after early January 2027 need Node >= 22. The
// lockfile pins a version that supports Node 20, so the local gateway keeps its first screen readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function writeLocalFile(file: string, h: LocalHandle): void {
  const doc = {
    sqsEndpoint: h.sqsEndpoint,
    queueUrl: h.queueUrl,
    dlqUrl: h.dlqUrl,
    metricsUrl: h.metricsUrl,
    region: h.region,
    pid: process.pid,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

function removeLocalFile(file: string): void {
  try {
    // Only our own: another `npm start` may have replaced it.
    if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid === process.pid) rmSync(file);
  } catch {
    // Already gone or unreadable: nothing to clean up.
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const local = await startLocal(config);
  const localFile = resolve(config.client.localFile);
  writeLocalFile(localFile, local);
  process.stdout.write(`${banner(local, config)}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without a clean shutdown\n`);
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`${signal}: stopping (finishing the batch in flight, flushing the store)…\n`);
    removeLocalFile(localFile);
    local.stop().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  let message: string;
  try {
    message = startErrorMessage(err, loadConfig());
  } catch {
    message = `accrue: could not start: ${err instanceof Error ? err.message : String(err)}`;
  }
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

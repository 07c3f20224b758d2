/**
 * Finding a gateway for producer tools (CLI, demo): flags, then configuration (ACCRUE_QUEUE_URL,
 * ACCRUE_SQS_ENDPOINT, ACCRUE_URL), then the file `npm start` writes (`.accrue/local.json`:
 * `{ sqsEndpoint, queueUrl, dlqUrl, metricsUrl }`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AccrueConfig } from '../config';
import { AccrueError } from '../model/errors';

export interface LocalGateway {
  readonly sqsEndpoint?: string;
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  /** URL of /metrics, e.g. http://127.0.0.1:9091/metrics. */
  readonly metricsUrl?: string;
}

export interface GatewayTarget {
  readonly queueUrl?: string;
  readonly sqsEndpoint?: string;
  readonly region: string;
  /** Base URL of the service, e.g. http://127.0.0.1:9091 (no trailing slash). */
  readonly serviceUrl?: string;
  /** Where each value came from, for messages. */
  readonly source: string;
}

/** A problem locating the gateway, with what to do about it. */
export class GatewayNotFoundError extends AccrueError {
  constructor(message: string) {
    super('invalid', message);
  }
}

function optString(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Reads `.accrue/local.json` (relative to `cwd`); undefined when it doesn't exist. Throws when it is malformed. */
export function readLocalGateway(file = '.accrue/local.json', cwd = process.cwd()): LocalGateway | undefined {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new GatewayNotFoundError(
      `${full}: not valid JSON (${(e as Error).message}); restart \`npm start\` to rewrite it`,
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new GatewayNotFoundError(
      `${full}: must be a JSON object { sqsEndpoint, queueUrl, dlqUrl, metricsUrl }`,
    );
  }
  const o = doc as Record<string, unknown>;
  return {
    sqsEndpoint: optString(o, 'sqsEndpoint'),
    queueUrl: optString(o, 'queueUrl'),
    dlqUrl: optString(o, 'dlqUrl'),
    metricsUrl: optString(o, 'metricsUrl'),
  };
}

/** Merges flags > configuration > the local file. */
export function resolveTarget(
  flags: { queueUrl?: string; endpoint?: string; url?: string; region?: string },
  config: Pick<AccrueConfig, 'aws' | 'ingest' | 'client'>,
  cwd = process.cwd(),
): GatewayTarget {
  const local = readLocalGateway(config.client.localFile, cwd);
  const metricsBase = local?.metricsUrl?.replace(/\/metrics\/?$/, '');
  const serviceUrl = (flags.url ?? config.client.serviceUrl ?? metricsBase)?.replace(/\/+$/, '');
  const queueUrl = flags.queueUrl ?? config.ingest.queueUrl ?? local?.queueUrl;
  const sqsEndpoint = flags.endpoint ?? config.client.sqsEndpoint ?? local?.sqsEndpoint;
  const source = flags.queueUrl
    ? '--queue-url'
    : config.ingest.queueUrl
      ? 'ACCRUE_QUEUE_URL'
      : local?.queueUrl
        ? config.client.localFile
        : 'nothing';
  return { queueUrl, sqsEndpoint, serviceUrl, region: flags.region ?? config.aws.region, source };
}

/** The queue URL, or an error that says what to do. */
export function requireQueueUrl(t: GatewayTarget, localFile: string): string {
  if (t.queueUrl) return t.queueUrl;
  throw new GatewayNotFoundError(
    `no local gateway found at ${localFile}: run \`npm start\` first, or pass --queue-url (and --endpoint for an emulator), or set ACCRUE_QUEUE_URL`,
  );
}

export function requireServiceUrl(t: GatewayTarget, localFile: string): string {
  if (t.serviceUrl) return t.serviceUrl;
  throw new GatewayNotFoundError(
    `no gateway URL: run \`npm start\` first (it writes ${localFile}), or pass --url http://host:9091, or set ACCRUE_URL`,
  );
}

/**
 * Credentials for a loopback endpoint (the local emulator accepts any), so that tools work on a machine
 * without AWS credentials; undefined elsewhere, and whenever the environment has credentials of its own
 * (`AWS_ACCESS_KEY_ID` or `AWS_PROFILE`): the SDK's default chain then applies. DynamoDB Local keeps tables
 * per access key (unless started with `-sharedDb`), so every tool pointed at it must use the same key.
 */
export function loopbackCredentials(
  endpoint: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { accessKeyId: string; secretAccessKey: string } | undefined {
  if (!endpoint || env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE) return undefined;
  try {
    const host = new URL(endpoint).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]'
      ? { accessKeyId: 'local', secretAccessKey: 'local' }
      : undefined;
  } catch {
    return undefined;
  }
}

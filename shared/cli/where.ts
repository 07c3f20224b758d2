/**
 * The values a command will actually use, with where each comes from, for `--help`: help text holds
 * placeholders such as `{url}` that `fillHelp` replaces with e.g.
 * `http://127.0.0.1:9091 (from .accrue/local.json)`. Reading them never fails: a broken configuration
 * or local file shows as such in the help instead of hiding it.
 */

import { readLocalGateway } from '../client/local';
import { type AccrueConfig, loadConfig } from '../config';
import { DEFAULT_JOB } from './common';

export type HelpValues = Readonly<Record<string, string>>;

function from(value: string | undefined, source: string): string | undefined {
  return value === undefined ? undefined : `${value} (from ${source})`;
}

export function helpValues(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): HelpValues {
  let config: AccrueConfig;
  try {
    config = loadConfig(env);
  } catch (e) {
    const bad = `unknown: the configuration is invalid (${(e as Error).message})`;
    return new Proxy({}, { get: () => bad });
  }
  let local: ReturnType<typeof readLocalGateway>;
  let localProblem: string | undefined;
  try {
    local = readLocalGateway(config.client.localFile, cwd);
  } catch (e) {
    localProblem = (e as Error).message;
  }
  const file = config.client.localFile;
  const none = (what: string) =>
    localProblem
      ? `none: ${localProblem}`
      : `none yet: run \`npm start\` (it writes ${file}), or set ${what}`;
  const metricsBase = local?.metricsUrl?.replace(/\/metrics\/?$/, '');
  const s = config.service;
  const envName = (name: string) => (env[name] ? `from ${name}` : `default; set ${name} to change`);
  return {
    url: from(config.client.serviceUrl, 'ACCRUE_URL') ?? from(metricsBase, file) ?? none('ACCRUE_URL'),
    queue:
      from(config.ingest.queueUrl, 'ACCRUE_QUEUE_URL') ??
      from(local?.queueUrl, file) ??
      none('ACCRUE_QUEUE_URL'),
    endpoint:
      from(config.client.sqsEndpoint, 'ACCRUE_SQS_ENDPOINT') ??
      from(local?.sqsEndpoint, file) ??
      'none: the AWS SDK default for the region',
    region: `${config.aws.region} (${env.AWS_REGION || env.AWS_DEFAULT_REGION ? 'from AWS_REGION' : 'default'})`,
    profile: `${config.ingest.profile} (${envName('ACCRUE_PROFILE')})`,
    auth: s.pushAuth
      ? `${s.pushAuth.split(':')[0]} credentials from ACCRUE_PUSH_AUTH`
      : 'none (ACCRUE_PUSH_AUTH is not set)',
    job: DEFAULT_JOB,
    listen: `http://${s.host}:${s.port} (${env.ACCRUE_HOST || env.ACCRUE_PORT ? 'from ACCRUE_HOST / ACCRUE_PORT' : 'default; set ACCRUE_PORT to change'})`,
    sqs: `http://${config.local.sqsHost}:${config.local.sqsPort} (${envName('ACCRUE_LOCAL_SQS_PORT')})`,
    data: `${config.store.kind === 'memory' ? config.store.dataDir : `DynamoDB ${config.store.seriesTable}`} (${envName(config.store.kind === 'memory' ? 'ACCRUE_DATA_DIR' : 'ACCRUE_SERIES_TABLE')})`,
  };
}

/** Replaces `{name}` placeholders with the values; unknown placeholders stay as written. */
export function fillHelp(text: string, values: HelpValues): string {
  return text.replace(/\{([a-z]+)\}/g, (m, k: string) => values[k] ?? m);
}

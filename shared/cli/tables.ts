/**
 * `accrue tables create | check`: the DynamoDB store's tables, from the same configuration the service and
 * the ingest Lambda read (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, ACCRUE_SERIES_TABLE,
 * ACCRUE_LEDGER_TABLE), so that what this creates is what they open. On AWS, the CDK stack creates the
 * same tables (infra/); this is for DynamoDB Local, LocalStack and hand-made setups.
 */
import type { AccrueConfig } from '../config';
import { loadConfig } from '../config';
import { type Io, parse, UsageError } from './common';

type TablesIo = Io;

/** `accrue tables create|check [--endpoint URL] [--region R] [--series-table N] [--ledger-table N]`. */
export async function cmdTables(args: string[], io: Io, help: (cmd: string) => number): Promise<number> {
  const { values, positionals } = parse(args, {
    endpoint: { type: 'string' },
    region: { type: 'string' },
    'series-table': { type: 'string' },
    'ledger-table': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return help('tables');
  const [sub, ...rest] = positionals;
  if (sub !== 'create' && sub !== 'check')
    throw new UsageError(
      `tables: expected a subcommand: create or check${sub ? `, got ${JSON.stringify(sub)}` : ''}`,
    );
  if (rest.length > 0) throw new UsageError(`tables ${sub}: unexpected argument ${JSON.stringify(rest[0])}`);
  return runTables(
    sub,
    {
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
      ...(values.region ? { region: values.region } : {}),
      ...(values['series-table'] ? { seriesTable: values['series-table'] } : {}),
      ...(values['ledger-table'] ? { ledgerTable: values['ledger-table'] } : {}),
    },
    io,
  );
}

export interface TablesFlags {
  readonly endpoint?: string;
  readonly region?: string;
  readonly seriesTable?: string;
  readonly ledgerTable?: string;
}

/** Runs `tables <sub>`; returns the exit status (0 ok, 1 failure or tables missing). */
export async function runTables(sub: string, flags: TablesFlags, io: TablesIo): Promise<number> {
  const base = loadConfig();
  const config: AccrueConfig = {
    ...base,
    aws: {
      ...base.aws,
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.endpoint ? { dynamodbEndpoint: flags.endpoint } : {}),
    },
  };
  const names = {
    seriesTable: flags.seriesTable ?? config.store.seriesTable,
    ledgerTable: flags.ledgerTable ?? config.store.ledgerTable,
  };
  // Loaded on demand: the other commands don't need the AWS SDK for DynamoDB.
  const { createTables, dynamoClientFromConfig, dynamoWhere, missingTables } = await import(
    '../store/dynamodb'
  );
  const where = dynamoWhere(config.aws);
  const client = dynamoClientFromConfig(config.aws);
  try {
    if (sub === 'create') {
      const before = await missingTables(client, names);
      await createTables(client, names);
      for (const t of [names.seriesTable, names.ledgerTable])
        io.out(`${before.includes(t) ? 'created' : 'exists '} ${t} (${where})\n`);
      io.out('TTL enabled (series: expiresAt, ledger: ttl). The service and the ingest Lambda can start.\n');
      return 0;
    }
    const missing = await missingTables(client, names);
    for (const t of [names.seriesTable, names.ledgerTable])
      io.out(`${missing.includes(t) ? 'missing' : 'ok     '} ${t} (${where})\n`);
    if (missing.length > 0) {
      io.err('create them with `npx accrue tables create`\n');
      return 1;
    }
    return 0;
  } catch (e) {
    io.err(`tables ${sub} at ${where} failed: ${(e as Error).name}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}

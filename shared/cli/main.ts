/**
 * `accrue` command line (bin/accrue.js runs this file through tsx). Commands: start, send, validate,
 * groups (./groups.ts), top (./top.ts). Thin: parse flags (./common.ts), call into shared/client and
 * shared/ingest, print. Help shows the values a command will use (./where.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GatewayNotFoundError, loopbackCredentials, requireQueueUrl, resolveTarget } from '../client/local';
import { AccruePublisher } from '../client/publisher';
import { loadConfig } from '../config';
import { AccrueError, ValidationError } from '../model/errors';
import { labelNameProblem } from '../model/names';
import { loadProfile } from '../profiles/load';
import type { CompiledProfile } from '../profiles/types';
import { checkBody } from './check';
import { DEFAULT_JOB, type Io, parse, UsageError } from './common';
import { cmdGroups } from './groups';
import { HELP } from './help';
import { type InputProblem, parseInput, readInput, type Unit } from './input';
import { cmdTables } from './tables';
import { cmdTop } from './top';
import { fillHelp, helpValues } from './where';

export { groupPath } from './groups';

const ROOT = path.resolve(__dirname, '../..');

const GROUP_FLAGS = {
  job: { type: 'string' },
  instance: { type: 'string' },
  label: { type: 'string', multiple: true },
  profile: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function groupFrom(values: { job?: string; instance?: string; label?: string[] }): Record<string, string> {
  const group: Record<string, string> = Object.create(null);
  group.job = values.job ?? DEFAULT_JOB;
  if (values.instance) group.instance = values.instance;
  for (const l of values.label ?? []) {
    const i = l.indexOf('=');
    if (i <= 0) throw new UsageError(`--label ${JSON.stringify(l)}: expected NAME=VALUE`);
    const name = l.slice(0, i);
    const p = labelNameProblem(name);
    if (p) throw new UsageError(`--label ${JSON.stringify(l)}: label name ${p}`);
    group[name] = l.slice(i + 1);
  }
  return { ...group };
}

function profileFrom(flag: string | undefined, fallback: string): CompiledProfile {
  try {
    return loadProfile(flag ?? fallback);
  } catch (e) {
    throw new UsageError(`--profile ${flag ?? fallback}: ${(e as Error).message}`);
  }
}

/** Reads and checks every input; returns the units and prints every problem. */
function gather(
  files: string[],
  group: Record<string, string>,
  profile: CompiledProfile,
  io: Io,
  json = false,
) {
  const inputs = files.length === 0 ? ['-'] : files;
  const units: Unit[] = [];
  const problems: (InputProblem & { path?: string })[] = [];
  const now = Date.now();
  for (const f of inputs) {
    let text: string;
    try {
      text = readInput(f);
    } catch (e) {
      throw new UsageError(
        `${f}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    const r = parseInput(text, f === '-' ? 'stdin' : f, group, now);
    problems.push(...r.problems);
    for (const u of r.units) {
      units.push(u);
      for (const p of checkBody(u.body, profile, now))
        problems.push({ source: u.source, path: p.path, message: p.message });
    }
  }
  if (json) io.out(`${JSON.stringify(problems, null, 2)}\n`);
  else for (const p of problems) io.err(`${p.source}: ${p.path ? `${p.path}: ` : ''}${p.message}\n`);
  return { units, problems };
}

async function cmdValidate(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { ...GROUP_FLAGS, json: { type: 'boolean' } });
  if (values.help) return help('validate', io);
  const config = loadConfig();
  const profile = profileFrom(values.profile, config.ingest.profile);
  const { units, problems } = gather(positionals, groupFrom(values), profile, io, values.json);
  const events = units.reduce((n, u) => n + u.events, 0);
  if (!values.json) {
    io.err(
      problems.length === 0
        ? `ok: ${units.length} message(s), ${events} event(s) valid (profile ${profile.name})\n`
        : `${problems.length} problem(s) found\n`,
    );
  }
  return problems.length === 0 ? 0 : 1;
}

async function cmdSend(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    ...GROUP_FLAGS,
    'queue-url': { type: 'string' },
    endpoint: { type: 'string' },
    region: { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  if (values.help) return help('send', io);
  const config = loadConfig();
  const profile = profileFrom(values.profile, config.ingest.profile);
  const target = resolveTarget(
    { queueUrl: values['queue-url'], endpoint: values.endpoint, region: values.region },
    config,
  );
  const queueUrl = values['dry-run']
    ? (target.queueUrl ?? '(no queue)')
    : requireQueueUrl(target, config.client.localFile);
  const { units, problems } = gather(positionals, groupFrom(values), profile, io);
  if (problems.length > 0) {
    io.err(`${problems.length} problem(s) found: nothing sent\n`);
    return 1;
  }
  const events = units.reduce((n, u) => n + u.events, 0);
  if (values['dry-run']) {
    for (const u of units) io.out(`${u.body}\n`);
    io.err(`dry run: would send ${events} event(s) in ${units.length} input message(s) to ${queueUrl}\n`);
    return 0;
  }
  const credentials = loopbackCredentials(target.sqsEndpoint);
  const sqs = new SQSClient({
    region: target.region,
    ...(target.sqsEndpoint ? { endpoint: target.sqsEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  let failed = 0;
  let messages = 0;
  try {
    for (const u of units.filter((x) => x.envelope)) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: u.body }));
      messages++;
    }
    const bare = units.filter((x) => !x.envelope);
    if (bare.length > 0) {
      const errors: string[] = [];
      const first = JSON.parse(bare[0]!.body) as { group: { job: string } & Record<string, string> };
      const p = new AccruePublisher({
        queueUrl,
        group: first.group,
        sqs,
        profile,
        maxAttempts: 5,
        onError: (e) => errors.push(e.message),
      });
      for (const u of bare)
        for (const ev of (JSON.parse(u.body) as { events: Record<string, unknown>[] }).events)
          p.publish(ev as never);
      const stats = await p.close({ timeoutMs: 30_000 });
      failed = stats.eventsFailed;
      messages += stats.messagesSent;
      for (const e of errors) io.err(`error: ${e}\n`);
    }
  } finally {
    sqs.destroy();
  }
  io.out(
    `sent ${events - failed} event(s) in ${messages} message(s) to ${queueUrl}${failed ? `; ${failed} event(s) FAILED` : ''}\n`,
  );
  return failed === 0 ? 0 : 1;
}

function cmdStart(args: string[], io: Io): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) return Promise.resolve(help('start', io));
  const entry = path.join(ROOT, 'service/local.ts');
  if (!existsSync(entry))
    throw new GatewayNotFoundError(`${entry} is missing: this checkout has no local gateway`);
  const child = spawn(process.execPath, [...process.execArgv, entry, ...args.filter((a) => a !== '--')], {
    stdio: 'inherit',
    cwd: process.cwd(),
  });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1))),
  );
}

function help(cmd: string, io: Io): number {
  io.out(fillHelp(HELP[cmd] ?? HELP.main!, helpValues()));
  return 0;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [cmd, ...args] = argv;
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
        return help('main', io);
      case 'help':
        return help(args[0] ?? 'main', io);
      case 'start':
        return await cmdStart(args, io);
      case 'send':
        return await cmdSend(args, io);
      case 'validate':
        return await cmdValidate(args, io);
      case 'groups':
        return await cmdGroups(args, io, (c) => help(c, io));
      case 'top':
        return await cmdTop(args, io, (c) => help(c, io));
      case 'tables':
        return await cmdTables(args, io, (c) => help(c, io));
      default:
        throw new UsageError(
          `unknown command ${JSON.stringify(cmd)} (commands: start, send, validate, groups, top, tables)`,
        );
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(
        `accrue ${cmd ?? ''}: ${e.message}\nRun \`accrue ${cmd && HELP[cmd] ? `${cmd} ` : ''}--help\` for usage.\n`,
      );
      return 2;
    }
    if (e instanceof ValidationError || e instanceof AccrueError) {
      io.err(`accrue ${cmd}: ${e.message}\n`);
      return 1;
    }
    io.err(`accrue ${cmd}: ${(e as Error).name}: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: process.stdout.isTTY === true,
  }).then((code) => {
    process.exitCode = code;
  });
}

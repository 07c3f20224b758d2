/**
 * What every `accrue` command shares: the I/O seam, usage errors, flag parsing with readable messages,
 * the auth header, and HTTP requests to the gateway that say what to do when it isn't there.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { GatewayNotFoundError } from '../client/local';

/** A mistake in the command line: exit 2, with a pointer to the command's --help. */
export class UsageError extends Error {}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** True when stdout is a terminal (live views redraw in place; otherwise they print lines). */
  isTTY?: boolean;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The group every producer tool uses when none is given: the one job name of README, demo, rules and dashboards. */
export const DEFAULT_JOB = 'aria-pro';

function flagList(options: Options): string {
  return Object.entries(options)
    .map(([name, o]) => `--${name}${o.short ? `/-${o.short}` : ''}`)
    .join(', ');
}

/** node:util parseArgs, strict, with its errors turned into one readable sentence. */
export function parse<const T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true } as const);
  } catch (e) {
    const err = e as Error & { code?: string };
    const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    const flag = quoted.split(' ')[0] ?? quoted;
    switch (err.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(`unknown option ${flag} (options: ${flagList(options)})`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new UsageError(
          /argument missing/.test(err.message)
            ? `option ${flag} needs a value, e.g. ${flag} VALUE`
            : `option ${flag} takes no value`,
        );
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(`unexpected argument ${JSON.stringify(quoted)}`);
      default:
        throw new UsageError(err.message);
    }
  }
}

export function authHeader(spec: string | undefined): Record<string, string> {
  if (!spec) return {};
  const m = /^(basic|bearer):(.*)$/.exec(spec);
  if (!m) throw new UsageError('--auth: expected basic:USER:PASSWORD or bearer:TOKEN');
  if (m[1] === 'bearer') return { authorization: `Bearer ${m[2]}` };
  const i = m[2]!.indexOf(':');
  if (i < 0) throw new UsageError('--auth: expected basic:USER:PASSWORD');
  return { authorization: `Basic ${Buffer.from(m[2]!).toString('base64')}` };
}

export async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new GatewayNotFoundError(
      `cannot reach ${url} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}): is the gateway running? (\`npm start\`)`,
    );
  }
}

/** GET a JSON document of the gateway's API; a non-2xx answer is an error naming the URL and the reason. */
export async function getJson<T>(url: string, headers: Record<string, string>): Promise<T> {
  const res = await request(url, { headers });
  const text = await res.text();
  if (!res.ok)
    throw new GatewayNotFoundError(`GET ${url} failed: HTTP ${res.status} ${text.trim().slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/**
 * Why `npm start` could not start, in words that say what to change: a port in use names the
 * variable that moves it (ACCRUE_PORT for the service, ACCRUE_LOCAL_SQS_PORT for the SQS endpoint).
 */
import type { AccrueConfig } from '../../shared/config';

export function startErrorMessage(err: unknown, config: Pick<AccrueConfig, 'service' | 'local'>): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  const text = err instanceof Error ? err.message : String(err);
  if (e?.code !== 'EADDRINUSE' && !/EADDRINUSE/.test(text)) return `accrue: could not start: ${text}`;
  const port = e.port ?? Number(/:(\d+)\b(?!.*:\d)/.exec(text)?.[1]);
  const [variable, other] =
    port === config.local.sqsPort
      ? ['ACCRUE_LOCAL_SQS_PORT', config.local.sqsPort + 100]
      : port === config.service.port
        ? ['ACCRUE_PORT', config.service.port + 100]
        : ['ACCRUE_PORT or ACCRUE_LOCAL_SQS_PORT', 0];
  const what = variable === 'ACCRUE_LOCAL_SQS_PORT' ? 'the embedded SQS endpoint' : 'the service';
  return (
    `accrue: could not start: port ${Number.isFinite(port) ? port : '?'} is already in use (${what}); ` +
    'another `npm start`, a Pushgateway or an SQS emulator may be running there.\n' +
    `Stop it, or choose another port with ${variable}${other ? `, e.g. ${variable}=${other} npm start` : ''}.`
  );
}

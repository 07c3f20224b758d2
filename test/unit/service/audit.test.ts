/**
 * The audit line of a finished request: the group when its path is valid, else the path as sent (clipped);
 * the outcome and reason recorded on the request; client-supplied values clipped.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditLine } from '../../../service/audit';
import { setOutcome, setSeries } from '../../../service/push-facts';

function request(url: string, method = 'PUT', headers: Record<string, string> = {}): FastifyRequest {
  return { url, method, headers, socket: { remoteAddress: '127.0.0.1' } } as unknown as FastifyRequest;
}
const replied = (statusCode: number) => ({ statusCode }) as FastifyReply;

describe('auditLine', () => {
  it('names the group, outcome, series and caller of a push', () => {
    const req = request('/metrics/job/a/instance/i1', 'PUT', { 'x-forwarded-for': '203.0.113.7' });
    setOutcome(req, 'applied');
    setSeries(req, 3);
    expect(auditLine(req, replied(200), 'alice')).toEqual({
      action: 'PUT',
      group: { job: 'a', instance: 'i1' },
      status: 200,
      outcome: 'applied',
      series: 3,
      caller: { credential: 'alice', forwardedFor: '203.0.113.7', remoteAddress: '127.0.0.1' },
    });
  });

  it.each([
    ['%zz', '/metrics/job/a%zz'],
    ['an encoded lone surrogate', '/metrics/job/a%ED%A0%80?x=1'],
    ['no job', '/metrics/instance/i1'],
  ])('gives the path as sent when it has no valid group (%s)', (_n, url) => {
    const req = request(url, 'DELETE');
    setOutcome(req, 'refused', 'invalid');
    const line = auditLine(req, replied(400), 'unauthenticated');
    expect(line).toMatchObject({
      action: 'DELETE',
      path: url.split('?')[0],
      outcome: 'refused',
      reason: 'invalid',
    });
    expect(line.group).toBeUndefined();
  });

  it('clips a hostile path and X-Forwarded-For', () => {
    const req = request(`/metrics/job/a%zz${'x'.repeat(100_000)}`, 'PUT', {
      'x-forwarded-for': 'y'.repeat(100_000),
    });
    const json = JSON.stringify(auditLine(req, replied(400), 'anonymous'));
    expect(json.length).toBeLessThan(1024);
  });
});

describe('audit', () => {
  it.each([
    ['info', 1],
    ['warn', 0],
  ])('writes the line only when the log level %s lets it through (%i lines)', async (level, n) => {
    const { Writable } = await import('node:stream');
    const pino = (await import('pino')).default;
    const { audit } = await import('../../../service/audit');
    const lines: string[] = [];
    const sink = new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    });
    const log = pino({ level }, sink);
    const req = { ...request('/metrics/job/a'), log } as unknown as FastifyRequest;
    audit(req, replied(200), 'alice');
    await new Promise((r) => setImmediate(r));
    expect(lines.filter((l) => l.includes('"msg":"audit"'))).toHaveLength(n);
  });
});

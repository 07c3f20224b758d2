import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { generateArtifacts, ROOT } from '../../../scripts/gen-schema';
import { envelopeSchema } from '../../../shared/ingest/envelope';
import { ARIA_PROFILE } from '../../../shared/profiles/load';

describe('generated artifacts', () => {
  it.each(Object.entries(generateArtifacts()))(
    '%s is committed as generated (run `npm run schema`)',
    (rel, content) => {
      expect(readFileSync(join(ROOT, rel), 'utf8')).toBe(content);
    },
  );

  it('is a valid JSON Schema that ajv compiles in strict mode', () => {
    const ajv = new Ajv({ strict: true, allowMatchingProperties: true });
    const committed = JSON.parse(readFileSync(join(ROOT, 'schema/envelope-v1.schema.json'), 'utf8'));
    expect(ajv.validateSchema(committed)).toBe(true);
    expect(() => ajv.compile(committed)).not.toThrow();
  });

  it('lists every event kind: the generic ones and each ARIA domain event', () => {
    const schema = envelopeSchema(ARIA_PROFILE) as unknown as {
      properties: { events: { items: { anyOf: { properties: { kind: { const: string } } }[] } } };
    };
    const kinds = schema.properties.events.items.anyOf.map((s) => s.properties.kind.const);
    expect(kinds).toEqual([
      'counter',
      'gauge',
      'gauge',
      'histogram',
      'push',
      'execution',
      'error',
      'pnl',
      'performance',
      'connection',
      'kill_switch',
    ]);
  });

  it.each([
    ['missing group', { v: 1, events: [] }, false],
    ['unknown envelope field', { v: 1, group: { job: 'a' }, events: [], x: 1 }, false],
    ['id with #', { v: 1, id: 'a#b', group: { job: 'a' }, events: [] }, false],
    [
      '__proto__-like group label',
      JSON.parse('{"v":1,"group":{"job":"a","__proto__":"x"},"events":[]}'),
      false,
    ],
    ['minimal', { v: 1, group: { job: 'a' }, events: [] }, true],
  ])('the committed schema decides envelopes: %s', (_n, env, ok) => {
    const ajv = new Ajv({ strict: true, allowMatchingProperties: true });
    const v = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema/envelope-v1.schema.json'), 'utf8')));
    expect(v(env)).toBe(ok);
  });
});

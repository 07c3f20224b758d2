/**
 * Writes the committed artifacts generated from the single sources (TypeBox schemas in
 * shared/ingest/envelope.ts, the built-in profiles in shared/profiles/):
 * - schema/envelope-v1.schema.json: the envelope JSON Schema with the ARIA profile's domain events;
 * - shared/profiles/aria.events.ts: TypeScript types of the ARIA domain events.
 * A test (test/unit/ingest/schema.test.ts) fails when a committed file differs from what this generates.
 *
 *   npm run schema
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envelopeSchema } from '../shared/ingest/envelope';
import { ARIA_PROFILE } from '../shared/profiles/load';
import { profileTypesSource } from '../shared/profiles/typegen';

export const ROOT = join(__dirname, '..');

/** Relative path → content of every generated artifact. */
export function generateArtifacts(): Record<string, string> {
  return {
    'schema/envelope-v1.schema.json': `${JSON.stringify(envelopeSchema(ARIA_PROFILE), null, 2)}\n`,
    'shared/profiles/aria.events.ts': profileTypesSource(ARIA_PROFILE),
  };
}

if (require.main === module) {
  for (const [rel, content] of Object.entries(generateArtifacts())) {
    writeFileSync(join(ROOT, rel), content);
    console.log(`wrote ${rel} (${content.length} bytes)`);
  }
}

/**
 * The decode pipeline as the ingest Lambda ships it: bench/ingest.ts bundles this entry with the Lambda's
 * esbuild options (infra/bundling.ts `esbuildOptions`: CJS, node22, minified, tree-shaken) and measures
 * the bundle. Under tsx (and jest) every read of an imported binding is a getter call; in the bundle it is
 * a plain variable, as in the deployed function. The profile is compiled the way the Lambda compiles it
 * (`loadDeployedProfile`, the generated structural check, no TypeBox).
 */

import { compileWith } from '../shared/profiles/compiler';
import { LEAN_SHAPE } from '../shared/profiles/lean-shape';

export { decodeMessage } from '../shared/ingest/decode';
export { loadDeployedProfile } from '../shared/profiles/deployed';

/** A profile definition compiled as the Lambda compiles its profile (for the bench's classic-only variant). */
export function compileAsDeployed(definition: unknown, source: string) {
  return compileWith(definition, source, LEAN_SHAPE);
}

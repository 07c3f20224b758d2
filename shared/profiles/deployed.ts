/**
 * The ingest Lambda's profile loader. It compiles with the generated structural check (`lean-shape.ts`) and
 * reads JSON only, so neither TypeBox nor the YAML parser is in the Lambda bundle (docs/deploy.md,
 * "Profiles in the Lambda"). Profiles reach the Lambda validated: the built-in ones are tested with the
 * full loader, and the `AccrueGateway` construct validates a user profile with `loadProfile` at synth,
 * converts it to JSON and embeds it in the bundle (`ACCRUE_PROFILE=embedded:<name>`).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import ariaDefinition from './aria.json';
import { compileWith } from './compiler';
import { ProfileError } from './errors';
import { LEAN_SHAPE } from './lean-shape';
import type { CompiledProfile } from './types';

/** `ACCRUE_PROFILE` value naming the profile embedded in the bundle: `embedded:<profile name>`. */
export const EMBEDDED_PROFILE_PREFIX = 'embedded:';

const BUILT_IN: Readonly<Record<string, unknown>> = { aria: ariaDefinition };

/**
 * Loads the profile `ref` names: a built-in profile (`aria`), `embedded:<name>` (the definition the
 * construct embedded, passed as `embedded`), or a `.json` file. Throws `ProfileError` with every problem
 * found; a `.yaml`/`.yml` path is refused with what to do instead.
 */
export function loadDeployedProfile(ref: string, embedded?: unknown): CompiledProfile {
  if (Object.hasOwn(BUILT_IN, ref)) return compileWith(BUILT_IN[ref], `built-in profile ${ref}`, LEAN_SHAPE);
  if (ref.startsWith(EMBEDDED_PROFILE_PREFIX)) {
    if (embedded === undefined)
      throw new ProfileError(ref, [
        {
          path: '',
          message:
            'this bundle has no embedded profile (the AccrueGateway construct embeds it at synth; deploy through it or set ACCRUE_PROFILE to a built-in profile or a .json file)',
        },
      ]);
    const profile = compileWith(embedded, ref, LEAN_SHAPE);
    const name = ref.slice(EMBEDDED_PROFILE_PREFIX.length);
    if (profile.name !== name)
      throw new ProfileError(ref, [
        { path: 'name', message: `the embedded profile is "${profile.name}", not "${name}"` },
      ]);
    return profile;
  }
  const ext = extname(ref).toLowerCase();
  if (ext === '.yaml' || ext === '.yml')
    throw new ProfileError(ref, [
      {
        path: '',
        message:
          'YAML profiles are not read by the ingest Lambda (its bundle leaves the YAML parser out): deploy through the AccrueGateway construct, which converts the profile to JSON at synth, or convert the file to JSON',
      },
    ]);
  if (ext !== '.json')
    throw new ProfileError(ref, [
      {
        path: '',
        message: `is neither a built-in profile (${Object.keys(BUILT_IN).join(', ')}), ${EMBEDDED_PROFILE_PREFIX}<name>, nor a .json file`,
      },
    ]);
  let text: string;
  try {
    text = readFileSync(ref, 'utf8');
  } catch (e) {
    throw new ProfileError(ref, [{ path: '', message: `can't be read: ${(e as Error).message}` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(ref, [{ path: '', message: `is not valid JSON: ${(e as Error).message}` }]);
  }
  return compileWith(parsed, ref, LEAN_SHAPE);
}

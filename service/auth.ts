/**
 * Optional authentication for pushes/admin (`pushAuth`) and for reads (`scrapeAuth`).
 *
 * A spec is `basic:<user>:<password>` (the password may contain `:`) or `bearer:<token>`. The presented
 * secret and the expected one are both hashed with SHA-256 and compared with `crypto.timingSafeEqual`, so
 * neither the content nor the length of the secret leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface AuthCheck {
  readonly scheme: 'basic' | 'bearer';
  /** Who this credential is, for the audit log: the basic user name, or `bearer`. Never the secret. */
  readonly name: string;
  /** True when the Authorization header carries the expected credentials. */
  verify(authorization: string | undefined): boolean;
  /** Value for `WWW-Authenticate` on a 401. */
  readonly challenge: string;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Parses an auth spec; throws an Error naming the setting when it is malformed. */
export function parseAuthSpec(spec: string, setting: string): AuthCheck {
  const i = spec.indexOf(':');
  const kind = i < 0 ? spec : spec.slice(0, i);
  const rest = i < 0 ? '' : spec.slice(i + 1);
  if (kind === 'basic') {
    const j = rest.indexOf(':');
    if (j <= 0 || j === rest.length - 1)
      throw new Error(`${setting}: basic auth must be "basic:<user>:<password>" with both non-empty`);
    const expected = digest(rest);
    return {
      scheme: 'basic',
      name: rest.slice(0, j),
      challenge: 'Basic realm="accrue", charset="UTF-8"',
      verify(header) {
        const m = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
        if (!m) return false;
        return timingSafeEqual(digest(Buffer.from(m[1]!, 'base64').toString('utf8')), expected);
      },
    };
  }
  if (kind === 'bearer') {
    if (rest === '')
      throw new Error(`${setting}: bearer auth must be "bearer:<token>" with a non-empty token`);
    const expected = digest(rest);
    return {
      scheme: 'bearer',
      name: 'bearer',
      challenge: 'Bearer realm="accrue"',
      verify(header) {
        const m = /^bearer +(\S+) *$/i.exec(header ?? '');
        if (!m) return false;
        return timingSafeEqual(digest(m[1]!), expected);
      },
    };
  }
  throw new Error(`${setting}: must be "basic:<user>:<password>" or "bearer:<token>"`);
}

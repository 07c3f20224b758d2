/**
 * What `/api/v1/status` reports as `build_information`, with the Pushgateway's keys (`version`,
 * `revision`, `branch`, `buildUser`, `buildDate`) and, instead of `goVersion`, `nodeVersion` (the runtime).
 *
 * service/build.mjs stamps revision, branch, user and date into the bundle (esbuild `define` of
 * `__ACCRUE_BUILD__`); runs from source (npm start, tests) report `unknown` for what only a build knows.
 */

import { version } from '../package.json';

declare const __ACCRUE_BUILD__:
  | {
      readonly revision: string;
      readonly branch: string;
      readonly buildUser: string;
      readonly buildDate: string;
    }
  | undefined;

/** The package's version (package.json, the one place it is written; esbuild inlines only this field). */
export const ACCRUE_VERSION: string = version;

export interface BuildInformation {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  readonly nodeVersion: string;
}

export function buildInformation(): BuildInformation {
  const stamped = typeof __ACCRUE_BUILD__ === 'undefined' ? undefined : __ACCRUE_BUILD__;
  return {
    version: ACCRUE_VERSION,
    revision: stamped?.revision ?? 'unknown',
    branch: stamped?.branch ?? 'unknown',
    buildUser: stamped?.buildUser ?? 'unknown',
    buildDate: stamped?.buildDate ?? 'unknown',
    nodeVersion: process.version,
  };
}

/** /api/v1/status's version is the package's (it was a literal that had drifted to 0.1.0 beside 0.2.0). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ACCRUE_VERSION, buildInformation } from '../../../service/build-info';

it('reports the version written in package.json', () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(ACCRUE_VERSION).toBe(pkg.version);
  expect(buildInformation().version).toBe(pkg.version);
});

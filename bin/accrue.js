#!/usr/bin/env node
// `npx accrue …`: runs shared/cli/main.ts through tsx (a dependency of this repository), so the CLI
// works from a clean clone without a build step. Exit code and signals pass through.

const { spawn } = require('node:child_process');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const main = path.join(__dirname, '..', 'shared', 'cli', 'main.ts');
let loader;
try {
  loader = pathToFileURL(require.resolve('tsx', { paths: [path.join(__dirname, '..')] })).href;
} catch {
  process.stderr.write('accrue: tsx is not installed: run `npm ci` in the Accrue checkout first\n');
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', loader, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});

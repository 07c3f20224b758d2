// Prints the plain closing line CI reads ("N passed, M failed") and writes it to .jest-summary.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const failedSuites = results.numFailedTestSuites + (results.numRuntimeErrorTestSuites ?? 0);
    // A suite that failed to load counts as one failure even though it ran no test.
    const failed =
      results.numFailedTests + (results.numFailedTests === 0 && failedSuites > 0 ? failedSuites : 0);
    const line =
      `${results.numPassedTests} passed, ${failed} failed` +
      (results.numPendingTests ? `, ${results.numPendingTests} skipped` : '');
    fs.writeFileSync(path.join(this.rootDir, '.jest-summary'), `${line}\n`);
    process.stdout.write(`\n${line}\n`);
  }
}
module.exports = SummaryReporter;

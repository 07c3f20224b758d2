// Runs in every test worker before the tests.
process.env.CDK_VALIDATION = 'false';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_REGION ??= 'us-east-1';
process.env.POWERTOOLS_DEV ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Property tests explore new random cases on every developer run; in CI (CI=true) they use one fixed seed,
// so a landing is never decided by chance. FC_SEED overrides it (to replay a failure, or explore in CI).
if (process.env.CI || process.env.FC_SEED) {
  require('fast-check').configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261126) });
}

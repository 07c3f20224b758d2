/**
 * The DynamoDB endpoint a benchmark measures: the one given (`--endpoint`: LocalStack, AWS), else a
 * DynamoDB Local started for the run; `stop` ends what was started (nothing when an endpoint was given).
 */
export async function dynamoEndpoint(
  given?: string,
): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  if (given) return { endpoint: given, stop: async () => {} };
  // @ts-expect-error -- plain ESM helper without types (test/support/emulators.mjs)
  const emu = (await import('../test/support/emulators.mjs')) as {
    startDynamoDbLocal: () => Promise<{ endpoint: string; stop: () => Promise<void> }>;
  };
  return emu.startDynamoDbLocal();
}

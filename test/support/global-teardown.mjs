export default async function globalTeardown() {
  const started = globalThis.__ACCRUE_EMULATORS__ ?? [];
  await Promise.all(started.map((s) => s.stop()));
}

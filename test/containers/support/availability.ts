/**
 * Whether the container tests can run here, decided once by global-setup.ts (engine, images,
 * LocalStack's image) and handed to the test files through the environment. A test that cannot run
 * is skipped with the reason in its name, never passed.
 */

export const ENGINE_SKIP_ENV = "UMS_EDGE_TEST_ENGINE_SKIP";
export const LOCALSTACK_SKIP_ENV = "UMS_EDGE_TEST_LOCALSTACK_SKIP";

/** Why the tests that need the engine and our images cannot run, or undefined. */
export function engineSkipReason(): string | undefined {
  return process.env[ENGINE_SKIP_ENV] || undefined;
}

/** Why the LocalStack tests cannot run, or undefined. */
export function localStackSkipReason(): string | undefined {
  return engineSkipReason() ?? (process.env[LOCALSTACK_SKIP_ENV] || undefined);
}

function describeIf(reason: string | undefined, name: string, fn: () => void): void {
  if (reason) describe.skip(`${name} [skipped: ${reason}]`, fn);
  else describe(name, fn);
}

/** describe() that needs a Docker engine and the ums-edge images. */
export function describeWithEngine(name: string, fn: () => void): void {
  describeIf(engineSkipReason(), name, fn);
}

/** describe() that also needs LocalStack's image. */
export function describeWithLocalStack(name: string, fn: () => void): void {
  describeIf(localStackSkipReason(), name, fn);
}

/**
 * Container tests (test/containers only): every component in its own container on Docker networks.
 * They need a Docker engine and the ums-edge images (scripts/containers/build-images.sh);
 * `bash scripts/containers/ci.sh` provides both and runs them. Without an engine they are skipped,
 * with the reason in each skipped test's name. The normal suite (jest.config.js) ignores this folder.
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test/containers"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  globalSetup: "<rootDir>/test/containers/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/containers/support/global-teardown.ts",
  testTimeout: 120000,
  // Each test file starts a handful of containers; two at a time suit a 2-core machine.
  maxWorkers: 2,
  // Every test by name, so a skipped one shows the reason it carries.
  verbose: true,
};

/** Unit and integration tests; container tests have their own config (jest.containers.config.js). */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/test/containers/"],
  // ts-jest transpiles file by file (isolatedModules in tsconfig.json); `npm run typecheck` checks types.
  transform: { "^.+\\.ts$": "ts-jest" },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  testTimeout: 60000,
};

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
  // Two workers on two cores: most suites wait on processes and sockets, not the CPU (675 s serial, measured);
  // the network-namespace suites take a lock among themselves (test/helpers/netns-lock.ts).
  maxWorkers: 2,
};

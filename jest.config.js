/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
  // The service's tests and every workspace package's own (the emulator's conformance suite).
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/packages/*/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/quiet-runtime.ts'],
  // Bundling workflow code and starting servers needs far more than Jest's 5 s default.
  testTimeout: 120000,
  maxWorkers: 2,
  // The Temporal native runtime keeps a handle open after teardown (sdk-typescript #928).
  forceExit: true,
};

// Shared Jest settings: TypeScript through SWC, workspace packages resolved to their sources.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  testEnvironmentOptions: {
    customExportConditions: ['@meterkit/source', 'node', 'node-addons'],
  },
  // jose is ESM-only: let SWC turn it into CommonJS like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  setupFiles: [path.join(__dirname, 'jest.setup.js')],
  testTimeout: 30000,
};

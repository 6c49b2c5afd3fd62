/**
 * Nest 12 ships ES modules; Jest's CommonJS loader on Node 20 cannot require them, so @swc/jest turns those
 * packages into CommonJS while ts-jest compiles the project's own TypeScript.
 */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testEnvironment: 'node',
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { tsconfig: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0', useDefineForClassFields: false, isolatedModules: true } },
    ],
    '^.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|uid|load-esm|file-type|strtok3|token-types|@tokenizer|uint8array-extras|request-filtering-agent|ipaddr.js)/)',
  ],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  setupFilesAfterEnv: ['<rootDir>/test/support/openapi-setup.ts'],
  testTimeout: 60_000,
  maxWorkers: 2,
};

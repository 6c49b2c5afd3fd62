/**
 * Two tiers: `unit` (the specs beside the code in src/ and console/: no build, no global setup, seconds) and `e2e`
 * (test/: the real AppModule, loopback HTTP servers, the built relay as a process). `npm test` runs both,
 * `npm run test:unit` / `npm run test:e2e` one of them.
 *
 * Nest 12 ships ES modules; Jest's own CommonJS module loader cannot require them (Node's require(esm) does not apply
 * inside it), so @swc/jest turns those packages into CommonJS while ts-jest compiles the project's own TypeScript.
 */
const shared = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: {
          module: 'commonjs',
          moduleResolution: 'node10',
          ignoreDeprecations: '6.0',
          useDefineForClassFields: false,
          isolatedModules: true,
        },
      },
    ],
    '^.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|uid|load-esm|file-type|strtok3|token-types|@tokenizer|uint8array-extras|request-filtering-agent|ipaddr.js)/)',
  ],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60_000,
  maxWorkers: 2,
  // The workers exit within milliseconds of being told to, but on a loaded 2-core machine Jest's own process can stall
  // for ~0.5 s right then and only notice afterwards; with the 500 ms default it then reports a worker that "failed to
  // exit gracefully" that had long gone. A worker truly held open by a leak is still reported, after 5 s.
  workerGracefulExitTimeout: 5_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/src', '<rootDir>/console'],
      testRegex: '.*\\.spec\\.ts$',
    },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testRegex: '.*\\.e2e-spec\\.ts$',
      // Builds dist/ when stale (the process tests run it) and writes the OpenAPI document the answers are checked against.
      globalSetup: '<rootDir>/test/support/global-setup.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/openapi-setup.ts'],
      testTimeout: 60_000,
    },
  ],
};

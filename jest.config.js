/**
 * Nest 12 ships ES modules; Jest's own CommonJS module loader cannot require them (Node's require(esm) does not apply
 * inside it), so @swc/jest turns those packages into CommonJS while ts-jest compiles the project's own TypeScript.
 */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/console'],
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
  // Each test file gets a fresh worker process. Added for better-sqlite3 12, whose statements created by one file and
  // garbage-collected while a later file ran in the same worker aborted the process on Node 24.19+ (Assertion failed
  // in RemoveEnvironmentCleanupHook, from Statement::~Statement). better-sqlite3 13 (Node-API) should not need it, but
  // no full run without it has shown that yet, and it also keeps every file's native handles in its own process.
  workerIdleMemoryLimit: '10MB',
  // The workers exit within milliseconds of being told to, but on a loaded 2-core machine Jest's own process can stall
  // for ~0.5 s right then and only notice afterwards; with the 500 ms default it then reports a worker that "failed to
  // exit gracefully" that had long gone. A worker truly held open by a leak is still reported, after 5 s.
  workerGracefulExitTimeout: 5_000,
};

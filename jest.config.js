/**
 * Jest runs the compiled test build (`tsc -p tsconfig.json` -> .build/) in native ESM mode:
 * NestJS 12 ships as ES modules, and type-checking already happened in tsc, so our code is
 * not transformed here. `npm test` compiles first.
 *
 * Two exceptions, both because Jest cannot `require()` an ES module on Node 20 (Node itself
 * can): @fastify/static (Swagger UI's file server) requires the ESM-only content-disposition,
 * so that one package is turned into CommonJS; and @nestjs/throttler (CommonJS) requires
 * @nestjs/common and @nestjs/core, so its requires are bridged to the app's ESM instances.
 */
const REQUIRED_ESM_PACKAGES = ['content-disposition'];
/** CommonJS packages that require ESM ones; see test/support/esm-bridge.transformer.cjs. */
const BRIDGED_CJS_PACKAGES = ['@nestjs/throttler'];
const transformed = [...REQUIRED_ESM_PACKAGES, ...BRIDGED_CJS_PACKAGES];

export default {
  testEnvironment: 'node',
  rootDir: '.build',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.js', '**/*.e2e-spec.js'],
  transform: {
    [`/node_modules/(${REQUIRED_ESM_PACKAGES.join('|')})/.+\\.js$`]: [
      'babel-jest',
      { babelrc: false, configFile: false, plugins: ['@babel/plugin-transform-modules-commonjs'] },
    ],
    [`/node_modules/(${BRIDGED_CJS_PACKAGES.join('|')})/.+\\.js$`]:
      '<rootDir>/../test/support/esm-bridge.transformer.cjs',
  },
  transformIgnorePatterns: [`/node_modules/(?!(${transformed.join('|')})/)`],
  setupFiles: ['<rootDir>/test/support/esm-bridge.setup.js'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  testTimeout: 30_000,
  maxWorkers: 2,
};

/**
 * Jest runs the compiled test build (`tsc -p tsconfig.json` -> .build/) in native ESM mode:
 * NestJS 12 ships as ES modules, and type-checking already happened in tsc, so our code is
 * not transformed here. `npm test` compiles first.
 *
 * One exception: Jest cannot `require()` an ES module on Node 20 (Node itself can), and
 * @fastify/static (Swagger UI's file server) requires the ESM-only content-disposition, so
 * that one package is turned into CommonJS for the tests.
 */
const REQUIRED_ESM_PACKAGES = ['content-disposition'];

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
  },
  transformIgnorePatterns: [`/node_modules/(?!(${REQUIRED_ESM_PACKAGES.join('|')})/)`],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  testTimeout: 30_000,
  maxWorkers: 2,
};

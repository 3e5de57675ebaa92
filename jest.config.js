'use strict'
// Tests run from TypeScript sources through @swc/jest (ts-jest needs the old TypeScript API).
// @platformatic/kafka ships ESM only, and so does cookie (light-my-request's, behind Fastify's inject()),
// so both are transformed to CommonJS for jest as well;
// at run time (dist/) Node >= 20.19 loads it with require(esm).
const transform = {
  '^.+\\.(t|j|mj)s$': ['@swc/jest', {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs', importInterop: 'node' }
  }]
}
const common = {
  transform,
  transformIgnorePatterns: ['/node_modules/(?!(@platformatic|cookie|content-disposition)/)'],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json']
}
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts'
    }
  ]
}

'use strict'
/**
 * A require hook that compiles TypeScript sources on the fly with @swc/core (the compiler jest already uses),
 * so integration tests can run a child process from the sources without `npm run build`:
 *   node --require ./test/support/swc-register.js test/support/streams-child.ts
 * Only files ending in .ts outside node_modules are compiled; packages load as usual (ESM ones via require(esm)).
 */
const fs = require('node:fs')
const Module = require('node:module')
const { transformSync } = require('@swc/core')

const options = {
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs', importInterop: 'node' },
  sourceMaps: 'inline'
}

Module._extensions['.ts'] = function compileTypeScript (module, filename) {
  if (filename.includes(`${require('node:path').sep}node_modules${require('node:path').sep}`)) {
    throw new Error(`swc-register: refusing to compile ${filename} (TypeScript inside node_modules)`)
  }
  const source = fs.readFileSync(filename, 'utf8')
  const { code } = transformSync(source, { ...options, filename })
  module._compile(code, filename)
}

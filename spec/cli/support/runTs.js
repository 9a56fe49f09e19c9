#!/usr/bin/env node
'use strict';
/**
 * Runs a TypeScript entry point without a build: `node spec/cli/support/runTs.js src/cli/main.ts run …`.
 * .ts files are compiled on require with @swc/core (the transformer jest already uses), so
 * CLI specs can spawn the real process against the sources.
 */
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    module: { type: 'commonjs' },
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
  });
  module._compile(code, filename);
};

const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: runTs.js <file.ts> [args…]\n');
  process.exit(64);
}
// The entry sees its own arguments as if it had been started directly.
process.argv.splice(1, 2, path.resolve(entry));
require(path.resolve(entry));

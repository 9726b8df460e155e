#!/usr/bin/env node
'use strict';
/**
 * Removes the package's dist/ (run from the package's directory) before its build: tsc only adds and overwrites, so a
 * source file deleted since the last build would otherwise leave its output behind, to be cached and packed.
 */
const { rmSync } = require('node:fs');
const { join } = require('node:path');

rmSync(join(process.cwd(), 'dist'), { recursive: true, force: true });

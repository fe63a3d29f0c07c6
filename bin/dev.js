#!/usr/bin/env node
// Development entry: same as run.js but with oclif's development mode (more verbose errors).
// Build first (`npm run build`); we do not ship a TypeScript loader.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})

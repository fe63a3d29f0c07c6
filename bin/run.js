#!/usr/bin/env node
// `--version` first is answered without loading oclif (src/entry/fast-version.ts); everything
// else runs the bundled CLI through oclif (bin/load.js).
if (process.argv[2] === '--version') {
  const {fastVersionLine} = await import('../dist/fast-version.mjs')
  process.stdout.write(`${fastVersionLine(new URL('../package.json', import.meta.url))}\n`)
} else {
  const {loadBundle} = await import('./load.js')
  await loadBundle().exports.execute({dir: import.meta.url})
}

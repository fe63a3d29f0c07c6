#!/usr/bin/env node
// `--version` first is answered without loading oclif (src/entry/fast-version.ts); everything
// else runs the bundled CLI through oclif (bin/load.js). A checkout that was never built gets one
// line saying so (exit 70, as for any internal error), not a stack trace.
const notBuilt = (e) => {
  if (e?.code !== 'ENOENT' && e?.code !== 'ERR_MODULE_NOT_FOUND') throw e
  process.stderr.write('gbrain: the CLI is not built (dist/ is missing or incomplete) (fix: npm run build)\n')
  process.exit(70)
}

if (process.argv[2] === '--version') {
  const {fastVersionLine} = await import('../dist/fast-version.mjs').catch(notBuilt)
  process.stdout.write(`${fastVersionLine(new URL('../package.json', import.meta.url))}\n`)
} else {
  const {loadBundle} = await import('./load.js')
  let bundle
  try {
    bundle = loadBundle()
  } catch (e) {
    notBuilt(e)
  }
  await bundle.exports.execute({dir: import.meta.url})
}

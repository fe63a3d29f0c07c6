#!/usr/bin/env node
// `--version` first is answered without loading oclif (src/entry/fast-version.ts); everything
// else runs the bundled CLI through oclif (bin/load.js). A checkout that was never built gets one
// line saying so (exit 70, as for any internal error), not a stack trace. Only a missing build
// output is said so; any other error goes on as it is.
import {fileURLToPath, pathToFileURL} from 'node:url'

const FAST_VERSION = new URL('../dist/fast-version.mjs', import.meta.url)

function notBuilt(e, file) {
  const missing = (e?.code === 'ENOENT' && e.path === file) || (e?.code === 'ERR_MODULE_NOT_FOUND' && e.url === pathToFileURL(file).href)
  if (!missing) throw e
  process.stderr.write('gbrain: the CLI is not built (dist/ is missing or incomplete) (fix: npm run build)\n')
  process.exit(70)
}

if (process.argv[2] === '--version') {
  const {fastVersionLine} = await import(FAST_VERSION.href).catch((e) => notBuilt(e, fileURLToPath(FAST_VERSION)))
  process.stdout.write(`${fastVersionLine(new URL('../package.json', import.meta.url))}\n`)
} else {
  const {BUNDLE, loadBundle} = await import('./load.js')
  let bundle
  try {
    bundle = loadBundle()
  } catch (e) {
    notBuilt(e, BUNDLE)
  }
  await bundle.exports.execute({dir: import.meta.url})
}

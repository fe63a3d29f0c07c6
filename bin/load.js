/**
 * Loads the bundled CLI, `dist/gbrain.cjs`, with the V8 code cache the build made for it
 * (`dist/gbrain.cjs.cache`): the bytecode of start-up and of a doctor run, so most of the bundle
 * is not compiled again at each start (Node 20 keeps no compile cache of its own).
 *
 * The cache is used only when its first 32 bytes are the SHA-256 of the bundle read now: V8's
 * own check compares the source's length, not its text. A missing, stale or rejected cache
 * (another Node version) costs only the compile. The module is registered in `require.cache`,
 * so oclif's `require` of the same file (commands, hooks, help: package.json `oclif`) gets this
 * instance, not a second copy. Read-only at run time: only the build writes the cache.
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {createRequire, Module} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import vm from 'node:vm'

export const BUNDLE = fileURLToPath(new URL('../dist/gbrain.cjs', import.meta.url))
export const CODE_CACHE = `${BUNDLE}.cache`
const DIGEST_BYTES = 32

/** The code cache for `source`, or undefined when there is none or it was made for other text. */
function cachedDataFor(digest) {
  let file
  try {
    file = readFileSync(CODE_CACHE)
  } catch {
    return undefined
  }
  return file.length > DIGEST_BYTES && digest.equals(file.subarray(0, DIGEST_BYTES)) ? file.subarray(DIGEST_BYTES) : undefined
}

/**
 * Evaluate the bundle once. `useCache: false` compiles from source (the build's training run).
 * Returns its exports, whether the cache was used, and `makeCache()`: the file the build writes.
 */
export function loadBundle({useCache = true} = {}) {
  const source = readFileSync(BUNDLE)
  const digest = createHash('sha256').update(source).digest()
  const cachedData = useCache ? cachedDataFor(digest) : undefined
  const script = new vm.Script(Module.wrap(source.toString('utf8')), {
    filename: BUNDLE,
    ...(cachedData ? {cachedData} : {}),
  })
  const module = new Module(BUNDLE)
  module.filename = BUNDLE
  module.paths = Module._nodeModulePaths(path.dirname(BUNDLE))
  Module._cache[BUNDLE] = module
  script.runInThisContext().call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, path.dirname(BUNDLE))
  module.loaded = true
  // The embedded drivers are ES modules left out of the bundle; code run from a vm script cannot
  // import() on Node 20 (src/engine/pglite/driver-import.ts), so this module imports for it.
  module.exports.setDriverImporter((specifier) => import(specifier))
  return {
    exports: module.exports,
    cacheUsed: cachedData !== undefined && !script.cachedDataRejected,
    makeCache: () => Buffer.concat([digest, script.createCachedData()]),
  }
}

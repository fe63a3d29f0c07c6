/**
 * The build's training run for the V8 code cache (bin/load.js): evaluate the bundle from source,
 * run the doctor twice in this process (table, then JSON) on an empty temporary home against a
 * Postgres URL on a closed loopback port (refused at once: the driver is loaded, nothing is
 * reached), and write the bytecode V8 then holds — start-up, oclif's dispatch, the engine, the
 * checks and both renderers — to `dist/gbrain.cjs.cache` at exit (oclif may end the process
 * itself). Run by scripts/bundle.mjs as `train-code-cache.mjs APP` (the package root to train).
 */
import {mkdtempSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

const app = path.resolve(process.argv[2] ?? '.')
const {CODE_CACHE, loadBundle} = await import(pathToFileURL(path.join(app, 'bin', 'load.js')).href)

const home = mkdtempSync(path.join(tmpdir(), 'gbrain-code-cache-'))
process.env.GBRAIN_HOME = home
process.env.NO_COLOR = '1'
delete process.env.DATABASE_URL
// Port 9 (discard) on loopback: nothing listens there on a build machine, so the connect is refused.
process.env.GBRAIN_DATABASE_URL = 'postgres://gbrain@127.0.0.1:9/brain'

const {exports, makeCache} = loadBundle({useCache: false})
process.on('exit', () => {
  const partial = `${CODE_CACHE}.${process.pid}.tmp`
  writeFileSync(partial, makeCache())
  renameSync(partial, CODE_CACHE)
  rmSync(home, {recursive: true, force: true})
})
const dir = pathToFileURL(path.join(app, 'bin', 'run.js')).href
await exports.execute({args: ['doctor', '--no-history', '--fail-on', 'never'], dir})
await exports.execute({args: ['doctor', '--json', '--no-history', '--fail-on', 'never'], dir})

/**
 * Builds the CLI that `bin/run.js` runs: `src/entry/bundle.ts` and everything it imports (oclif
 * included) in one CommonJS file, `dist/gbrain.cjs`, then its V8 code cache
 * (scripts/train-code-cache.mjs) and a check that a fresh process accepts that cache; and
 * `dist/fast-version.mjs`, the `--version` answer that needs no oclif (src/entry/fast-version.ts).
 * Minified (a smaller file to read, hash and deserialise: ~10 % of a doctor run's start), with
 * function and class names kept, so a `--debug` stack still names them.
 * Not bundled: the embedded drivers (PGlite finds its WebAssembly and data files next to its own
 * modules, so they are imported from node_modules when a run opens an embedded brain) and
 * TypeScript (oclif asks for it only in development mode).
 *
 * `node scripts/bundle.mjs [APP]`: APP is the package root holding `bin/load.js` and receiving
 * `dist/` (default: this repository; the benches pass their snapshot of the app).
 */
import {spawnSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'

const repo = fileURLToPath(new URL('..', import.meta.url))
const app = path.resolve(process.argv[2] ?? repo)
const common = {
  absWorkingDir: repo,
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  logLevel: 'warning',
}
await build({
  ...common,
  entryPoints: ['src/entry/bundle.ts'],
  outfile: path.join(app, 'dist', 'gbrain.cjs'),
  format: 'cjs',
  external: ['typescript', 'ts-node', '@electric-sql/pglite', '@electric-sql/pglite/*', 'pglite-pg18', 'pglite-pg18/*'],
})
await build({...common, entryPoints: ['src/entry/fast-version.ts'], outfile: path.join(app, 'dist', 'fast-version.mjs'), format: 'esm'})

function node(args, what) {
  const r = spawnSync(process.execPath, args, {cwd: app, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe']})
  if (r.status !== 0) {
    process.stderr.write(r.stderr)
    throw new Error(`bundle: ${what} failed (exit ${r.status ?? r.signal})`)
  }
}

node([path.join(repo, 'scripts', 'train-code-cache.mjs'), app], 'the code-cache training run')
node(
  ['--input-type=module', '-e', "import {loadBundle} from './bin/load.js'; if (!loadBundle().cacheUsed) process.exit(3)"],
  'the code-cache check (a fresh process did not accept the cache)',
)

/**
 * The built CLI is the bundle (docs/architecture.md "The built CLI"): package.json sends oclif's
 * commands, hooks and help to `dist/gbrain.cjs`; a run loads one copy of oclif, from the bundle;
 * the V8 code cache is used only for the bundle it was made for; `--version` answers without
 * oclif with oclif's own line.
 */
import {cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {BIN, capture, cliEnv, gbrain} from '../helpers/cli.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  oclif: Record<string, unknown> & {hooks: Record<string, {target: string}>}
}

afterAll(removeHomes)

/** `node <script>` run with the CLI's environment from `cwd`. */
function node(args: string[], cwd = root) {
  return capture(process.execPath, args, {cwd, env: cliEnv({})}, 60_000, `node ${args.join(' ')}`)
}

/** A copy of the built app (package.json, manifest, bin/, dist/ bundle and cache; node_modules linked). */
function appCopy(): string {
  const app = tempDir('gbrain-bundle-')
  for (const f of ['package.json', 'oclif.manifest.json']) cpSync(path.join(root, f), path.join(app, f))
  cpSync(path.join(root, 'bin'), path.join(app, 'bin'), {recursive: true})
  mkdirSync(path.join(app, 'dist'))
  for (const f of ['gbrain.cjs', 'gbrain.cjs.cache', 'fast-version.mjs']) cpSync(path.join(root, 'dist', f), path.join(app, 'dist', f))
  symlinkSync(path.join(root, 'node_modules'), path.join(app, 'node_modules'), 'dir')
  return app
}

const CACHE_USED = "import {loadBundle} from './bin/load.js'; process.stdout.write(String(loadBundle().cacheUsed))"

describe('the bundled CLI', () => {
  it('package.json points oclif at the bundle for commands, hooks and help, and sets no extra version flag', () => {
    expect(pkg.oclif.commands).toEqual({strategy: 'explicit', target: './dist/gbrain.cjs', identifier: 'COMMANDS'})
    expect(pkg.oclif.helpClass).toEqual({target: './dist/gbrain.cjs', identifier: 'Help'})
    expect(Object.values(pkg.oclif.hooks).map((h) => h.target)).toEqual(['./dist/gbrain.cjs', './dist/gbrain.cjs'])
    // bin/run.js answers `--version` itself: that is right only while it is oclif's one version flag.
    expect(pkg.oclif.additionalVersionFlags).toBeUndefined()
  })

  // vitest runs with NODE_ENV=test, which makes oclif look for TypeScript sources unless told not to.
  it('a run loads one oclif, the bundled one, and nothing else: no file of node_modules (not even TypeScript) nor of the unbundled dist/', async () => {
    const probe = path.join(tempDir('gbrain-probe-'), 'probe.cjs')
    writeFileSync(
      probe,
      "process.on('exit', () => process.stderr.write('\\nREQUIRED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'))\n",
    )
    const r = await capture(process.execPath, ['-r', probe, BIN, 'doctor', '--list'], {env: cliEnv({})}, 60_000, 'doctor --list')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('batch_retry_health')
    const required = JSON.parse(/REQUIRED (.*)\n/.exec(r.stderr)![1]!) as string[]
    expect(required).toContain(path.join(root, 'dist', 'gbrain.cjs'))
    expect(
      required.filter((f) => f.includes(`${path.sep}node_modules${path.sep}`) || f.startsWith(path.join(root, 'dist', path.sep))),
    ).toEqual([path.join(root, 'dist', 'gbrain.cjs')])
  })

  it('the build leaves a code cache that a fresh process accepts', async () => {
    const r = await node(['--input-type=module', '-e', CACHE_USED])
    expect(r.stdout).toBe('true')
  })

  it('a cache made for other text of the same length is not used: the new text runs', async () => {
    const app = appCopy()
    const bundle = path.join(app, 'dist', 'gbrain.cjs')
    const text = readFileSync(bundle, 'utf8')
    // Text only the bundle's code holds (the manifest caches commands, not checks).
    const before = 'runs SELECT 1 and reads the server version'
    const after = 'runs SELECT 1 AND READS THE SERVER VERSION'
    expect(text).toContain(before)
    writeFileSync(bundle, text.replaceAll(before, after))
    expect(readFileSync(bundle).length).toBe(Buffer.byteLength(text))

    expect((await node(['--input-type=module', '-e', CACHE_USED], app)).stdout).toBe('false')
    const list = await node([path.join(app, 'bin', 'run.js'), 'doctor', '--list', '--json'], app)
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(after)
  })

  it('a missing or damaged cache costs only the compile: the CLI still runs', async () => {
    const app = appCopy()
    writeFileSync(path.join(app, 'dist', 'gbrain.cjs.cache'), 'not a cache')
    expect((await node(['--input-type=module', '-e', CACHE_USED], app)).stdout).toBe('false')
    const r = await node([path.join(app, 'bin', 'run.js'), 'doctor', '--list', '--json'], app)
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as Array<{name: string}>).map((c) => c.name)).toContain('batch_retry_health')
  })

  it('a checkout that was never built says so in one line (exit 70), for --version and for a command', async () => {
    const app = tempDir('gbrain-unbuilt-')
    cpSync(path.join(root, 'package.json'), path.join(app, 'package.json'))
    cpSync(path.join(root, 'bin'), path.join(app, 'bin'), {recursive: true})
    symlinkSync(path.join(root, 'node_modules'), path.join(app, 'node_modules'), 'dir')
    for (const args of [['--version'], ['doctor']]) {
      const r = await node([path.join(app, 'bin', 'run.js'), ...args], app)
      expect(r.code).toBe(70)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe('gbrain: the CLI is not built (dist/ is missing or incomplete) (fix: npm run build)\n')
    }
  })

  it('only a missing build output is called "not built": another missing file is the error it is', async () => {
    const app = appCopy()
    const elsewhere = path.join(app, 'not-there.json')
    writeFileSync(path.join(app, 'dist', 'gbrain.cjs'), `require('node:fs').readFileSync(${JSON.stringify(elsewhere)})\n`)
    const r = await node([path.join(app, 'bin', 'run.js'), 'doctor'], app)
    expect(r.code).not.toBe(0)
    expect(r.stderr).not.toContain('not built')
    expect(r.stderr).toContain('not-there.json')
  })

  it('--version without oclif prints the line oclif prints for `gbrain version` and in the root help', async () => {
    const [fast, viaOclif, help, trailing] = await Promise.all([
      gbrain(['--version']),
      gbrain(['version']),
      gbrain(['--help']),
      gbrain(['--version', 'doctor']),
    ])
    expect(fast.code).toBe(0)
    expect(fast.stderr).toBe('')
    expect(fast.stdout).toBe(viaOclif.stdout)
    expect(help.stdout).toContain(`VERSION\n  ${fast.stdout}`)
    // oclif reads only the first word for its version flag; so does the fast path.
    expect(trailing.stdout).toBe(fast.stdout)
  })
})

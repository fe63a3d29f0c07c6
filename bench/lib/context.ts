/**
 * What every benchmark shares: the mode (full or --quick), a temp root removed at the end, the
 * app under test, a shared throwaway PostgreSQL 15 cluster, and a hermetic environment.
 *
 * The app under test is a snapshot: `npm run bench` compiles src/ (with the project's compiler
 * options) into .tmp/bench-build/src, and the harness lays out `<tmp>/app/{package.json,
 * oclif.manifest.json, bin/, dist/}` from it, with node_modules linked to the project's, then
 * bundles the current src/ into that dist/ as the build does (scripts/bundle.mjs: the bundle
 * bin/run.js runs, its trained code cache, the `--version` answer). So the bench always measures
 * the current src/ as users run it, and an `npm run build` (which empties dist/) running in
 * parallel cannot break a run half way.
 */
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {destroyAll} from '../../test/helpers/cleanup.js'
import {startCluster, type PgCluster} from '../../test/helpers/pg-cluster.js'
import {killAllChildren, mustRun, timed, type TimedOptions, type TimedRun} from './proc.js'

export interface BenchOptions {
  quick: boolean
  /** Override the number of interleaved rounds of every benchmark. */
  rounds?: number
}

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = path.join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as {name?: string}).name === 'gbrain-doctor') return dir
      } catch {
        // keep looking
      }
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('bench: cannot find the gbrain-doctor package root')
    dir = up
  }
}

export class BenchContext {
  readonly root = findRoot()
  /** Where `tsc -p bench/tsconfig.json` put the harness and its build of src/. */
  readonly buildDir = path.join(this.root, '.tmp', 'bench-build')
  readonly tmp: string
  readonly appDir: string
  readonly bin: string
  /** The same build unbundled: oclif and every module loaded from files, as before issue 15. */
  readonly unbundledBin: string
  private cluster: PgCluster | undefined
  private cleaned = false

  constructor(readonly options: BenchOptions) {
    this.tmp = mkdtempSync(path.join(os.tmpdir(), 'gbrain-bench-'))
    this.appDir = path.join(this.tmp, 'app')
    this.bin = path.join(this.appDir, 'bin', 'run.js')
    this.unbundledBin = path.join(this.tmp, 'app-unbundled', 'bin', 'run.js')
  }

  get quick(): boolean {
    return this.options.quick
  }

  /** Unrecorded warm-up runs per contender: 1, none with --quick. */
  get warmup(): number {
    return this.quick ? 0 : 1
  }

  /** Rounds for a benchmark: `full` normally, `quick` with --quick, or the --rounds override. */
  rounds(full: number, quick = 1): number {
    return this.options.rounds ?? (this.quick ? quick : full)
  }

  log(line: string): void {
    process.stderr.write(`bench: ${line}\n`)
  }

  /** A fresh directory under the temp root. */
  dir(name: string): string {
    const d = path.join(this.tmp, name)
    mkdirSync(d, {recursive: true})
    return d
  }

  /** Lay out the app snapshot from the bench build of src/, and bundle src/ into it. */
  async prepareApp(): Promise<void> {
    const built = path.join(this.buildDir, 'src')
    if (!existsSync(path.join(built, 'commands', 'doctor.js'))) {
      throw new Error(`bench: ${built} has no commands/doctor.js — run through \`npm run bench\` (it compiles bench/tsconfig.json first)`)
    }
    mkdirSync(path.join(this.appDir, 'bin'), {recursive: true})
    cpSync(built, path.join(this.appDir, 'dist'), {recursive: true})
    cpSync(path.join(this.root, 'bin'), path.join(this.appDir, 'bin'), {recursive: true})
    cpSync(path.join(this.root, 'package.json'), path.join(this.appDir, 'package.json'))
    const manifest = path.join(this.root, 'oclif.manifest.json')
    if (existsSync(manifest)) cpSync(manifest, path.join(this.appDir, 'oclif.manifest.json'))
    symlinkSync(path.join(this.root, 'node_modules'), path.join(this.appDir, 'node_modules'), 'dir')
    await mustRun(process.execPath, [path.join(this.root, 'scripts', 'bundle.mjs'), this.appDir], {timeoutMs: 180_000})
    await this.prepareUnbundled()
  }

  /**
   * The baseline of the start-up rows: the same `src/` as the tsc build runs it without the bundle
   * (package.json's oclif block pointing at `dist/commands`, `dist/hooks`, `dist/cli/help.js`,
   * `bin/run.js` importing `@oclif/core` from node_modules, its own manifest), as the CLI ran
   * before issue 15.
   */
  private async prepareUnbundled(): Promise<void> {
    const dir = path.dirname(path.dirname(this.unbundledBin))
    mkdirSync(path.join(dir, 'bin'), {recursive: true})
    symlinkSync(path.join(this.appDir, 'dist'), path.join(dir, 'dist'), 'dir')
    symlinkSync(path.join(this.root, 'node_modules'), path.join(dir, 'node_modules'), 'dir')
    writeFileSync(this.unbundledBin, "#!/usr/bin/env node\nimport {execute} from '@oclif/core'\n\nawait execute({dir: import.meta.url})\n")
    const pkg = JSON.parse(readFileSync(path.join(this.root, 'package.json'), 'utf8')) as {oclif: Record<string, unknown>}
    pkg.oclif.commands = './dist/commands'
    pkg.oclif.helpClass = './dist/cli/help.js'
    pkg.oclif.hooks = {init: './dist/hooks/init.js', command_not_found: './dist/hooks/command-not-found.js'}
    writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
    await mustRun(process.execPath, [path.join(this.root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {
      cwd: dir,
      timeoutMs: 120_000,
    })
  }

  /** file:// URL of a module of the app snapshot's dist/, e.g. `engine/audit/index.js`. */
  distUrl(rel: string): string {
    return pathToFileURL(path.join(this.appDir, 'dist', rel)).href
  }

  /** A compiled harness child script, e.g. `children/audit-scan.js`. */
  child(rel: string): string {
    return path.join(this.buildDir, 'bench', rel)
  }

  /** The environment for every child: no inherited brain settings, no colour, no PG* defaults. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) {
      if (k.startsWith('GBRAIN_') || k === 'DATABASE_URL' || k.startsWith('PG') || k === 'FORCE_COLOR') continue
      env[k] = v
    }
    return {...env, NO_COLOR: '1', ...extra}
  }

  /** `node <app>/bin/run.js args…`, timed. */
  gbrain(args: readonly string[], env: Record<string, string>, options: TimedOptions = {}): Promise<TimedRun> {
    return timed(process.execPath, [this.bin, ...args], {timeoutMs: 120_000, ...options, env: this.env(env)})
  }

  /** Same, rejecting on an exit code outside `ok`. */
  gbrainOk(args: readonly string[], env: Record<string, string>, ok: number[] = [0]): Promise<TimedRun> {
    return mustRun(process.execPath, [this.bin, ...args], {timeoutMs: 180_000, env: this.env(env), ok})
  }

  /** The shared throwaway cluster (started on first use). */
  async pg(): Promise<PgCluster> {
    if (!this.cluster) {
      this.cluster = await startCluster()
      this.log(`PostgreSQL 15 cluster in ${this.cluster.dir}, port ${this.cluster.port}`)
    }
    return this.cluster
  }

  /** Stop everything started and remove the temp root. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return
    this.cleaned = true
    killAllChildren()
    try {
      await destroyAll()
    } finally {
      rmSync(this.tmp, {recursive: true, force: true})
    }
  }

  /** Synchronous last resort for process 'exit' (children killed, temp root removed). */
  cleanupSync(): void {
    killAllChildren()
    try {
      rmSync(this.tmp, {recursive: true, force: true})
    } catch {
      // best effort
    }
  }

  writeJson(file: string, value: unknown): void {
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)
  }
}

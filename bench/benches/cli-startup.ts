/**
 * cli-startup: `gbrain --version`, `gbrain --help` and `gbrain doctor --list` as whole processes
 * against `node -e 0` (and, to show what the bundle saves, a bare `import('@oclif/core')` from
 * node_modules). Target: `--version` ≤ 1.3× node (issue 15); the others are reported.
 * Then an untimed import census of each command: how many modules it loads, from which
 * packages, and whether postgres.js or PGlite is among them (they must stay lazy).
 */
import {readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import type {BenchContext} from '../lib/context.js'
import {mustRun, timed} from '../lib/proc.js'
import {ms, type BenchResult} from '../lib/report.js'
import {interleave, ratioOfMedians, round1, type Contender} from '../lib/stats.js'

export interface ImportCensus {
  command: string
  modules: number
  fromProject: number
  byPackage: Record<string, number>
  heavy: string[]
}

function packageOf(entry: string): string | undefined {
  const p = entry.startsWith('file://') ? decodeURIComponent(new URL(entry).pathname) : entry
  const at = p.lastIndexOf('/node_modules/')
  if (at < 0) return undefined
  const rest = p.slice(at + '/node_modules/'.length).split('/')
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
}

/** Which modules `node <bin> args` loads (untimed). */
export async function importCensus(ctx: BenchContext, args: string[], env: Record<string, string> = {}): Promise<ImportCensus> {
  const out = path.join(ctx.dir('census'), `${args.join('_').replace(/[^a-z0-9_-]/gi, '')}.txt`)
  rmSync(out, {force: true})
  const hook = pathToFileURL(ctx.child('children/trace-modules.js')).href
  await mustRun(process.execPath, ['--import', hook, ctx.bin, ...args], {env: ctx.env({...env, BENCH_TRACE_FILE: out}), timeoutMs: 60_000})
  const entries = [
    ...new Set(
      readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('node:')),
    ),
  ]
  const byPackage: Record<string, number> = {}
  let fromProject = 0
  for (const e of entries) {
    const pkg = packageOf(e)
    if (pkg) byPackage[pkg] = (byPackage[pkg] ?? 0) + 1
    else if (e.includes('/dist/') || e.includes('/bin/')) fromProject += 1
  }
  const heavy = Object.keys(byPackage).filter((p) => p === 'postgres' || p.startsWith('@electric-sql/'))
  return {command: `gbrain ${args.join(' ')}`, modules: entries.length, fromProject, byPackage, heavy}
}

export async function cliStartup(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const env = ctx.env({GBRAIN_HOME: ctx.dir('cli-home')})
  const node = (args: string[], cwd?: string) => async () => {
    const r = await timed(process.execPath, args, {env, cwd, timeoutMs: 60_000})
    if (r.code !== 0) throw new Error(`node ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-400)}`)
    return {value: r.ms}
  }
  const contenders: Contender[] = [
    {name: 'node -e 0', run: node(['-e', '0'])},
    {name: "import('@oclif/core')", run: node(['--input-type=module', '-e', "await import('@oclif/core')"], ctx.appDir)},
    {name: 'gbrain --version', run: node([ctx.bin, '--version'])},
    {name: 'gbrain --help', run: node([ctx.bin, '--help'])},
    {name: 'gbrain doctor --list', run: node([ctx.bin, 'doctor', '--list'])},
    {name: 'unbundled: gbrain --version', run: node([ctx.unbundledBin, '--version'])},
    {name: 'unbundled: gbrain --help', run: node([ctx.unbundledBin, '--help'])},
    {name: 'unbundled: gbrain doctor --list', run: node([ctx.unbundledBin, 'doctor', '--list'])},
  ]
  const rounds = ctx.rounds(15, 2)
  const res = await interleave(contenders, {rounds, warmup: ctx.warmup})
  const census = [await importCensus(ctx, ['--version']), await importCensus(ctx, ['doctor', '--list'])]
  const med = (n: string): number => res.get(n)!.summary.median
  const vsUnbundled = ['gbrain --version', 'gbrain --help', 'gbrain doctor --list'].map(
    (m) => `${m} ${ms(med(m))} vs ${ms(med(`unbundled: ${m}`))} (${ratioOfMedians(res, m, `unbundled: ${m}`).toFixed(2)}×)`,
  )
  const notes = census.map(
    (c) =>
      `${c.command}: loads ${c.modules} modules (${c.fromProject} of the project's; top packages: ${Object.entries(c.byPackage)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([p, n]) => `${p} ${n}`)
        .join(', ')}); postgres/PGlite loaded: ${c.heavy.length > 0 ? c.heavy.join(', ') : 'no'}`,
  )
  notes.push(
    `cli-startup: the bundle against the same src/ unbundled (tsc output, oclif from node_modules), same run: ${vsUnbundled.join('; ')}`,
  )
  return {
    name: 'cli-startup',
    input: `whole processes, ${rounds} interleaved rounds after 1 warm-up; empty GBRAIN_HOME`,
    rows: ['gbrain --version', 'gbrain --help', 'gbrain doctor --list', "import('@oclif/core')"].map((m) => {
      const ratio = ratioOfMedians(res, m, 'node -e 0')
      const lazy = census.find((c) => c.command === m)?.heavy.length === 0
      return {
        bench: 'cli-startup',
        measure: m,
        value: ms(med(m)),
        baseline: 'node -e 0',
        baselineValue: ms(med('node -e 0')),
        ratio,
        target: m === 'gbrain --version' ? '≤ 1.3× node -e 0' : 'report (keep heavy imports lazy)',
        met: m === 'gbrain --version' ? ratio <= 1.3 && lazy : m === "import('@oclif/core')" || m === 'gbrain --help' ? null : lazy,
      }
    }),
    data: {
      rounds,
      bundleVsUnbundled: Object.fromEntries(
        ['gbrain --version', 'gbrain --help', 'gbrain doctor --list'].map((m) => [m, ratioOfMedians(res, m, `unbundled: ${m}`)]),
      ),
      contenders: Object.fromEntries([...res].map(([k, v]) => [k, {...v.summary, samples: v.samples.map(round1)}])),
      census,
    },
    notes,
    durationMs: performance.now() - t0,
  }
}

/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --rounds N]`
 *
 * Runs the benchmark suite of shared/spec/performance.md against a throwaway PostgreSQL 15 and
 * PGlite, each measurement interleaved with its baselines (medians of rounds), prints the
 * physical floors and a Markdown table of ratios on stdout, and writes
 * bench/results/latest.json (quick.json with --quick, partial.json with --only). Progress goes
 * to stderr.
 *
 * --quick: every benchmark with tiny inputs and 1–2 rounds — a smoke run for CI so the suite
 * cannot rot. Its ratios mean little.
 *
 * Exit status: 0 when every benchmark ran and its results checked out (row counts, exit codes,
 * report contents); 1 when any benchmark failed to run. Missed targets do not change the exit
 * status — speed is reported, not asserted (machines are shared and noisy).
 *
 * Everything it starts (clusters, proxy, children) is stopped and its temp dir removed, also on
 * failure, SIGINT and SIGTERM.
 */
import os from 'node:os'
import path from 'node:path'
import {auditScan} from './benches/audit-scan.js'
import {batchOverhead} from './benches/batch-overhead.js'
import {cliStartup} from './benches/cli-startup.js'
import {cycleBench} from './benches/cycle.js'
import {doctorDown} from './benches/doctor-down.js'
import {doctorEmbedded} from './benches/doctor-embedded.js'
import {doctorLatency} from './benches/doctor-latency.js'
import {floors} from './benches/floors.js'
import {recovery} from './benches/recovery.js'
import {renderLong} from './benches/render-long.js'
import {BenchContext} from './lib/context.js'
import {floorsTable, inputsList, markdownTable, ms, type BenchResult, type Floor} from './lib/report.js'

const BENCHES: ReadonlyArray<readonly [string, (ctx: BenchContext) => Promise<BenchResult>]> = [
  ['cli-startup', cliStartup],
  ['floors', floors],
  ['doctor-latency', doctorLatency],
  ['doctor-down', doctorDown],
  ['batch-overhead', batchOverhead],
  ['cycle', cycleBench],
  ['recovery', recovery],
  ['audit-scan', auditScan],
  ['doctor-embedded', doctorEmbedded],
  ['render-long', renderLong],
]

function parseArgs(argv: string[]): {quick: boolean; only?: string[]; rounds?: number} {
  const out: {quick: boolean; only?: string[]; rounds?: number} = {quick: false}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--quick') out.quick = true
    else if (a === '--only' || a.startsWith('--only='))
      out.only = (a.includes('=') ? a.slice(7) : (argv[++i] ?? '')).split(',').filter(Boolean)
    else if (a === '--rounds' || a.startsWith('--rounds=')) out.rounds = Number(a.includes('=') ? a.slice(9) : argv[++i])
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench [-- --quick] [-- --only ${BENCHES.map(([n]) => n).join(',')}] [-- --rounds N]\n`)
      process.exit(0)
    } else {
      process.stderr.write(`bench: unknown argument ${JSON.stringify(a)} (see --help)\n`)
      process.exit(64)
    }
  }
  const names = BENCHES.map(([n]) => n)
  const unknown = (out.only ?? []).filter((n) => !names.includes(n))
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${names.join(', ')}\n`)
    process.exit(64)
  }
  if (out.rounds !== undefined && !(Number.isInteger(out.rounds) && out.rounds >= 1)) {
    process.stderr.write('bench: --rounds must be an integer ≥ 1\n')
    process.exit(64)
  }
  return out
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2))
  const ctx = new BenchContext({quick: args.quick, ...(args.rounds !== undefined ? {rounds: args.rounds} : {})})
  const onExit = (): void => ctx.cleanupSync()
  process.on('exit', onExit)
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`bench: ${signal}, cleaning up\n`)
    void ctx.cleanup().finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const started = performance.now()
  const load0 = os.loadavg()
  const results: BenchResult[] = []
  try {
    await ctx.prepareApp()
    for (const [name, fn] of BENCHES) {
      if (args.only && !args.only.includes(name)) continue
      ctx.log(`${name}…`)
      const t = performance.now()
      try {
        const r = await fn(ctx)
        results.push(r)
        ctx.log(`${name} done in ${ms(performance.now() - t)}`)
      } catch (e) {
        const message = e instanceof Error ? (e.stack ?? e.message) : String(e)
        ctx.log(`${name} FAILED: ${message}`)
        results.push({
          name,
          input: '',
          rows: [],
          data: {},
          notes: [],
          error: e instanceof Error ? e.message : String(e),
          durationMs: performance.now() - t,
        })
      }
    }
  } finally {
    await ctx.cleanup().catch((e: unknown) => ctx.log(`cleanup: ${e instanceof Error ? e.message : String(e)}`))
  }
  const load1 = os.loadavg()
  const floorList: Floor[] = results.flatMap((r) => r.floors ?? [])
  const totalMs = performance.now() - started

  const out: string[] = []
  out.push(`# gbrain-doctor benchmarks${args.quick ? ' (--quick: smoke run, tiny inputs, ratios not meaningful)' : ''}`)
  out.push('')
  out.push(
    `${new Date().toISOString()} · node ${process.version} · ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}) · load average ${load0[0]!.toFixed(2)} at start, ${load1[0]!.toFixed(2)} at end · ${ms(totalMs)} in all`,
  )
  out.push('')
  out.push('## Physical floors')
  out.push('')
  out.push(floorsTable(floorList))
  out.push('')
  out.push('## Ratios (medians of interleaved rounds)')
  out.push('')
  out.push(markdownTable(results, args.quick))
  out.push('')
  out.push('## Inputs')
  out.push('')
  out.push(inputsList(results.filter((r) => r.input !== '')))
  const notes = results.flatMap((r) => r.notes)
  if (notes.length > 0) {
    out.push('')
    out.push('## Notes')
    out.push('')
    out.push(notes.map((n) => `- ${n}`).join('\n'))
  }
  process.stdout.write(`${out.join('\n')}\n`)

  // A full run writes latest.json; --quick and --only runs do not overwrite it.
  const file = path.join(ctx.root, 'bench', 'results', args.quick ? 'quick.json' : args.only ? 'partial.json' : 'latest.json')
  ctx.writeJson(file, {
    generated_at: new Date().toISOString(),
    quick: args.quick,
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    loadavg: {start: load0, end: load1},
    total_ms: Math.round(totalMs),
    floors: floorList,
    results,
  })
  ctx.log(`wrote ${path.relative(ctx.root, file)}`)
  const failed = results.filter((r) => r.error !== undefined)
  if (failed.length > 0) {
    ctx.log(`${failed.length} benchmark(s) failed: ${failed.map((f) => f.name).join(', ')}`)
    return 1
  }
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
    // Handles of a failed run (a stuck socket) must not keep the process alive.
    setTimeout(() => process.exit(code), 2000).unref()
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exit(1)
  },
)

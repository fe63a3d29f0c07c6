/**
 * doctor-latency: `gbrain doctor --json` as a whole process against a healthy local Postgres
 * (20 sources), on the brain as its cycle left it (its own audit trail) and with 7 days × 100k
 * generated audit rows, interleaved with its baselines:
 * - `node -e 0` — the Node process floor;
 * - `psql -X -Atc 'select 1'` — process + connect + query floor of a native client;
 * - the peer check_postgres: `--action=connection` alone, and followed by `--action=backends`.
 * Targets: the healthy brain ≤ 2× node and faster than one check_postgres connection check
 * (issue 15); the heavy trail ≤ 4× psql and faster than check_postgres's two actions.
 */
import type {BenchContext} from '../lib/context.js'
import {timed, which} from '../lib/proc.js'
import {ms, type BenchResult, type Row} from '../lib/report.js'
import {interleave, medianPairRatio, ratioOfMedians, round1, type Contender} from '../lib/stats.js'
import {parseDoctor, pgBrain} from './pg-brain.js'

const CP1 = 'check_postgres connection'
const CP2 = 'check_postgres connection+backends'

export async function doctorLatency(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const b = await pgBrain(ctx)
  const env = ctx.env()
  const notes: string[] = []
  let lastChecks: Array<{name: string; status: string; duration_ms: number}> = []
  const internal: number[] = []

  const lightInternal: number[] = []
  /** Spawn → the doctor's checks start (Node, the bundle, oclif's dispatch, the command's set-up). */
  const toRunStart: number[] = []
  const doctorOn = (name: string, env: Record<string, string>, heavy: boolean, bin = ctx.bin): Contender => ({
    name,
    run: async () => {
      const spawned = Date.now()
      const r = await timed(process.execPath, [bin, 'doctor', '--json'], {timeoutMs: 120_000, env: ctx.env(env)})
      if (r.code === null || ![0, 1, 3].includes(r.code)) throw new Error(`doctor exited ${r.code}: ${r.stderr.slice(-500)}`)
      const d = parseDoctor(r.stdout)
      if (d.connection !== 'ok') throw new Error(`doctor: connection is ${d.connection}, expected ok`)
      if (!heavy && d.status !== 'healthy') throw new Error(`doctor on the healthy brain: ${d.status}, expected healthy`)
      if (heavy) lastChecks = d.checks
      if (bin === ctx.bin) (heavy ? internal : lightInternal).push(d.durationMs)
      if (bin === ctx.bin && !heavy) toRunStart.push(d.startedAt - spawned)
      return {value: r.ms, detail: {code: r.code, status: d.status, internalMs: d.durationMs}}
    },
  })
  const light = doctorOn('gbrain doctor --json (healthy brain, its own audit trail)', b.lightEnv, false)
  const doctor = doctorOn('gbrain doctor --json', b.env, true)
  const unbundled = doctorOn('unbundled: gbrain doctor --json (healthy brain)', b.lightEnv, false, ctx.unbundledBin)
  const psqlBin = which(['psql'])
  if (!psqlBin) throw new Error('psql not found (apt-get install postgresql-client-15)')
  const psql: Contender = {
    name: "psql -Atc 'select 1'",
    run: async () => {
      const r = await timed(psqlBin, ['-X', '-h', '127.0.0.1', '-p', String(b.port), '-U', 'postgres', '-d', 'brain', '-Atc', 'select 1'], {
        env,
      })
      if (r.code !== 0 || r.stdout.trim() !== '1') throw new Error(`psql exited ${r.code}: ${r.stderr}`)
      return {value: r.ms}
    },
  }
  const node: Contender = {
    name: 'node -e 0',
    run: async () => ({value: (await timed(process.execPath, ['-e', '0'], {env})).ms}),
  }
  const contenders = [light, unbundled, doctor, psql, node]
  const cp = which(['check_postgres', 'check_postgres.pl'])
  const checkPostgres = (cp: string, name: string, actions: readonly string[]): Contender => ({
    name,
    run: async () => {
      let total = 0
      for (const action of actions) {
        const r = await timed(cp, [`--action=${action}`, '-H', '127.0.0.1', '-p', String(b.port), '-u', 'postgres', '-db', 'brain'], {
          env,
        })
        if (r.code !== 0) throw new Error(`check_postgres --action=${action} exited ${r.code}: ${r.stdout}${r.stderr}`)
        total += r.ms
      }
      return {value: total}
    },
  })
  if (cp) {
    contenders.push(checkPostgres(cp, CP1, ['connection']), checkPostgres(cp, CP2, ['connection', 'backends']))
  } else {
    notes.push('check_postgres not installed (Debian package check-postgres): that baseline was skipped.')
  }

  const rounds = ctx.rounds(10, 1)
  const res = await interleave(contenders, {rounds, warmup: ctx.warmup, onRound: (r) => ctx.log(`doctor-latency round ${r}/${rounds}`)})
  const med = (n: string): number => res.get(n)!.summary.median
  const D = doctor.name
  const L = light.name
  const row = (measure: string, baseline: string, label: string, target: string, meets: ((ratio: number) => boolean) | null): Row => {
    const ratio = ratioOfMedians(res, measure, baseline)
    return {
      bench: 'doctor-latency',
      measure,
      value: ms(med(measure)),
      baseline: label,
      baselineValue: ms(med(baseline)),
      ratio,
      target,
      met: meets ? meets(ratio) : null,
    }
  }
  const rows: Row[] = [
    row(L, unbundled.name, 'the same src/ unbundled (before issue 15)', 'report (what the bundle saves)', null),
    row(L, node.name, node.name, '≤ 2× node -e 0', (r) => r <= 2),
    ...(cp ? [row(L, CP1, 'check_postgres --action=connection', '< 1× (faster)', (r) => r < 1)] : []),
    row(D, psql.name, psql.name, '≤ 4× psql', (r) => r <= 4),
    ...(cp ? [row(D, CP2, 'check_postgres (connection + backends)', '< 1× (faster)', (r) => r < 1)] : []),
    row(D, node.name, node.name, 'report', null),
  ]
  const slowest = [...lastChecks].sort((x, y) => y.duration_ms - x.duration_ms).slice(0, 4)
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN
  notes.push(
    `doctor-latency: healthy brain — the report's own duration_ms median ${ms(median(lightInternal))}; spawn → the checks start median ${ms(median(toRunStart))} (${(median(toRunStart) / med(node.name)).toFixed(2)}× node -e 0 as a whole process)`,
  )
  notes.push(
    `doctor-latency: 7 d × 100k trail — the report's own duration_ms (inside the process, after startup) median ${ms(median(internal))}; slowest checks in the last run: ${slowest.map((c) => `${c.name} ${c.duration_ms} ms`).join(', ')}`,
  )
  return {
    name: 'doctor-latency',
    input: `${b.sources} sources (5 notes each, cycled); the healthy brain is that brain with the audit trail its cycle wrote; the other adds ${b.days} days × ${b.rowsPerDay.toLocaleString('en')} audit rows (${b.audit.batchRetryRows.toLocaleString('en')} batch-retry + ${b.audit.poolRecoveryRows.toLocaleString('en')} pool-recovery, ${(b.audit.bytes / 1e6).toFixed(0)} MB in ${b.audit.files.length} week files); ${rounds} interleaved rounds`,
    rows,
    data: {
      rounds,
      setupMs: round1(b.setupMs),
      audit: {
        files: b.audit.files.length,
        bytes: b.audit.bytes,
        batchRetryRows: b.audit.batchRetryRows,
        poolRecoveryRows: b.audit.poolRecoveryRows,
      },
      contenders: Object.fromEntries([...res].map(([k, v]) => [k, {...v.summary, samples: v.samples.map(round1)}])),
      pairRatios: {
        psql: medianPairRatio(res, D, psql.name),
        healthyVsNode: medianPairRatio(res, L, node.name),
        ...(cp ? {check_postgres: medianPairRatio(res, D, CP2)} : {}),
      },
      doctorInternalMs: internal,
      healthyInternalMs: lightInternal,
      healthySpawnToRunStartMs: toRunStart,
      lastChecks,
    },
    notes,
    durationMs: performance.now() - t0,
  }
}

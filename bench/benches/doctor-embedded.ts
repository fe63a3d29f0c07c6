/**
 * doctor-embedded: `gbrain doctor --json` on an embedded PGlite brain (made by the real CLI:
 * `init`, `sources add`, `cycle`), interleaved with `gbrain doctor --fast --json` (no database)
 * and the bare floor: a node script that opens the same data dir with @electric-sql/pglite,
 * runs `SELECT 1` and closes. Target: doctor ≤ 1.3× the bare floor.
 */
import {readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {generateVault} from '../../test/helpers/vault-gen.js'
import type {BenchContext} from '../lib/context.js'
import {timed} from '../lib/proc.js'
import {ms, type BenchResult} from '../lib/report.js'
import {interleave, ratioOfMedians, round1, medianPairRatio, type Contender} from '../lib/stats.js'
import {parseDoctor} from './pg-brain.js'

function du(dir: string): number {
  let total = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    total += e.isDirectory() ? du(p) : statSync(p).size
  }
  return total
}

export async function doctorEmbedded(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const home = ctx.dir('pglite-home')
  const env = {GBRAIN_HOME: home}
  const notes = ctx.quick ? 5 : 50
  const vault = ctx.dir('pglite-vault')
  generateVault(vault, {files: notes, entries: 3, links: 2, bad: false})
  const init = await ctx.gbrainOk(['init', '--json'], env)
  await ctx.gbrainOk(['sources', 'add', 'notes', '--path', vault], env)
  await ctx.gbrainOk(['cycle', '--json'], env)
  const dataDir = path.join(home, '.gbrain', 'brain.pglite')
  const setupMs = performance.now() - t0

  const doctor = (fast: boolean): Contender => ({
    name: fast ? 'gbrain doctor --fast --json' : 'gbrain doctor --json',
    run: async () => {
      const r = await ctx.gbrain(['doctor', '--json', ...(fast ? ['--fast'] : [])], env)
      if (r.code === null || ![0, 1, 3].includes(r.code)) throw new Error(`doctor exited ${r.code}: ${r.stderr.slice(-400)}`)
      const d = parseDoctor(r.stdout)
      if (!fast && d.connection !== 'ok') throw new Error(`doctor: connection is ${d.connection}, expected ok`)
      return {value: r.ms, detail: {internalMs: d.durationMs}}
    },
  })
  const floorTimes: Array<{open_ms: number; query_ms: number; close_ms: number}> = []
  const floor: Contender = {
    name: 'bare PGlite open + SELECT 1 + close',
    run: async () => {
      const r = await timed(process.execPath, [ctx.child('children/pglite-floor.js'), dataDir], {env: ctx.env(), timeoutMs: 60_000})
      if (r.code !== 0) throw new Error(`pglite floor exited ${r.code}: ${r.stderr.slice(-400)}`)
      floorTimes.push(JSON.parse(r.stdout) as {open_ms: number; query_ms: number; close_ms: number})
      return {value: r.ms}
    },
  }
  const full = doctor(false)
  const fast = doctor(true)
  const rounds = ctx.rounds(7, 1)
  const res = await interleave([full, fast, floor], {rounds, warmup: ctx.warmup, onRound: (r) => ctx.log(`doctor-embedded round ${r}/${rounds}`)})
  const med = (n: string): number => res.get(n)!.summary.median
  const openMed = [...floorTimes.map((f) => f.open_ms)].sort((a, b) => a - b)[Math.floor(floorTimes.length / 2)] ?? Number.NaN
  return {
    name: 'doctor-embedded',
    input: `PGlite brain made by init + 1 source of ${notes} notes + cycle (data dir ${(du(dataDir) / 1e6).toFixed(0)} MB; init took ${ms(init.ms)}); ${rounds} interleaved rounds`,
    rows: [
      {bench: 'doctor-embedded', measure: full.name, value: ms(med(full.name)), baseline: floor.name, baselineValue: ms(med(floor.name)), ratio: ratioOfMedians(res, full.name, floor.name), target: '≤ 1.3× the bare floor', met: ratioOfMedians(res, full.name, floor.name) <= 1.3},
      {bench: 'doctor-embedded', measure: fast.name, value: ms(med(fast.name)), baseline: floor.name, baselineValue: ms(med(floor.name)), ratio: ratioOfMedians(res, fast.name, floor.name), target: 'report', met: null},
    ],
    data: {
      rounds,
      setupMs: round1(setupMs),
      initMs: round1(init.ms),
      contenders: Object.fromEntries([...res].map(([k, v]) => [k, {...v.summary, samples: v.samples.map(round1)}])),
      pairRatio: medianPairRatio(res, full.name, floor.name),
      floorInside: floorTimes,
    },
    notes: [`doctor-embedded: inside the floor script, PGlite open (waitReady) median ${ms(openMed)}; the rest of the floor is Node startup, import and close`],
    durationMs: performance.now() - t0,
  }
}

/**
 * doctor-embedded: `gbrain doctor --json` on an embedded PGlite brain (made by the real CLI:
 * `init`, `sources add`, `cycle`; a PostgreSQL 17 data dir), interleaved with
 * `gbrain doctor --fast --json` (no database) and two floors, node scripts that open the same data
 * dir with @electric-sql/pglite 0.4.3, run `SELECT 1` and close: bare, and with the `vector` and
 * `pg_trgm` extensions loaded (what the app's PG 17 build opens with).
 * Target: doctor ≤ 1.3× the floor with the extensions (the doctor cannot open without them).
 * Reported: the doctor against the bare floor, and the extension cost (floor with extensions vs
 * bare floor, ratio and milliseconds).
 */
import {readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {generateVault} from '../../test/helpers/vault-gen.js'
import type {BenchContext} from '../lib/context.js'
import {timed} from '../lib/proc.js'
import {ms, type BenchResult} from '../lib/report.js'
import {interleave, median, ratioOfMedians, round1, medianPairRatio, type Contender} from '../lib/stats.js'
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
  type FloorInside = {extensions: string[]; import_ms: number; open_ms: number; query_ms: number; close_ms: number}
  const floorInside: {bare: FloorInside[]; ext: FloorInside[]} = {bare: [], ext: []}
  const floorContender = (withExtensions: boolean): Contender => ({
    name: withExtensions ? 'PGlite open with vector + pg_trgm + SELECT 1 + close' : 'bare PGlite open + SELECT 1 + close',
    run: async () => {
      const script = ctx.child('children/pglite-floor.js')
      const r = await timed(process.execPath, [script, ...(withExtensions ? ['--extensions'] : []), dataDir], {
        env: ctx.env(),
        timeoutMs: 60_000,
      })
      if (r.code !== 0) throw new Error(`pglite floor${withExtensions ? ' --extensions' : ''} exited ${r.code}: ${r.stderr.slice(-400)}`)
      const inside = JSON.parse(r.stdout) as FloorInside
      if (inside.extensions.length !== (withExtensions ? 2 : 0))
        throw new Error(`pglite floor: loaded extensions ${JSON.stringify(inside.extensions)}`)
      floorInside[withExtensions ? 'ext' : 'bare'].push(inside)
      return {value: r.ms}
    },
  })
  const full = doctor(false)
  const fast = doctor(true)
  const floor = floorContender(false)
  const floorExt = floorContender(true)
  const rounds = ctx.rounds(7, 1)
  const res = await interleave([full, fast, floor, floorExt], {
    rounds,
    warmup: ctx.warmup,
    onRound: (r) => ctx.log(`doctor-embedded round ${r}/${rounds}`),
  })
  const med = (n: string): number => res.get(n)!.summary.median
  // The warm-up runs are not recorded by interleave; drop their inside figures too.
  for (const k of ['bare', 'ext'] as const) floorInside[k].splice(0, ctx.warmup)
  const inside = (k: 'bare' | 'ext', f: keyof Omit<FloorInside, 'extensions'>): number => median(floorInside[k].map((x) => x[f]))
  const extCostMs = med(floorExt.name) - med(floor.name)
  const extPairDiff = median(res.get(floorExt.name)!.samples.map((v, i) => v - res.get(floor.name)!.samples[i]!))
  const openDiff = inside('ext', 'open_ms') - inside('bare', 'open_ms')
  const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${ms(Math.abs(x))}`
  const doctorVsExt = ratioOfMedians(res, full.name, floorExt.name)
  return {
    name: 'doctor-embedded',
    input: `PGlite brain (PostgreSQL 17) made by init + 1 source of ${notes} notes + cycle (data dir ${(du(dataDir) / 1e6).toFixed(0)} MB; init took ${ms(init.ms)}); floors opened with @electric-sql/pglite 0.4.3; ${rounds} interleaved rounds`,
    rows: [
      {
        bench: 'doctor-embedded',
        measure: full.name,
        value: ms(med(full.name)),
        baseline: floorExt.name,
        baselineValue: ms(med(floorExt.name)),
        ratio: doctorVsExt,
        target: '≤ 1.3× the floor with the extensions the doctor loads',
        met: doctorVsExt <= 1.3,
      },
      {
        bench: 'doctor-embedded',
        measure: full.name,
        value: ms(med(full.name)),
        baseline: floor.name,
        baselineValue: ms(med(floor.name)),
        ratio: ratioOfMedians(res, full.name, floor.name),
        target: '≤ 1.3× (issue 15 asks it of the bare open too)',
        met: ratioOfMedians(res, full.name, floor.name) <= 1.3,
      },
      {
        bench: 'doctor-embedded',
        measure: fast.name,
        value: ms(med(fast.name)),
        baseline: floor.name,
        baselineValue: ms(med(floor.name)),
        ratio: ratioOfMedians(res, fast.name, floor.name),
        target: 'report',
        met: null,
      },
      {
        bench: 'doctor-embedded',
        measure: `extension cost: ${floorExt.name} (${signed(extCostMs)})`,
        value: ms(med(floorExt.name)),
        baseline: floor.name,
        baselineValue: ms(med(floor.name)),
        ratio: ratioOfMedians(res, floorExt.name, floor.name),
        target: 'report',
        met: null,
      },
    ],
    data: {
      rounds,
      setupMs: round1(setupMs),
      initMs: round1(init.ms),
      contenders: Object.fromEntries([...res].map(([k, v]) => [k, {...v.summary, samples: v.samples.map(round1)}])),
      pairRatio: medianPairRatio(res, full.name, floorExt.name),
      pairRatioBare: medianPairRatio(res, full.name, floor.name),
      extensionCost: {
        ratio: ratioOfMedians(res, floorExt.name, floor.name),
        pairRatio: medianPairRatio(res, floorExt.name, floor.name),
        diffOfMediansMs: round1(extCostMs),
        medianPairDiffMs: round1(extPairDiff),
        openInsideDiffMs: round1(openDiff),
      },
      floorInside,
    },
    notes: [
      `doctor-embedded: inside the floor script, PGlite open (waitReady) median ${ms(inside('bare', 'open_ms'))} bare, ${ms(inside('ext', 'open_ms'))} with vector + pg_trgm (${signed(openDiff)}; importing the two extension modules ${ms(inside('ext', 'import_ms'))}); the rest of each floor is Node startup, import and close`,
      `doctor-embedded: extension cost per process ${signed(extCostMs)} (difference of medians; median of per-round differences ${signed(extPairDiff)})`,
    ],
    durationMs: performance.now() - t0,
  }
}

/**
 * gbrain's data-dir lock under contention, across real processes: five of ours (the built engine,
 * test/fixtures/engine-opener.mjs, several rounds each) and gbrain's protocol (gbrain-sim `sync`,
 * several sequential runs, each holding the brain while it writes) all open one data directory
 * at once. Every opener appends `open <pid> <ms>` after taking the lock and before PGlite opens,
 * and `close <pid> <ms>` after PGlite closed and before the lock goes, to one shared log
 * (O_APPEND, so lines land in the order they happened). Two openers at once would show as an
 * `open` while another process's `open` is unclosed; the log must strictly alternate
 * open/close with the same pid in each pair. Then the brain is reopened and every row each
 * process reported writing must be there, with no lock left behind.
 *
 * Contention is made, not hoped for: the openers load everything, say `armed`, and start their
 * first round on one `go` line together with gbrain-sim's first run, so all but one of them must
 * find the lock taken (PGlite's open alone holds it for ~0.5 s).
 *
 * Negative controls: the checker on synthetic logs (an overlap, a foreign close, an unclosed
 * open, out-of-order lines), and on a real log where gbrain's folk remedy (`rm -rf .gbrain-lock`
 * under a live holder) lets one of ours in while gbrain-sim `serve` holds the brain.
 *
 * Requires `npm run build` (the openers import dist/).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {PGliteEngine} from '../../src/engine/pglite-engine.js'
import {destroyAll, register} from '../helpers/cleanup.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SIM = path.join(root, 'test/fixtures/gbrain-sim.mjs')
const OPENER = path.join(root, 'test/fixtures/engine-opener.mjs')

const OPENERS = 5
const ROUNDS = 4
const ROWS_PER_ROUND = 5
/** Between an opener's rounds, so a waiter (polling every 100 ms) can get in: pacing, not sync. */
const GAP_MS = 150
const SIM_RUNS = 4
const SIM_HOLD_MS = 300
const SIM_WRITE_MS = 20
/** From `go` until every process has exited. */
const RUN_BOUND_MS = 120_000

// ------------------------------------------------------------------ the log checker

interface OpenLogVerdict {
  /** Lines read (open + close). */
  entries: number
  /** Completed open/close pairs. */
  pairs: number
  /** `open` lines written while another process's `open` was unclosed. */
  overlaps: number
  /** Most processes between open and close at once (1 when exclusive). */
  maxConcurrent: number
  /** Lines whose timestamp is earlier than a line before them. */
  timeInversions: number
  /** open, close, open, close… with the same pid in each pair, and nothing left open. */
  alternates: boolean
  /** Completed pairs per pid. */
  perPid: Map<number, number>
  /** The pid of each `open`, in log order. */
  sequence: number[]
  /** Each pair's hold time (close ms − open ms). */
  holdsMs: number[]
  /** close → next open, per handover. */
  handoversMs: number[]
  /** Everything malformed: unparseable lines, closes without an open, opens left unclosed. */
  problems: string[]
}

function checkOpenLog(text: string): OpenLogVerdict {
  const v: OpenLogVerdict = {
    entries: 0,
    pairs: 0,
    overlaps: 0,
    maxConcurrent: 0,
    timeInversions: 0,
    alternates: true,
    perPid: new Map(),
    sequence: [],
    holdsMs: [],
    handoversMs: [],
    problems: [],
  }
  const holding = new Map<number, number>() // pid → open ms
  let prevTs = -Infinity
  let lastClose: number | null = null
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((line, i) => {
    const m = /^(open|close) (\d+) (\d+)$/.exec(line)
    if (!m) {
      v.problems.push(`line ${i + 1}: unparseable ${JSON.stringify(line)}`)
      v.alternates = false
      return
    }
    const kind = m[1] as 'open' | 'close'
    const pid = Number(m[2])
    const ts = Number(m[3])
    v.entries += 1
    if (ts < prevTs) v.timeInversions += 1
    prevTs = Math.max(prevTs, ts)
    // Strict alternation: even entries open, odd entries close the pid opened just before.
    const position = v.entries - 1
    if (position % 2 === 0 ? kind !== 'open' : kind !== 'close' || v.sequence.at(-1) !== pid) v.alternates = false
    if (kind === 'open') {
      if (holding.has(pid)) v.problems.push(`line ${i + 1}: pid ${pid} opens again before closing`)
      if (holding.size > 0) v.overlaps += 1
      holding.set(pid, ts)
      v.maxConcurrent = Math.max(v.maxConcurrent, holding.size)
      v.sequence.push(pid)
      if (lastClose !== null && holding.size === 1) v.handoversMs.push(ts - lastClose)
    } else {
      const openedAt = holding.get(pid)
      if (openedAt === undefined) {
        v.problems.push(`line ${i + 1}: pid ${pid} closes without an open`)
        return
      }
      holding.delete(pid)
      v.pairs += 1
      v.perPid.set(pid, (v.perPid.get(pid) ?? 0) + 1)
      v.holdsMs.push(ts - openedAt)
      lastClose = ts
    }
  })
  for (const pid of holding.keys()) v.problems.push(`pid ${pid} opened and never closed`)
  if (holding.size > 0) v.alternates = false
  return v
}

// ------------------------------------------------------------------ child processes

interface Child {
  pid: number
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  lines: () => string[]
  /** Resolves once a stdout line matches (already printed or later); rejects on exit or timeout. */
  waitLine: (re: RegExp, timeoutMs: number, what: string) => Promise<string>
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
  /** Wait for exit at most `ms`; kill it (SIGKILL) and reject if it has not exited by then. */
  exit: (ms: number, what: string) => Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

function startNode(args: string[], stdin: 'pipe' | 'ignore' = 'ignore'): Child {
  const child = spawn(process.execPath, args, {cwd: root, stdio: [stdin, 'pipe', 'pipe']})
  if (child.pid === undefined) throw new Error(`could not spawn node ${args.join(' ')}`)
  const unregister = register({
    name: `node ${path.basename(args[0]!)} ${child.pid}`,
    destroy: async () => void child.kill('SIGKILL'),
    killSync: () => void child.kill('SIGKILL'),
  })
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c
    for (const w of [...waiters]) w()
  })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c))
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
    child.on('exit', (code, signal) => {
      unregister()
      resolve({code, signal})
      for (const w of [...waiters]) w()
    }),
  )
  let done = false
  void exited.then(() => (done = true))
  const lines = (): string[] => out.split('\n').filter((l) => l !== '')
  return {
    pid: child.pid,
    child,
    stdout: () => out,
    stderr: () => err,
    lines,
    exited,
    waitLine(re, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const line = lines().find((l) => re.test(l))
          if (line !== undefined) finish(() => resolve(line))
          else if (done || child.exitCode !== null || child.signalCode !== null)
            finish(() => reject(new Error(`pid ${child.pid} exited before ${what}; stderr: ${err.slice(-2000)}`)))
        }
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `timed out after ${timeoutMs} ms waiting for ${what} (pid ${child.pid}); stdout: ${out.slice(-1000)} stderr: ${err.slice(-2000)}`,
                ),
              ),
            ),
          timeoutMs,
        )
        const finish = (f: () => void): void => {
          clearTimeout(timer)
          waiters.delete(check)
          f()
        }
        waiters.add(check)
        check()
      })
    },
    async exit(ms, what) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => {
            child.kill('SIGKILL')
            reject(
              new Error(
                `${what} (pid ${child.pid}) still running after ${ms} ms; killed. stdout: ${out.slice(-1000)} stderr: ${err.slice(-2000)}`,
              ),
            )
          },
          Math.max(1, ms),
        )
      })
      try {
        return await Promise.race([exited, late])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

// ------------------------------------------------------------------ the test

let dir: string
let dataDir: string
let lockDir: string

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/engine/pglite-engine.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  dir = tempDir('gbrain-lockc-')
  dataDir = path.join(dir, 'brain.pglite')
  lockDir = path.join(dataDir, '.gbrain-lock')
  // A brain as gbrain makes it (PostgreSQL 17, PGlite 0.4.3, vector, pg_trgm, sim_writes).
  const make = startNode([SIM, 'make', '--data-dir', dataDir, '--spec', '{}'])
  const made = await make.exit(90_000, 'gbrain-sim make')
  if (made.code !== 0 || !make.lines().includes('released')) throw new Error(`gbrain-sim make failed (${made.code}): ${make.stderr()}`)
}, 120_000)

afterAll(async () => {
  await destroyAll()
  removeHomes()
})

const count = (xs: number[], f: (x: number) => boolean): number => xs.filter(f).length
const stats = (xs: number[]): string => {
  if (xs.length === 0) return 'n/a'
  const s = [...xs].sort((a, b) => a - b)
  return `min ${s[0]} / median ${s[Math.floor(s.length / 2)]} / max ${s.at(-1)} ms`
}

describe('gbrain data-dir lock: five of our processes and gbrain contend for one brain', () => {
  it('never two openers at once; every row each process wrote is there; no lock left behind', async () => {
    const logFile = path.join(dir, 'open.log')
    const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
    expect(existsSync(lockDir)).toBe(false)

    // Our five, loaded and gated.
    const openers = Array.from({length: OPENERS}, () =>
      startNode([OPENER, dataDir, logFile, String(ROUNDS), '--rows', String(ROWS_PER_ROUND), '--gap-ms', String(GAP_MS), '--gate'], 'pipe'),
    )
    await Promise.all(openers.map((o) => o.waitLine(/^armed \d+$/, 60_000, 'armed')))

    const diag = (): string =>
      [
        `log (${logFile}):\n${readLog()}`,
        ...openers.map((o) => `opener ${o.pid}: stdout ${o.stdout().slice(-500)} stderr ${o.stderr().slice(-1500)}`),
        ...sims.map((s) => `sim ${s.pid}: stdout ${s.stdout().slice(-500)} stderr ${s.stderr().slice(-1500)}`),
      ].join('\n')

    // Go: all five openers and gbrain's first sync at one instant; gbrain's runs follow one another.
    const sims: Child[] = []
    const t0 = performance.now()
    const deadline = t0 + RUN_BOUND_MS
    for (const o of openers) o.child.stdin!.end('go\n')
    const simRuns = (async () => {
      const results: {code: number | null; signal: NodeJS.Signals | null}[] = []
      for (let k = 0; k < SIM_RUNS; k++) {
        const s = startNode([
          SIM,
          'sync',
          '--data-dir',
          dataDir,
          '--hold-ms',
          String(SIM_HOLD_MS),
          '--write-ms',
          String(SIM_WRITE_MS),
          '--open-log',
          logFile,
          '--max-wait-ms',
          '60000',
        ])
        sims.push(s)
        results.push(await s.exit(deadline - performance.now(), `gbrain-sim sync run ${k + 1}`))
      }
      return results
    })()
    const openerExits = Promise.all(openers.map((o, i) => o.exit(deadline - performance.now(), `opener ${i + 1}`)))
    const [openerResults, simResults] = await Promise.all([openerExits, simRuns])
    const elapsedS = (performance.now() - t0) / 1000

    // Every process finished cleanly.
    openerResults.forEach((r, i) => expect(r, `opener ${openers[i]!.pid}\n${diag()}`).toEqual({code: 0, signal: null}))
    simResults.forEach((r, i) =>
      expect(r, `sim run ${i + 1} (pid ${sims[i]!.pid}), exit 75 = no lock within 60 s\n${diag()}`).toEqual({code: 0, signal: null}),
    )
    const reports = openers.map(
      (o) => JSON.parse(o.lines().at(-1)!) as {pid: number; rounds: number; rows: number; waits: number; reaped: number; lost: number},
    )
    const simRows = sims.map((s) => {
      const m = s
        .lines()
        .map((l) => /^rows (\d+)$/.exec(l))
        .find((x) => x !== null)
      expect(m, `sim ${s.pid} printed no rows line\n${diag()}`).toBeTruthy()
      expect(s.lines(), `sim ${s.pid}`).toContain('released')
      return Number(m![1])
    })

    // The log: strictly alternating, no overlap.
    const log = readLog()
    const v = checkOpenLog(log)
    const simPids = new Set(sims.map((s) => s.pid))
    const simPairs = v.sequence.map((pid, i) => ({pid, i})).filter((x) => simPids.has(x.pid))
    const openerPositions = v.sequence.map((pid, i) => (simPids.has(pid) ? -1 : i)).filter((i) => i >= 0)
    const firstOpener = Math.min(...openerPositions)
    const lastOpener = Math.max(...openerPositions)
    const simInterleaved = count(
      simPairs.map((x) => x.i),
      (i) => i > firstOpener && i < lastOpener,
    )
    const switches = count(
      v.sequence.map((_, i) => i),
      (i) => i > 0 && v.sequence[i] !== v.sequence[i - 1],
    )
    const openersThatWaited = count(
      reports.map((r) => r.waits),
      (w) => w > 0,
    )
    const simRunsThatWaited = sims.filter((s) => s.lines().includes(`waiting ${s.pid}`)).length

    const totalSimRows = simRows.reduce((a, b) => a + b, 0)
    const totalOpenerRows = reports.reduce((a, r) => a + r.rows, 0)
    console.log(
      `[measure] lock contention: ${OPENERS} openers x ${ROUNDS} rounds + gbrain-sim ${SIM_RUNS} sync runs in ${elapsedS.toFixed(1)} s; ` +
        `log ${v.entries} lines, ${v.pairs} pairs, overlaps ${v.overlaps}, max concurrent ${v.maxConcurrent}, time inversions ${v.timeInversions}, alternates ${v.alternates}`,
    )
    console.log(
      `[measure] lock contention: holder switches ${switches}/${Math.max(0, v.pairs - 1)}; sim pairs at positions ${simPairs.map((x) => x.i).join(',')} (${simInterleaved} between opener pairs); ` +
        `openers that waited ${openersThatWaited}/${OPENERS} (waits ${reports.map((r) => r.waits).join(',')}); sim runs that waited ${simRunsThatWaited}/${SIM_RUNS}`,
    )
    console.log(`[measure] lock contention: hold ${stats(v.holdsMs)}; handover close->open ${stats(v.handoversMs)}`)

    expect(v.problems, diag()).toEqual([])
    expect(v.overlaps, diag()).toBe(0)
    expect(v.maxConcurrent).toBe(1)
    expect(v.alternates, diag()).toBe(true)
    expect(v.timeInversions, diag()).toBe(0)
    expect(v.pairs).toBe(OPENERS * ROUNDS + SIM_RUNS)
    expect(Object.fromEntries(v.perPid)).toEqual(
      Object.fromEntries([...openers.map((o) => [String(o.pid), ROUNDS] as const), ...sims.map((s) => [String(s.pid), 1] as const)]),
    )
    // It was contention: every opener but the first to take the lock found it taken at `go`,
    // and gbrain's first run (started at `go`, slower to load) found one of ours holding it.
    expect(openersThatWaited, diag()).toBeGreaterThanOrEqual(OPENERS - 1)
    expect(simRunsThatWaited, diag()).toBeGreaterThanOrEqual(1)
    // Nothing was reaped or lost: every holder was alive and released its own lock.
    expect(reports.map((r) => [r.reaped, r.lost])).toEqual(reports.map(() => [0, 0]))
    expect(reports.map((r) => r.rows)).toEqual(reports.map(() => ROUNDS * ROWS_PER_ROUND))

    // No lock left, nothing reaped on disk.
    expect(existsSync(lockDir), 'a .gbrain-lock left behind').toBe(false)
    expect(readdirSync(dataDir).filter((n) => n.startsWith('.gbrain-lock'))).toEqual([])
    expect(existsSync(`${dataDir}.lock-reap.json`)).toBe(false)

    // Reopen: every row each process reported writing is there, and nobody else's.
    const engine = new PGliteEngine({dataDir, audit: null, spool: null, createIfMissing: false, lock: {waitMs: 0, reap: false}})
    let present: {sim: Record<string, number>; opener: Record<string, number>; openerDistinct: number; openerTotal: number}
    try {
      await engine.connect()
      const sim = await engine.query<{pid: number; c: number}>('select pid, count(*)::int as c from sim_writes group by pid order by pid')
      const op = await engine.query<{pid: number; c: number}>('select pid, count(*)::int as c from opener_rows group by pid order by pid')
      const dist = await engine.query<{d: number; t: number}>(
        'select count(distinct (pid, round, n))::int as d, count(*)::int as t from opener_rows',
      )
      present = {
        sim: Object.fromEntries(sim.rows.map((r) => [String(r.pid), r.c])),
        opener: Object.fromEntries(op.rows.map((r) => [String(r.pid), r.c])),
        openerDistinct: dist.rows[0]!.d,
        openerTotal: dist.rows[0]!.t,
      }
    } finally {
      await engine.disconnect()
    }
    const presentSim = Object.values(present.sim).reduce((a, b) => a + b, 0)
    console.log(
      `[measure] lock contention rows: holder (gbrain-sim) wrote ${totalSimRows} (${simRows.join('+')}), present ${presentSim}; ` +
        `openers wrote ${totalOpenerRows}, present ${present.openerTotal} (${present.openerDistinct} distinct)`,
    )
    expect(present.sim).toEqual(Object.fromEntries(sims.map((s, i) => [String(s.pid), simRows[i]!]).filter(([, n]) => n !== 0)))
    expect(present.opener).toEqual(Object.fromEntries(reports.map((r) => [String(r.pid), r.rows])))
    expect(present.openerDistinct).toBe(present.openerTotal)
    expect(totalSimRows).toBeGreaterThan(0)
    expect(existsSync(lockDir), 'our reopen left its .gbrain-lock behind').toBe(false)
  }, 240_000)

  it('negative control: the log checker reports an overlap, a foreign close and an unclosed open', () => {
    const clean = checkOpenLog('open 10 100\nclose 10 200\nopen 20 210\nclose 20 300\nopen 10 305\nclose 10 400\n')
    expect(clean).toMatchObject({pairs: 3, overlaps: 0, maxConcurrent: 1, alternates: true, timeInversions: 0, problems: []})
    expect(Object.fromEntries(clean.perPid)).toEqual({10: 2, 20: 1})

    // B opens while A is still open: one overlap, not alternating, though every pid closes.
    const overlap = checkOpenLog('open 10 100\nopen 20 150\nclose 10 200\nclose 20 300\nopen 30 310\nclose 30 400\n')
    expect(overlap).toMatchObject({pairs: 3, overlaps: 1, maxConcurrent: 2, alternates: false, problems: []})

    // Nested the other way round, and a later open by the same pid: still exactly one overlap.
    const nested = checkOpenLog('open 10 100\nopen 20 150\nclose 20 180\nclose 10 200\nopen 20 250\nclose 20 260\n')
    expect(nested).toMatchObject({pairs: 3, overlaps: 1, maxConcurrent: 2, alternates: false})

    // A close by a pid that is not the one holding, and an open never closed.
    const foreign = checkOpenLog('open 10 100\nclose 20 150\n')
    expect(foreign.alternates).toBe(false)
    expect(foreign.problems).toEqual(['line 2: pid 20 closes without an open', 'pid 10 opened and never closed'])

    // Appended out of time order (what interleaved writers would produce) and a torn line.
    const inverted = checkOpenLog('open 10 100\nclose 10 200\nopen 20 150\nclose 20 250\nclos\n')
    expect(inverted.timeInversions).toBe(1)
    expect(inverted.alternates).toBe(false)
    expect(inverted.problems).toEqual(['line 5: unparseable "clos"'])
  })

  it('negative control on real processes: with the lock removed under a live gbrain holder (the folk remedy), the same log shows the overlap', async () => {
    // Runs last: two PGlite instances on one directory is what damages a brain; this one is a
    // throwaway. gbrain-sim `serve` holds until its stdin closes, so the overlap is made by
    // markers (ready, then our opener's exit), not by timing.
    const logFile = path.join(dir, 'open-negative.log')
    const serve = startNode([SIM, 'serve', '--data-dir', dataDir, '--write-ms', String(SIM_WRITE_MS), '--open-log', logFile], 'pipe')
    await serve.waitLine(/^ready \d+$/, 60_000, 'gbrain-sim serve ready')
    rmSync(lockDir, {recursive: true, force: true})
    const opener = startNode([OPENER, dataDir, logFile, '1', '--rows', '1'])
    await opener.exit(60_000, 'opener under a stolen lock')
    serve.child.stdin!.end()
    const served = await serve.exit(30_000, 'gbrain-sim serve')
    const log = readFileSync(logFile, 'utf8')
    const v = checkOpenLog(log)
    console.log(
      `[measure] negative control (lock removed under a live holder): ${v.pairs} pairs, overlaps ${v.overlaps}, max concurrent ${v.maxConcurrent}, alternates ${v.alternates}; opener exit ${opener.child.exitCode}`,
    )
    expect(served.code, serve.stderr()).toBe(0)
    expect(v.problems, log).toEqual([])
    expect(Object.fromEntries(v.perPid), log).toEqual({[serve.pid]: 1, [opener.pid]: 1})
    expect(v.sequence).toEqual([serve.pid, opener.pid])
    expect(v.overlaps, log).toBe(1)
    expect(v.maxConcurrent).toBe(2)
    expect(v.alternates).toBe(false)
  }, 120_000)
})

/**
 * `gbrain repair` as the built binary against a real PostgreSQL 15 (one cluster; a fresh
 * database and GBRAIN_HOME per test): a live `cycle --watch` healed in place by SIGUSR2, stale
 * and foreign state files, idempotence (`--all` twice), `--dry-run` changing nothing (files and
 * tables hashed), bad input, and two concurrent replays never doubling work.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/checks/types.js'
import type {EngineProcessState} from '../../src/engine/process-state.js'
import type {HealthSnapshot} from '../../src/engine/types.js'
import type {RepairOutput} from '../../src/commands/repair.js'
import {BIN, gbrain, type CliResult} from '../helpers/cli.js'
import {destroyAll, pidAlive, register, waitFor} from '../helpers/cleanup.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {freePort} from '../helpers/proc.js'

const VAULT = path.resolve('examples/vault')
const SMALL_RETRIES = {GBRAIN_BULK_MAX_RETRIES: '1', GBRAIN_BULK_RETRY_BASE_MS: '50', GBRAIN_BULK_RETRY_MAX_MS: '100'}
const TABLES = ['sources', 'pages', 'timeline_entries', 'links', 'config'] as const

let cluster: PgCluster
let root: string
let dbn = 0
const children: ChildProcess[] = []

beforeAll(async () => {
  cluster = await startCluster()
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-repair-'))
}, 60_000)

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  rmSync(root, {recursive: true, force: true})
  await destroyAll()
})

interface Brain {
  home: string
  /** `<home>/.gbrain` */
  dir: string
  db: string
  env: Record<string, string>
  spoolDir: string
  auditDir: string
  runDir: string
}

/** A fresh database + GBRAIN_HOME, initialised with `gbrain init`. */
async function brain(extraEnv: Record<string, string> = {}): Promise<Brain> {
  const db = `repair_${process.pid}_${++dbn}`
  await cluster.psql(`create database ${db}`)
  const home = mkdtempSync(path.join(root, 'home-'))
  const env = {GBRAIN_HOME: home, GBRAIN_DATABASE_URL: cluster.urlFor(db), ...extraEnv}
  const init = await gbrain(['init'], env)
  expect(init.code, init.stderr).toBe(0)
  const dir = path.join(home, '.gbrain')
  return {home, dir, db, env, spoolDir: path.join(dir, 'dead-letter'), auditDir: path.join(dir, 'audit'), runDir: path.join(dir, 'run')}
}

function spawnChild(cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(cmd, args, {env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe']})
  children.push(child)
  register({name: `${cmd} ${args.join(' ')}`, destroy: async () => void child.kill('SIGKILL'), killSync: () => void child.kill('SIGKILL')})
  return child
}

const exitOf = (c: ChildProcess): Promise<number | null> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.on('exit', (code) => r(code)))

// ------------------------------------------------------------------ spool, audit and state fixtures

let entrySeq = 0
/** A valid dead-letter entry of `n` page rows for the `default` source (exists after init). */
function writeSpoolEntry(b: Brain, n: number, tag: string): {id: string; file: string; rows: number} {
  mkdirSync(b.spoolDir, {recursive: true, mode: 0o700})
  const seq = String(++entrySeq).padStart(4, '0')
  const id = `20261128T000000000Z-cycle.pages-${tag}${seq}`
  const rows = Array.from({length: n}, (_, i) => ({
    source_id: 'default',
    slug: `${tag}/${seq}/p${i}`,
    title: `Page ${tag} ${seq} ${i}`,
    content_hash: `h-${tag}-${seq}-${i}`,
  }))
  const entry = {
    version: 1,
    id,
    site: 'cycle.pages',
    target: 'brain.pages',
    created_at: '2026-11-28T00:00:00.000Z',
    attempts: 2,
    error: {kind: 'refused', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED'},
    row_count: rows.length,
    rows,
  }
  const file = path.join(b.spoolDir, `${id}.json`)
  writeFileSync(file, JSON.stringify(entry) + '\n', {mode: 0o600})
  return {id, file, rows: n}
}

/** An audit file from 2025-W40 (long past the 30 d retention), with one well-formed row. */
function writeOldAudit(b: Brain): string {
  mkdirSync(b.auditDir, {recursive: true, mode: 0o700})
  const file = path.join(b.auditDir, 'batch-retry-2025-W40.jsonl')
  writeFileSync(
    file,
    JSON.stringify({
      ts: '2025-10-01T10:00:00.000Z',
      site: 'cycle.pages',
      batch_size: 10,
      attempt: 1,
      outcome: 'success',
      delay_ms: 100,
      error_message_summary: 'x',
    }) + '\n',
    {mode: 0o600},
  )
  return file
}

function health(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    engine: 'postgres',
    style: 'instance',
    state: 'connected',
    connected_at: new Date(Date.now() - 3_600_000).toISOString(),
    last_ok_at: new Date(Date.now() - 5_000).toISOString(),
    last_error: null,
    failing_since: null,
    consecutive_failures: 0,
    reconnects: {ok: 0, failed: 0},
    generation: 1,
    pool_size: 10,
    prepare: true,
    ...over,
  }
}

/** A state file as `cycle --watch` writes it, claiming to be `gbrain cycle --watch` in `pid`. */
function writeState(b: Brain, pid: number, h: Partial<HealthSnapshot> = {}): string {
  mkdirSync(b.runDir, {recursive: true, mode: 0o700})
  const state: EngineProcessState = {
    version: 1,
    pid,
    command: 'gbrain cycle --watch',
    argv: [process.execPath, BIN, 'cycle', '--watch'],
    started_at: new Date(Date.now() - 3_600_000).toISOString(),
    heartbeat_at: new Date().toISOString(),
    health: health(h),
  }
  const file = path.join(b.runDir, `engine-${pid}.json`)
  writeFileSync(file, JSON.stringify(state, null, 2) + '\n', {mode: 0o600})
  return file
}

const broken = (): Partial<HealthSnapshot> => {
  const since = new Date(Date.now() - 120_000).toISOString()
  return {
    state: 'broken',
    failing_since: since,
    consecutive_failures: 7,
    reconnects: {ok: 0, failed: 6},
    last_error: {kind: 'refused', code: 'ECONNREFUSED', retryable: true, message: 'connect ECONNREFUSED', at: since},
  }
}

/** A pid that certainly belongs to no process: a child that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], {stdio: 'ignore'})
  await new Promise((r) => child.on('exit', r))
  const pid = child.pid!
  expect(pidAlive(pid)).toBe(false)
  return pid
}

// ------------------------------------------------------------------ snapshots

/** Every path under the home: dirs with their mode, files with size, mode and sha1. */
function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name)
      const st = statSync(p)
      const rel = path.relative(dir, p)
      if (st.isDirectory()) {
        out[`${rel}/`] = `dir ${(st.mode & 0o777).toString(8)}`
        walk(p)
      } else {
        out[rel] = `${st.size} ${(st.mode & 0o777).toString(8)} ${createHash('sha1').update(readFileSync(p)).digest('hex')}`
      }
    }
  }
  walk(dir)
  return out
}

async function tableHashes(db: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const t of TABLES) {
    out[t] = await cluster.psql(`select count(*) || ':' || md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from ${t} x`, db)
  }
  return out
}

async function snapshot(b: Brain): Promise<{files: Record<string, string>; tables: Record<string, string>}> {
  return {files: snapshotTree(b.home), tables: await tableHashes(b.db)}
}

async function pageCount(db: string): Promise<{total: number; distinct: number}> {
  const [total, distinct] = (await cluster.psql(`select count(*), count(distinct (source_id, slug)) from pages`, db))
    .split('|')
    .map(Number) as [number, number]
  return {total, distinct}
}

function json(r: CliResult): RepairOutput {
  try {
    return JSON.parse(r.stdout) as RepairOutput
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
  }
}

const action = (o: RepairOutput, name: string) => o.actions.find((a) => a.name === name)!

/** Signals pending for `pid` (thread + process queues), from /proc/<pid>/status. */
function pendingSignals(pid: number): bigint {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const hex = (key: string): bigint => BigInt(`0x${new RegExp(`^${key}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? '0'}`)
  return hex('SigPnd') | hex('ShdPnd')
}
const SIGUSR2_BIT = 1n << 11n // signal 12

// ------------------------------------------------------------------ tests

describe('repair --reconnect heals a live process in place', () => {
  it('a cycle --watch whose reconnects failed during an outage gets SIGUSR2 and reconnects without a restart', async () => {
    const b = await brain(SMALL_RETRIES)
    expect((await gbrain(['sources', 'add', 'notes', '--path', VAULT], b.env)).code).toBe(0)
    const watch = spawnChild(process.execPath, [BIN, 'cycle', '--watch', '--interval', '300ms', '--json'], {
      ...process.env,
      NO_COLOR: '1',
      DATABASE_URL: '',
      ...b.env,
    })
    let watchErr = ''
    watch.stdout!.setEncoding('utf8').on('data', () => {})
    watch.stderr!.setEncoding('utf8').on('data', (c: string) => (watchErr += c))
    const pid = watch.pid!
    const stateFile = path.join(b.runDir, `engine-${pid}.json`)
    const state = (): EngineProcessState => JSON.parse(readFileSync(stateFile, 'utf8')) as EngineProcessState
    await waitFor(() => existsSync(stateFile) && state().health.state === 'connected' && state().health.last_ok_at !== null, {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: `the watch's state file (stderr: ${watchErr})`,
    })
    const startedAt = state().started_at

    // The outage: its own cycles fail, and so do its reconnects.
    await cluster.stop('fast')
    try {
      await waitFor(() => state().health.consecutive_failures > 0 && state().health.reconnects.failed > 0, {
        timeoutMs: 20_000,
        intervalMs: 50,
        what: 'failures in the state file',
      })

      const doc = await gbrain(['doctor', '--json'], b.env)
      const report = JSON.parse(doc.stdout) as Report
      const procs = report.checks.find((c) => c.name === 'engine_processes')!
      const detail = (
        procs.details as {processes: {pid: number; alive: boolean; consecutive_failures: number; state: string; verdict: string}[]}
      ).processes.find((p) => p.pid === pid)!
      console.log(
        `[measure] live process: doctor during the outage: engine_processes ${procs.status}, pid ${pid} ${detail.verdict}, state ${detail.state}, ${detail.consecutive_failures} consecutive failures`,
      )
      expect(detail.alive).toBe(true)
      expect(detail.consecutive_failures).toBeGreaterThan(0)
      expect(['recovering', 'failing']).toContain(detail.verdict)

      // Freeze it, so that it cannot heal by itself when the server returns: what heals it must
      // be repair's signal (its next cycle would otherwise reconnect on its own within 300 ms).
      process.kill(pid, 'SIGSTOP')
    } finally {
      await cluster.start()
    }
    const frozen = state()
    expect(frozen.health.consecutive_failures).toBeGreaterThan(0)
    const generationBefore = frozen.health.generation

    const repairP = gbrain(['repair', '--reconnect'], b.env, 60_000)
    // The marker: repair's SIGUSR2 is pending on the frozen process. Only then let it run.
    try {
      await waitFor(() => (pendingSignals(pid) & SIGUSR2_BIT) !== 0n, {
        timeoutMs: 30_000,
        intervalMs: 20,
        what: 'SIGUSR2 pending on the watch',
      })
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    const r = await repairP
    console.log(`--- gbrain repair --reconnect (exit ${r.code}) ---\n${r.stdout}${r.stderr}`)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const m = new RegExp(`pid ${pid} \\(gbrain cycle --watch\\) reconnected \\(pool generation (\\d+) → (\\d+)\\)`).exec(r.stdout)
    expect(m, r.stdout).not.toBeNull()
    expect(Number(m![1])).toBe(generationBefore)
    expect(Number(m![2])).toBeGreaterThan(generationBefore)
    expect(r.stdout).toMatch(/^\d+ fixed, 0 remaining$/m)

    // The signal path happened, in the same process (not restarted).
    const after = state()
    expect(after.pid).toBe(pid)
    expect(after.started_at).toBe(startedAt)
    expect(after.last_signal).toBeDefined()
    expect(after.last_signal!.outcome).toBe('ok')
    expect(after.last_signal!.generation!).toBeGreaterThan(generationBefore)
    expect(watch.exitCode).toBeNull()
    expect(pidAlive(pid)).toBe(true)
    await waitFor(() => state().health.consecutive_failures === 0 && state().health.state === 'connected', {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'healthy state after the repair',
    })

    watch.kill('SIGTERM')
    expect(await exitOf(watch)).toBe(0)
    expect(existsSync(stateFile)).toBe(false)
  }, 90_000)
})

describe('repair --reconnect and state files it must not trust', () => {
  it('removes the state file of a dead pid; --dry-run first keeps it and says "would remove"', async () => {
    const b = await brain()
    const pid = await deadPid()
    const file = writeState(b, pid, broken())

    const dry = await gbrain(['repair', '--reconnect', '--dry-run'], b.env)
    expect(dry.code, dry.stdout + dry.stderr).toBe(0)
    expect(dry.stdout).toContain(`would remove the state file of dead pid ${pid}`)
    expect(dry.stdout).toMatch(/→ would apply\s+reconnect/)
    expect(existsSync(file)).toBe(true)
    const dryJson = json(await gbrain(['repair', '--reconnect', '--dry-run', '--json'], b.env))
    expect(action(dryJson, 'reconnect').status).toBe('would_apply')
    expect(existsSync(file)).toBe(true)

    const real = await gbrain(['repair', '--reconnect'], b.env)
    expect(real.code, real.stdout + real.stderr).toBe(0)
    expect(real.stdout).toContain(`removed the state file of dead pid ${pid}`)
    expect(existsSync(file)).toBe(false)

    const again = json(await gbrain(['repair', '--reconnect', '--json'], b.env))
    expect(action(again, 'reconnect').status).toBe('skipped')
  }, 60_000)

  it('refuses to signal a live pid that is not the gbrain process that wrote the state file', async () => {
    const b = await brain()
    const sleeper = spawnChild('sleep', ['30'])
    const pid = sleeper.pid!
    await waitFor(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'), {timeoutMs: 5000, what: 'sleep to exec'})
    const file = writeState(b, pid, broken())

    const r = await gbrain(['repair', '--reconnect'], b.env)
    console.log(`--- gbrain repair --reconnect (foreign pid) exit ${r.code} ---\n${r.stdout}${r.stderr}`)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/✗ failed\s+reconnect/)
    expect(r.stdout).toContain(`not signalled: pid ${pid} runs "sleep 30"`)
    const j = json(await gbrain(['repair', '--reconnect', '--json'], b.env))
    expect(action(j, 'reconnect').status).toBe('failed')
    const procs = (action(j, 'reconnect').data as {processes: {pid: number; action: string; outcome: string}[]}).processes
    expect(procs).toContainEqual(expect.objectContaining({pid, action: 'refused', outcome: 'failed'}))

    // Never signalled (SIGUSR2 would have killed `sleep`), and its state file is left alone.
    expect(sleeper.exitCode).toBeNull()
    expect(sleeper.signalCode).toBeNull()
    expect(pidAlive(pid)).toBe(true)
    expect(existsSync(file)).toBe(true)
    sleeper.kill('SIGKILL')
  }, 60_000)
})

describe('idempotence and --dry-run', () => {
  it('repair --all twice: the first applies replay + prune, the second skips everything and changes nothing', async () => {
    const b = await brain()
    const entry = writeSpoolEntry(b, 8, 'twice')
    const old = writeOldAudit(b)

    const first = await gbrain(['repair', '--all', '--json'], b.env)
    const o1 = json(first)
    console.log(
      `[measure] repair --all #1: exit ${first.code}; ${o1.actions.map((a) => `${a.name}=${a.status}`).join(', ')}; fixed [${o1.fixed.join(', ')}], remaining [${o1.remaining.join(', ')}]`,
    )
    expect(first.code, first.stdout).toBe(0)
    expect(action(o1, 'replay').status).toBe('applied')
    expect(action(o1, 'prune-audit').status).toBe('applied')
    expect(['applied', 'skipped']).toContain(action(o1, 'reconnect').status)
    expect(o1.fixed).toContain('dead_letter')
    expect(o1.remaining).toEqual([])
    expect(existsSync(entry.file)).toBe(false)
    expect(existsSync(old)).toBe(false)
    expect(await pageCount(b.db)).toEqual({total: 8, distinct: 8})

    const before = await snapshot(b)
    const second = await gbrain(['repair', '--all', '--json'], b.env)
    const after = await snapshot(b)
    const o2 = json(second)
    console.log(
      `[measure] repair --all #2: exit ${second.code}; ${o2.actions.map((a) => `${a.name}=${a.status} (${a.detail})`).join('; ')}`,
    )
    expect(second.code).toBe(0)
    expect(o2.actions.map((a) => [a.name, a.status])).toEqual([
      ['unlock', 'skipped'], // Postgres: no data-dir lock
      ['reconnect', 'skipped'],
      ['replay', 'skipped'],
      ['prune-audit', 'skipped'],
    ])
    expect(o2.fixed).toEqual([])
    expect(o2.remaining).toEqual([])
    expect(after.tables).toEqual(before.tables)
    expect(after.files).toEqual(before.files)
  }, 60_000)

  it('--dry-run changes nothing on disk or in the database, and lists would_apply per action', async () => {
    const b = await brain()
    writeSpoolEntry(b, 5, 'dry')
    writeSpoolEntry(b, 5, 'dry')
    writeOldAudit(b)
    const pid = await deadPid()
    writeState(b, pid, broken())

    const before = await snapshot(b)
    const human = await gbrain(['repair', '--all', '--dry-run'], b.env)
    const mid = await snapshot(b)
    const machine = await gbrain(['repair', '--all', '--dry-run', '--json'], b.env)
    const after = await snapshot(b)
    console.log(`--- gbrain repair --all --dry-run (exit ${human.code}) ---\n${human.stdout}${human.stderr}`)

    expect(human.code).toBe(0)
    for (const name of ['reconnect', 'replay', 'prune-audit']) expect(human.stdout).toMatch(new RegExp(`→ would apply\\s+${name}\\s`))
    expect(human.stdout).toContain(`would remove the state file of dead pid ${pid}`)
    expect(human.stdout).toContain('would replay 2 dead-letter entries')
    expect(human.stdout).toMatch(/would delete 1 audit file \(\d+ bytes\)/)
    expect(human.stdout).not.toMatch(/fixed, \d+ remaining/)

    expect(machine.code).toBe(0)
    const o = json(machine)
    expect(o.actions.map((a) => [a.name, a.status])).toEqual([
      ['unlock', 'skipped'],
      ['reconnect', 'would_apply'],
      ['replay', 'would_apply'],
      ['prune-audit', 'would_apply'],
    ])
    expect(mid).toEqual(before)
    expect(after).toEqual(before)
  }, 60_000)

  it('with no action flag, prints the plan and changes nothing', async () => {
    const b = await brain()
    writeSpoolEntry(b, 3, 'plan')
    writeOldAudit(b)
    const before = await snapshot(b)
    const r = await gbrain(['repair'], b.env)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Repairs that apply now (nothing has been changed):')
    expect(r.stdout).toMatch(/→ replay\s+1 dead-letter entry \(3 rows\) waiting/)
    expect(r.stdout).toMatch(/→ prune-audit\s+1 audit file older than the retention/)
    const j = json(await gbrain(['repair', '--json'], b.env))
    expect(j.plan.map((p) => p.action)).toEqual(['replay', 'prune-audit'])
    expect(await snapshot(b)).toEqual(before)
  }, 60_000)
})

describe('bad input', () => {
  it('an unknown flag: exit 64, one line with the fix, nothing on stdout', async () => {
    const r = await gbrain(['repair', '--nope'], {GBRAIN_HOME: root})
    expect(r.code).toBe(64)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^gbrain: .*nope.*fix: see: gbrain repair --help/)
  }, 30_000)

  it('a corrupt spool entry is reported and kept; the good entries are replayed (exit 1)', async () => {
    const b = await brain()
    const good = [writeSpoolEntry(b, 4, 'good'), writeSpoolEntry(b, 4, 'good'), writeSpoolEntry(b, 4, 'good')]
    const badId = '20261128T000000000Z-cycle.pages-garbage'
    const bad = path.join(b.spoolDir, `${badId}.json`)
    writeFileSync(bad, '{not json', {mode: 0o600})

    const r = await gbrain(['repair', '--replay'], b.env)
    console.log(`--- gbrain repair --replay (corrupt entry) exit ${r.code} ---\n${r.stdout}${r.stderr}`)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(
      /✗ failed\s+replay\s+replayed 3 of 4 entries \(12 rows, 12 new\); 1 corrupt \(kept: 20261128T000000000Z-cycle\.pages-garbage\)/,
    )
    expect(r.stdout).toMatch(/dead_letter still failing/)
    expect(readFileSync(bad, 'utf8')).toBe('{not json')
    for (const g of good) expect(existsSync(g.file)).toBe(false)
    expect(await pageCount(b.db)).toEqual({total: 12, distinct: 12})

    // Running it again replays nothing twice and still keeps (and reports) the corrupt entry.
    const again = json(await gbrain(['repair', '--replay', '--json'], b.env))
    expect(action(again, 'replay').status).toBe('failed')
    expect(action(again, 'replay').data).toMatchObject({entries: 1, replayed: 0, rows_sent: 0, corrupt: [{id: badId}]})
    expect(existsSync(bad)).toBe(true)
    expect(await pageCount(b.db)).toEqual({total: 12, distinct: 12})
  }, 60_000)

  it('an unreachable database with --timeout 2s: exit 1 within ~3 s, with the classified cause', async () => {
    const port = await freePort()
    const home = mkdtempSync(path.join(root, 'unreachable-'))
    const env = {GBRAIN_HOME: home, GBRAIN_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nowhere`}
    const r = await gbrain(['repair', '--reconnect', '--timeout', '2s'], env, 20_000)
    console.log(
      `--- gbrain repair --reconnect --timeout 2s (closed port) exit ${r.code} in ${Math.round(r.ms)} ms ---\n${r.stdout}${r.stderr}`,
    )
    expect(r.code).toBe(1)
    expect(r.ms).toBeLessThan(3000 + 6000) // --timeout 2s + 1 s, + 6 s of stated slack for Node's start-up and exit on a loaded 2-core CI machine
    const out = r.stdout + r.stderr
    expect(out).toMatch(/database: still unreachable after \d s \(refused: [^)]*ECONNREFUSED/)
    expect(out).toMatch(/connection still failing/)
    const j = json(await gbrain(['repair', '--reconnect', '--timeout', '2s', '--json'], env, 20_000))
    expect(action(j, 'reconnect').status).toBe('failed')
    expect((action(j, 'reconnect').data as {database: {ok: boolean; cause: string}}).database).toMatchObject({ok: false, cause: 'refused'})
    expect(j.remaining).toContain('connection')
  }, 60_000)
})

describe('concurrency', () => {
  it('two repair --replay started together (overlapping or not; the overlap itself is proven in engine-process): every entry replayed exactly once in total', async () => {
    const b = await brain()
    const ENTRIES = 50
    const ROWS = 10
    for (let i = 0; i < ENTRIES; i++) writeSpoolEntry(b, ROWS, 'conc')
    const start = (): ChildProcess =>
      spawnChild(process.execPath, [BIN, 'repair', '--replay', '--json'], {...process.env, NO_COLOR: '1', DATABASE_URL: '', ...b.env})
    const collect = (c: ChildProcess): Promise<CliResult> => {
      let stdout = ''
      let stderr = ''
      c.stdout!.setEncoding('utf8').on('data', (x: string) => (stdout += x))
      c.stderr!.setEncoding('utf8').on('data', (x: string) => (stderr += x))
      const t0 = performance.now()
      return exitOf(c).then((code) => ({code, stdout, stderr, ms: performance.now() - t0}))
    }
    const [ra, rb] = await Promise.all([collect(start()), collect(start())])
    const outs = [ra, rb].map((r) => ({r, o: json(r)}))
    const summary = outs.map(({r, o}) => {
      const a = action(o, 'replay')
      const d = (a.data ?? {}) as {replayed?: number; rows_sent?: number; rows_inserted?: number}
      return {
        code: r.code,
        status: a.status,
        detail: a.detail,
        replayed: d.replayed ?? 0,
        rows_sent: d.rows_sent ?? 0,
        rows_inserted: d.rows_inserted ?? 0,
      }
    })
    console.log(`[measure] concurrent replays: ${summary.map((s) => `exit ${s.code} ${s.status} (${s.detail})`).join(' | ')}`)

    // Exactly once in total: the rows each process sent add up to the spool, not more.
    expect(summary.reduce((n, s) => n + s.replayed, 0)).toBe(ENTRIES)
    expect(summary.reduce((n, s) => n + s.rows_sent, 0)).toBe(ENTRIES * ROWS)
    expect(summary.reduce((n, s) => n + s.rows_inserted, 0)).toBe(ENTRIES * ROWS)
    expect((await pageCount(b.db)).total).toBe(ENTRIES * ROWS)
    expect(readdirSync(b.spoolDir).filter((n) => n.endsWith('.json'))).toEqual([])
    expect(existsSync(path.join(b.spoolDir, '.replay.lock'))).toBe(false)

    // Exit codes: the one that replayed exits 0; the other either saw the lock (failed, exit 1,
    // "another replay is running") or came after and found nothing left (skipped/applied, exit 0).
    for (const s of summary) {
      if (s.status === 'failed') {
        expect(s.detail).toMatch(/^another replay is running \(pid \d+\); nothing was replayed twice$/)
        expect(s.code).toBe(1)
      } else {
        expect(['applied', 'skipped']).toContain(s.status)
        expect(s.code).toBe(0)
      }
    }
    expect(summary.some((s) => s.status === 'applied' && s.replayed > 0)).toBe(true)
  }, 90_000)
})

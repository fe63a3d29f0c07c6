/**
 * `gbrain repair` on an embedded brain (PGlite, PostgreSQL 17, made by `gbrain init`) with
 * GBRAIN_HOME a temp dir (issue 11, item 5): the plan, `--dry-run` changing nothing, `--all`
 * applying every action (a dead holder's lock, a dead process's state file, the dead-letter spool
 * replayed into the brain, an expired audit file), a second `--all` finding nothing to do, and
 * `--replay` meeting a stale and a half-written spool lock.
 *
 * One template brain (init + a source + a cycle) is made once and copied per test: creating a
 * PGlite data dir takes seconds, copying it does not.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/checks/types.js'
import type {RepairOutput} from '../../src/commands/repair.js'
import type {EngineProcessState} from '../../src/engine/process-state.js'
import type {HealthSnapshot} from '../../src/engine/types.js'
import {BIN, gbrain, type CliResult} from '../helpers/cli.js'
import {
  check,
  homeFrom,
  plantSpoolEntry,
  removeHomes,
  snapshotTree,
  STALE_SPOOL_AGE_MS,
  tempDir,
  type CopiedHome,
} from '../helpers/doctor-kit.js'
import {gbrainQuery} from '../helpers/gbrain-sim.js'

const VAULT = path.resolve('examples/vault')

let root: string
let template: string

beforeAll(async () => {
  root = tempDir('gbrain-repair-embedded-')
  template = path.join(root, 'template-home')
  mkdirSync(template)
  const env = {GBRAIN_HOME: template}
  const init = await gbrain(['init'], env)
  expect(init.code, init.stderr).toBe(0)
  expect((await gbrain(['sources', 'add', 'notes', '--path', VAULT], env)).code).toBe(0)
  const cycle = await gbrain(['cycle'], env)
  expect(cycle.code, cycle.stderr).toBe(0)
  // Nothing of the template's own run history: each test plants what it needs.
  rmSync(path.join(template, '.gbrain', 'audit'), {recursive: true, force: true})
}, 120_000)

afterAll(removeHomes)

interface Home extends CopiedHome {
  env: Record<string, string>
}

function home(): Home {
  const h = homeFrom(root, {home: template})
  return {...h, env: {GBRAIN_HOME: h.home, LANG: 'C.UTF-8', LC_ALL: ''}}
}

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0'], {stdio: 'ignore'})
  await new Promise((r) => c.once('exit', r))
  return c.pid!
}

/** gbrain's data-dir lock as a crashed `gbrain serve` leaves it. */
function plantDeadHolderLock(dataDir: string, pid: number): void {
  mkdirSync(path.join(dataDir, '.gbrain-lock'))
  const t = Date.now() - 600_000
  writeFileSync(
    path.join(dataDir, '.gbrain-lock', 'lock'),
    JSON.stringify({pid, acquired_at: t, refreshed_at: t, command: 'bun gbrain serve', subcommand: 'serve'}),
  )
}

/** A state file of a `cycle --watch` that died with a broken pool. */
function plantDeadStateFile(h: Home, pid: number): string {
  mkdirSync(h.paths.run, {recursive: true, mode: 0o700})
  const since = new Date(Date.now() - 120_000).toISOString()
  const health: HealthSnapshot = {
    engine: 'pglite',
    style: 'instance',
    state: 'broken',
    connected_at: since,
    last_ok_at: since,
    last_error: {kind: 'no_connection', code: 'NO_CONNECTION', retryable: true, message: 'No database connection', at: since},
    failing_since: since,
    consecutive_failures: 4,
    reconnects: {ok: 0, failed: 3},
    generation: 1,
    pool_size: 1,
    prepare: false,
  }
  const state: EngineProcessState = {
    version: 1,
    pid,
    command: 'gbrain cycle --watch',
    argv: [process.execPath, BIN, 'cycle', '--watch'],
    started_at: since,
    heartbeat_at: since,
    health,
  }
  const file = path.join(h.paths.run, `engine-${pid}.json`)
  writeFileSync(file, JSON.stringify(state), {mode: 0o600})
  return file
}

/** An audit file from 2025-W40: long past the 30 d retention. */
function plantOldAudit(h: Home): string {
  mkdirSync(h.paths.audit, {recursive: true, mode: 0o700})
  const file = path.join(h.paths.audit, 'batch-retry-2025-W40.jsonl')
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

/** Everything an incident leaves: a crashed holder's lock, a dead watcher's state file, 2 spool entries, an expired audit file. */
async function plantIncident(
  h: Home,
): Promise<{lockPid: number; statePid: number; stateFile: string; spoolIds: string[]; oldAudit: string}> {
  const lockPid = await deadPid()
  const statePid = await deadPid()
  plantDeadHolderLock(h.dataDir, lockPid)
  const stateFile = plantDeadStateFile(h, statePid)
  const spoolIds = [
    await plantSpoolEntry(h.paths.spool, '20260101T000000000Z-cycle_pages-aaaaaaaa', 2),
    await plantSpoolEntry(h.paths.spool, '20260101T000001000Z-cycle_pages-bbbbbbbb', 2),
  ]
  // Two entries with the same slugs (spooled-0, spooled-1): the replay sends 4 rows, 2 of them new.
  return {lockPid, statePid, stateFile, spoolIds, oldAudit: plantOldAudit(h)}
}

function json(r: CliResult): RepairOutput {
  try {
    return JSON.parse(r.stdout) as RepairOutput
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
  }
}

/** Pages the spool entries carried (read with gbrain's own PGlite). */
const spooledPages = async (dataDir: string): Promise<number> =>
  (await gbrainQuery<{n: number}>(dataDir, `select count(*)::int as n from pages where slug like 'spooled-%'`))[0]!.n

/** The home without the data dir (opening a PGlite brain rewrites some of its files). */
const treeWithoutBrain = (h: Home): Record<string, unknown> =>
  Object.fromEntries(Object.entries(snapshotTree(h.home)).filter(([p]) => !p.startsWith('.gbrain/brain.pglite')))

// ---------------------------------------------------------------------------------------------
describe('repair on an embedded brain', () => {
  it('with no flag: the plan names unlock, reconnect, replay and prune-audit from the doctor’s details; nothing changes (the whole home, brain included, byte for byte)', async () => {
    const h = home()
    const inc = await plantIncident(h)
    const before = snapshotTree(h.home)

    const r = await gbrain(['repair'], h.env)
    console.log(`--- gbrain repair (embedded, exit ${r.code}, ${Math.round(r.ms)} ms) ---\n${r.stdout}${r.stderr}`)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('Repairs that apply now (nothing has been changed):')
    expect(r.stdout).toMatch(new RegExp(`→ unlock\\s+a lock left by dead pid ${inc.lockPid} \\(gbrain serve\\)`))
    expect(r.stdout).toMatch(/→ reconnect\s+.*1 stale process state file/)
    expect(r.stdout).toMatch(/→ replay\s+2 dead-letter entries \(4 rows\) waiting/)
    expect(r.stdout).toMatch(/→ prune-audit\s+1 audit file older than the retention/)
    expect(r.stdout).toContain('Run them all: gbrain repair --all')

    const j = json(await gbrain(['repair', '--json'], h.env))
    expect(j.plan.map((p) => p.action)).toEqual(['unlock', 'reconnect', 'replay', 'prune-audit'])
    expect(j.actions).toEqual([])
    // The doctor never removes a dead holder's lock, so it never opened the brain: nothing at all changed.
    expect(snapshotTree(h.home)).toEqual(before)
  }, 90_000)

  it('--all --dry-run: every action would_apply, each says what it would do, nothing changes (byte for byte)', async () => {
    const h = home()
    const inc = await plantIncident(h)
    const before = snapshotTree(h.home)
    const human = await gbrain(['repair', '--all', '--dry-run'], h.env)
    const machine = await gbrain(['repair', '--all', '--dry-run', '--json'], h.env)
    console.log(`--- gbrain repair --all --dry-run (embedded, exit ${human.code}) ---\n${human.stdout}${human.stderr}`)
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(
      new RegExp(
        `→ would apply\\s+unlock\\s+would remove the lock left by pid ${inc.lockPid} \\(gbrain serve[^)]*\\), which is no longer running`,
      ),
    )
    expect(human.stdout).toContain(`would remove the state file of dead pid ${inc.statePid}`)
    expect(human.stdout).toContain('would replay 2 dead-letter entries')
    expect(human.stdout).toMatch(/would delete 1 audit file \(\d+ bytes\)/)
    expect(human.stdout).not.toMatch(/fixed, \d+ remaining/)
    expect(machine.code).toBe(0)
    expect(json(machine).actions.map((a) => [a.name, a.status])).toEqual([
      ['unlock', 'would_apply'],
      ['reconnect', 'would_apply'],
      ['replay', 'would_apply'],
      ['prune-audit', 'would_apply'],
    ])
    expect(snapshotTree(h.home)).toEqual(before)
    expect(existsSync(inc.stateFile)).toBe(true)
  }, 90_000)

  it('--all applies every action (the brain opened and proven, the spool landed once in PGlite), then the doctor is clean; a second --all skips everything', async () => {
    const h = home()
    const inc = await plantIncident(h)
    const r = await gbrain(['repair', '--all', '--json'], h.env)
    const o = json(r)
    console.log(
      `[measure] repair --all (embedded): exit ${r.code} in ${Math.round(r.ms)} ms; ${o.actions.map((a) => `${a.name}=${a.status} (${a.detail})`).join('; ')}; fixed [${o.fixed.join(',')}], remaining [${o.remaining.join(',')}]`,
    )
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(o.actions.map((a) => [a.name, a.status])).toEqual([
      ['unlock', 'applied'],
      ['reconnect', 'applied'],
      ['replay', 'applied'],
      ['prune-audit', 'applied'],
    ])
    const detail = (name: string): string => o.actions.find((a) => a.name === name)!.detail
    expect(detail('unlock')).toMatch(new RegExp(`^removed the lock left by pid ${inc.lockPid} \\(gbrain serve`))
    expect(detail('reconnect')).toMatch(/^database: fresh validated connection in \d+ ms; removed the state file of dead pid \d+$/)
    expect(detail('replay')).toBe('replayed 2 of 2 entries (4 rows, 2 new)')
    expect(detail('prune-audit')).toMatch(/^deleted 1 audit file \(\d+ bytes\)/)
    expect(o.fixed).toContain('dead_letter')
    expect(o.remaining).toEqual([])
    // What the actions did, on disk and in the brain.
    expect(existsSync(path.join(h.dataDir, '.gbrain-lock'))).toBe(false)
    expect(existsSync(inc.stateFile)).toBe(false)
    expect(readdirSync(h.paths.spool).filter((n) => n.endsWith('.json'))).toEqual([])
    expect(existsSync(inc.oldAudit)).toBe(false)
    expect(await spooledPages(h.dataDir)).toBe(2)
    const d = await gbrain(['doctor', '--json'], h.env)
    const report = JSON.parse(d.stdout) as Report
    expect(check(report, 'connection')).toMatchObject({status: 'ok', details: {major: 17}})
    for (const name of ['pglite_lock', 'dead_letter', 'engine_processes', 'pool_reap_health', 'audit_log'])
      expect(check(report, name).status, name).toBe('ok')

    const treeBefore = treeWithoutBrain(h)
    const second = await gbrain(['repair', '--all', '--json'], h.env)
    const o2 = json(second)
    expect(second.code, second.stdout).toBe(0)
    expect(o2.actions.map((a) => [a.name, a.status])).toEqual([
      ['unlock', 'skipped'],
      ['reconnect', 'skipped'],
      ['replay', 'skipped'],
      ['prune-audit', 'skipped'],
    ])
    expect(o2.actions[0]!.detail).toBe('the embedded brain is not locked')
    expect(o2.actions[1]!.detail).toBe('database: healthy, nothing to do')
    expect(o2.fixed).toEqual([])
    expect(o2.remaining).toEqual([])
    // Nothing written outside the brain either (no audit rows for a run that did nothing).
    expect(treeWithoutBrain(h)).toEqual(treeBefore)
    expect(await spooledPages(h.dataDir)).toBe(2)
    expect(existsSync(path.join(h.dataDir, '.gbrain-lock'))).toBe(false)
  }, 120_000)

  it('--replay over a dead replayer’s spool lock takes it over and lands the spool; a half-written lock younger than 5 s is refused (exit 1) and everything is kept', async () => {
    const h = home()
    // Unreplayed for 25 h, so dead_letter fails while the replay is refused.
    const ids = [await plantSpoolEntry(h.paths.spool, '20260101T000000000Z-cycle_pages-cccccccc', 3, STALE_SPOOL_AGE_MS)]
    const lock = path.join(h.paths.spool, '.replay.lock')

    // A fresh, unparseable lock: another replayer may be writing it right now.
    writeFileSync(lock, '{"pid": 4', {mode: 0o600})
    // "Younger than 5 s" must hold when the CLI looks, however long it takes to start on a loaded
    // machine (run 2 of three under load took > 5 s): the file is dated a minute ahead.
    const ahead = (Date.now() + 60_000) / 1000
    utimesSync(lock, ahead, ahead)
    const refused = await gbrain(['repair', '--replay', '--json'], h.env)
    const ro = json(refused)
    expect(refused.code).toBe(1)
    expect(ro.actions[0]).toMatchObject({name: 'replay', status: 'failed'})
    expect(ro.actions[0]!.detail).toBe(
      '.replay.lock is being written or was left half-written; if no replay runs, it is taken over once 5 s old; nothing was replayed',
    )
    expect(ro.remaining).toContain('dead_letter')
    expect(readFileSync(lock, 'utf8')).toBe('{"pid": 4')
    expect(readdirSync(h.paths.spool).filter((n) => n.endsWith('.json'))).toEqual(ids.map((id) => `${id}.json`))

    // The same lock left by a dead replayer (parseable, dead pid): taken over, the spool landed.
    writeFileSync(lock, JSON.stringify({pid: await deadPid(), started_at: new Date(Date.now() - 60_000).toISOString()}), {mode: 0o600})
    const t = (Date.now() - 60_000) / 1000
    utimesSync(lock, t, t)
    const ok = await gbrain(['repair', '--replay'], h.env)
    console.log(`--- gbrain repair --replay over a dead replayer's lock (exit ${ok.code}) ---\n${ok.stdout}${ok.stderr}`)
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/✓ applied\s+replay\s+replayed 1 of 1 entries \(3 rows, 3 new\)/)
    expect(ok.stdout).toMatch(/^1 fixed, 0 remaining$/m)
    expect(existsSync(lock)).toBe(false)
    expect(readdirSync(h.paths.spool).filter((n) => n.endsWith('.json'))).toEqual([])
    expect((await gbrainQuery<{n: number}>(h.dataDir, `select count(*)::int as n from pages where slug like 'spooled-%'`))[0]!.n).toBe(3)
  }, 90_000)
})

/**
 * `repair --unlock` on real temp data dirs with real processes: a dead holder's or an abandoned
 * lock is removed (dry-run only says it would be), a live holder's lock is never touched, and a
 * legacy `<dataDir>.lock` of an earlier gbrain-doctor goes only when its pid is dead.
 */
import {pidKit} from '../../helpers/pids.js'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {ResolvedTarget} from '../../../src/config/resolve.js'
import {parseDatabaseUrl} from '../../../src/engine/database-url.js'
import {lockDirOf, reapMarkerOf} from '../../../src/engine/pglite/data-dir-lock.js'
import {liveness} from '../../../src/shared/pid.js'
import {resolvePaths} from '../../../src/engine/paths.js'
import type {RepairContext} from '../../../src/repair/types.js'
import {unlock} from '../../../src/repair/unlock.js'

let tmp: string
let dataDir: string
const progress: string[] = []
const ctx = (dryRun = false): RepairContext => ({dryRun, progress: (l) => progress.push(l)})

const pids = pidKit()
const liveChild = (): Promise<number> => pids.liveChild()
const deadPid = async (): Promise<number> => {
  const pid = await pids.deadPid()
  expect(liveness(pid)).toBe('dead')
  return pid
}
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'gbrain-unlock-'))
  dataDir = path.join(tmp, '.gbrain', 'brain.pglite')
  mkdirSync(dataDir, {recursive: true})
  writeFileSync(path.join(dataDir, 'PG_VERSION'), '17\n')
  progress.length = 0
})
afterEach(() => {
  pids.killAll()
  rmSync(tmp, {recursive: true, force: true})
})

function target(): ResolvedTarget {
  return {
    engine: 'pglite',
    dataDir,
    display: dataDir,
    source: 'default',
    paths: resolvePaths({GBRAIN_HOME: tmp}),
    configFile: {path: '', exists: false},
  }
}

const lockFile = (): string => path.join(lockDirOf(dataDir), 'lock')

function writeLock(body: Record<string, unknown> | string): string {
  mkdirSync(lockDirOf(dataDir), {recursive: true})
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  writeFileSync(`${lockFile()}.tmp-test`, text)
  renameSync(`${lockFile()}.tmp-test`, lockFile())
  return text
}

const holder = (pid: unknown, subcommand = 'sync'): Record<string, unknown> => ({
  pid,
  acquired_at: Date.now() - 3_600_000,
  refreshed_at: Date.now() - 3_000_000,
  command: `bun /home/u/.bun/bin/gbrain ${subcommand}`,
  subcommand,
})

describe('unlock: the data-dir lock', () => {
  it('a live holder: skipped, "held by live pid N", the lock byte-identical', async () => {
    const pid = await liveChild()
    const text = writeLock(holder(pid, 'serve'))
    for (const dryRun of [true, false]) {
      const r = await unlock(target(), ctx(dryRun))
      expect(r.name).toBe('unlock')
      expect(r.status).toBe('skipped')
      expect(r.detail).toContain(`held by live pid ${pid}`)
      expect(r.data).toMatchObject({lock_state: 'held', pid})
      expect(readFileSync(lockFile(), 'utf8')).toBe(text)
      expect(readdirSync(lockDirOf(dataDir))).toEqual(['lock'])
    }
  })

  it('a malformed pid counts as live: skipped, nothing removed', async () => {
    const text = writeLock(holder('abc'))
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('skipped')
    expect(r.detail).toContain('held by live malformed pid "abc"')
    expect(readFileSync(lockFile(), 'utf8')).toBe(text)
  })

  it('a dead holder: dry-run would_apply and removes nothing; the real run applies and the lock dir is gone', async () => {
    const pid = await deadPid()
    const text = writeLock(holder(pid, 'serve'))
    const dry = await unlock(target(), ctx(true))
    expect(dry.status).toBe('would_apply')
    expect(dry.detail).toContain(`pid ${pid}`)
    expect(readFileSync(lockFile(), 'utf8')).toBe(text)

    const r = await unlock(target(), ctx())
    expect(r.status).toBe('applied')
    expect(r.data).toMatchObject({lock_state: 'held', pid, removed: true})
    expect(existsSync(lockDirOf(dataDir))).toBe(false)
    // A dead-pid reap leaves no marker (gbrain's WAL repair only refuses after an abandoned reap).
    expect(existsSync(reapMarkerOf(dataDir))).toBe(false)
    expect(readdirSync(dataDir)).toEqual(['PG_VERSION'])
  })

  it('an abandoned lock directory (no lock file, older than 10 s): applied, reap marker {ts, by} written', async () => {
    mkdirSync(lockDirOf(dataDir))
    const old = (Date.now() - 60_000) / 1000
    utimesSync(lockDirOf(dataDir), old, old)
    const dry = await unlock(target(), ctx(true))
    expect(dry.status).toBe('would_apply')
    expect(existsSync(lockDirOf(dataDir))).toBe(true)
    expect(existsSync(reapMarkerOf(dataDir))).toBe(false)

    const t0 = Date.now()
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('applied')
    expect(r.data).toMatchObject({lock_state: 'abandoned', removed: true})
    expect(existsSync(lockDirOf(dataDir))).toBe(false)
    const marker = JSON.parse(readFileSync(reapMarkerOf(dataDir), 'utf8')) as {ts: number; by: number}
    expect(marker.by).toBe(process.pid)
    expect(marker.ts).toBeGreaterThanOrEqual(t0)
    expect(r.detail).toContain('.lock-reap.json')
  })

  it('an unparseable lock file: applied, reap marker written', async () => {
    writeLock('{not json')
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('applied')
    expect(existsSync(lockDirOf(dataDir))).toBe(false)
    expect(existsSync(reapMarkerOf(dataDir))).toBe(true)
  })

  it('an acquisition in flight (empty lock dir younger than 10 s): skipped, kept', async () => {
    mkdirSync(lockDirOf(dataDir))
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('skipped')
    expect(r.data).toMatchObject({lock_state: 'acquiring'})
    expect(existsSync(lockDirOf(dataDir))).toBe(true)
  })

  it('no lock: skipped', async () => {
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('skipped')
    expect(r.detail).toContain('not locked')
    expect(r.data).toMatchObject({lock_state: 'free'})
  })

  it('no embedded brain, or a Postgres target: skipped', async () => {
    rmSync(dataDir, {recursive: true})
    expect((await unlock(target(), ctx())).status).toBe('skipped')
    const pg: ResolvedTarget = {
      engine: 'postgres',
      url: parseDatabaseUrl('postgres://u@db.example/brain', {}),
      display: 'postgres://u@db.example/brain',
      source: 'flag',
      paths: resolvePaths({GBRAIN_HOME: tmp}),
      configFile: {path: '', exists: false},
    }
    expect(await unlock(pg, ctx())).toMatchObject({name: 'unlock', status: 'skipped'})
  })
})

describe('unlock: the legacy <dataDir>.lock of an earlier gbrain-doctor', () => {
  const legacy = (): string => `${dataDir}.lock`

  it('with a dead pid: removed (dry-run would_apply and keeps it)', async () => {
    writeFileSync(legacy(), JSON.stringify({pid: await deadPid()}))
    const dry = await unlock(target(), ctx(true))
    expect(dry.status).toBe('would_apply')
    expect(existsSync(legacy())).toBe(true)
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('applied')
    expect(r.detail).toContain(`removed ${legacy()}`)
    expect(existsSync(legacy())).toBe(false)
  })

  it('with a live pid: kept', async () => {
    const pid = await liveChild()
    const text = JSON.stringify({pid})
    writeFileSync(legacy(), text)
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('skipped')
    expect(r.detail).toContain(`held by live pid ${pid}`)
    expect(readFileSync(legacy(), 'utf8')).toBe(text)
  })

  it('alongside a dead holder’s lock: both removed in one run', async () => {
    writeLock(holder(await deadPid()))
    writeFileSync(legacy(), JSON.stringify({pid: await deadPid()}))
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('applied')
    expect(existsSync(lockDirOf(dataDir))).toBe(false)
    expect(existsSync(legacy())).toBe(false)
  })

  it('a live holder’s lock stays even when the legacy file goes', async () => {
    const text = writeLock(holder(await liveChild()))
    writeFileSync(legacy(), JSON.stringify({pid: await deadPid()}))
    const r = await unlock(target(), ctx())
    expect(r.status).toBe('applied')
    expect(readFileSync(lockFile(), 'utf8')).toBe(text)
    expect(existsSync(legacy())).toBe(false)
  })

  it('defect: a directory at <dataDir>.lock makes unlock reject instead of reporting (fs.rm on a directory)', async () => {
    mkdirSync(legacy())
    writeFileSync(path.join(legacy(), 'keep'), 'x')
    const r = await unlock(target(), ctx()).then(
      (v) => v,
      (e: unknown) => e,
    )
    expect(r, 'unlock must return an ActionResult, not reject').toMatchObject({name: 'unlock'})
    expect(existsSync(path.join(legacy(), 'keep'))).toBe(true)
  })
})

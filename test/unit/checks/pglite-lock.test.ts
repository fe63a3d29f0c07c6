/**
 * `pglite_lock` judged over hand-built lock facts: ok with no lock or a live holder (named), warn
 * for a dead holder, an abandoned lock, an unreadable lock, a malformed pid, PID reuse and a live
 * non-serve holder whose heartbeat is over 300 s; skipped on Postgres or without a brain. A live
 * holder is never called stale and never offered `gbrain repair --unlock`.
 */
import {describe, expect, it} from 'vitest'
import type {DbFacts, LockFacts} from '../../../src/checks/facts/database.js'
import {judgePgliteLock, pgliteLockCheck, WEDGED_HEARTBEAT_S} from '../../../src/checks/pglite-lock.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import {evaluate} from '../../../src/checks/runner.js'
import {dbGatherers} from '../../../src/checks/facts/index.js'
import type {CheckOutcome} from '../../../src/checks/types.js'
import type {LockHolder, LockObservation} from '../../../src/engine/pglite/data-dir-lock.js'
import type {HolderProcess} from '../../../src/engine/pglite/holder-process.js'

const S = 1000
const ACQUIRED = Date.parse('2026-01-07T12:00:00.000Z')
const DATA_DIR = '/home/u/.gbrain/brain.pglite'
const LOCK_DIR = `${DATA_DIR}/.gbrain-lock`
const UNLOCK = 'gbrain repair --unlock'

function proc(over: Partial<HolderProcess> = {}): HolderProcess {
  return {
    alive: true,
    liveness: 'running',
    cmdline: 'bun /home/u/.bun/bin/gbrain sync',
    looks_like: 'gbrain',
    started_at: ACQUIRED - 5 * S,
    ...over,
  }
}

function held(over: Partial<LockHolder> = {}, p: Partial<HolderProcess> = {}): LockObservation {
  return {
    state: 'held',
    holder: {
      pid: 4242,
      acquired_at: ACQUIRED,
      refreshed_at: ACQUIRED + 60 * S,
      command: 'bun /home/u/.bun/bin/gbrain sync',
      subcommand: 'sync',
      token: `4242:${ACQUIRED}`,
      heartbeat_age_ms: 10 * S,
      process: proc(p),
      ...over,
    },
  }
}

const facts = (observed: LockObservation, over: Partial<Extract<LockFacts, {engine: 'pglite'}>> = {}): LockFacts => ({
  engine: 'pglite',
  exists: true,
  data_dir: DATA_DIR,
  lock_dir: LOCK_DIR,
  observed,
  ...over,
})

const fixCommands = (r: CheckOutcome): string[] => r.fix?.commands ?? []

/** The holder's facts every held-lock result carries, so a consumer never parses the message. */
function expectHolderDetails(r: CheckOutcome, alive: boolean): void {
  expect(r.details).toMatchObject({
    state: 'held',
    lock_dir: LOCK_DIR,
    pid: 4242,
    alive,
    command: 'bun /home/u/.bun/bin/gbrain sync',
    subcommand: 'sync',
    acquired_at: '2026-01-07T12:00:00.000Z',
    refreshed_at: '2026-01-07T12:01:00.000Z',
    heartbeat_age_s: 10,
  })
}

describe('pglite_lock: skipped', () => {
  it('on Postgres (the server arbitrates its clients)', () => {
    const r = judgePgliteLock({engine: 'postgres'})
    expect(r.status).toBe('skipped')
    expect(r.message).toContain('Postgres')
  })

  it('when there is no embedded brain yet', () => {
    const r = judgePgliteLock(facts({state: 'free'}, {exists: false}))
    expect(r.status).toBe('skipped')
    expect(r.message).toContain(DATA_DIR)
  })
})

describe('pglite_lock: ok', () => {
  it('no lock', () => {
    const r = judgePgliteLock(facts({state: 'free'}))
    expect(r).toMatchObject({status: 'ok', details: {state: 'free', lock_dir: LOCK_DIR}})
    expect(r.fix).toBeUndefined()
  })

  it('a live gbrain holder with a fresh heartbeat: ok, named, with every holder detail', () => {
    const r = judgePgliteLock(facts(held()))
    expect(r.status).toBe('ok')
    expect(r.message).toContain('pid 4242 (gbrain sync')
    expectHolderDetails(r, true)
    expect(r.details).toMatchObject({liveness: 'running', looks_like: 'gbrain', started_after_lock: false})
    expect(fixCommands(r)).not.toContain(UNLOCK)
  })

  it('a live serve holder with a 2 h old heartbeat stays ok (serve holds the brain all session)', () => {
    const r = judgePgliteLock(facts(held({subcommand: 'serve', heartbeat_age_ms: 2 * 3600 * S})))
    expect(r.status).toBe('ok')
    expect(r.message).toContain('agent session')
    expect(r.details).toMatchObject({subcommand: 'serve', heartbeat_age_s: 7200, alive: true})
  })

  it('a live non-serve holder at exactly 300 s is still ok (warn is strictly over)', () => {
    expect(judgePgliteLock(facts(held({heartbeat_age_ms: WEDGED_HEARTBEAT_S * S}))).status).toBe('ok')
  })

  it('an older gbrain’s lock (no refreshed_at, no acquired_at): ok, heartbeat unknown', () => {
    const r = judgePgliteLock(facts(held({acquired_at: null, refreshed_at: null, heartbeat_age_ms: null})))
    expect(r.status).toBe('ok')
    expect(r.message).toContain('no heartbeat recorded')
    expect(r.details).toMatchObject({acquired_at: null, refreshed_at: null, heartbeat_age_s: null, started_after_lock: false})
  })

  it('an acquisition in flight', () => {
    const r = judgePgliteLock(facts({state: 'acquiring', age_ms: 2 * S}))
    expect(r).toMatchObject({status: 'ok', details: {state: 'acquiring', age_s: 2}})
  })

  it('a process that started within 2 s after the lock was taken is not PID reuse (clock slack)', () => {
    expect(judgePgliteLock(facts(held({}, {started_at: ACQUIRED + 1500}))).status).toBe('ok')
  })
})

describe('pglite_lock: warn', () => {
  it('a dead holder: warn, details show alive false, the fix is gbrain repair --unlock', () => {
    const r = judgePgliteLock(facts(held({}, {alive: false, liveness: 'dead', cmdline: null, looks_like: 'unknown', started_at: null})))
    expect(r.status).toBe('warn')
    expect(r.message).toContain('no longer running')
    expectHolderDetails(r, false)
    expect(r.details).toMatchObject({liveness: 'dead'})
    expect(fixCommands(r)).toContain(UNLOCK)
  })

  it('an abandoned lock directory (no lock file, > 10 s): warn, fix gbrain repair --unlock', () => {
    const r = judgePgliteLock(facts({state: 'abandoned', reason: 'no-lock-file', age_ms: 90 * S}))
    expect(r.status).toBe('warn')
    expect(r.details).toMatchObject({state: 'abandoned', reason: 'no-lock-file', age_s: 90, lock_dir: LOCK_DIR})
    expect(fixCommands(r)).toContain(UNLOCK)
  })

  it('an unparseable lock file: warn, fix gbrain repair --unlock', () => {
    const r = judgePgliteLock(facts({state: 'abandoned', reason: 'unparseable', age_ms: 3 * S}))
    expect(r.status).toBe('warn')
    expect(r.message).toContain('does not parse')
    expect(r.details).toMatchObject({state: 'abandoned', reason: 'unparseable'})
    expect(fixCommands(r)).toContain(UNLOCK)
  })

  it('an unreadable lock: warn with the error, no unlock', () => {
    const r = judgePgliteLock(facts({state: 'unreadable', error: 'EACCES'}))
    expect(r.status).toBe('warn')
    expect(r.details).toMatchObject({state: 'unreadable', error: 'EACCES'})
    expect(fixCommands(r)).not.toContain(UNLOCK)
  })

  it.each([['abc'], [-1]])('a malformed pid (%j): warn, counted alive, never offered --unlock', (pid) => {
    const r = judgePgliteLock(
      facts(held({pid}, {alive: true, liveness: 'malformed-pid', cmdline: null, looks_like: 'unknown', started_at: null})),
    )
    expect(r.status).toBe('warn')
    expect(r.details).toMatchObject({pid, alive: true, liveness: 'malformed-pid'})
    expect(fixCommands(r)).not.toContain(UNLOCK)
  })

  it('PID reuse: a live pid that is not gbrain/node/bun → warn mentioning reuse, never --unlock', () => {
    const r = judgePgliteLock(facts(held({}, {cmdline: '/usr/bin/sleep 30', looks_like: 'other'})))
    expect(r.status).toBe('warn')
    expect(r.message).toContain('reused')
    expect(r.message).toContain('/usr/bin/sleep 30')
    expectHolderDetails(r, true)
    expect(r.details).toMatchObject({looks_like: 'other'})
    expect(fixCommands(r)).not.toContain(UNLOCK)
  })

  it('PID reuse: a node process that started after the lock was taken → warn mentioning reuse, never --unlock', () => {
    const r = judgePgliteLock(facts(held({}, {cmdline: 'node /srv/other-app.js', looks_like: 'node', started_at: ACQUIRED + 3600 * S})))
    expect(r.status).toBe('warn')
    expect(r.message).toContain('reused')
    expect(r.message).toContain('started after the lock was taken')
    expect(r.details).toMatchObject({started_after_lock: true, process_started_at: '2026-01-07T13:00:00.000Z'})
    expect(fixCommands(r)).not.toContain(UNLOCK)
  })

  it('PID reuse wins over serve: a reused pid named by a serve lock still warns', () => {
    const r = judgePgliteLock(facts(held({subcommand: 'serve'}, {cmdline: '/usr/sbin/sshd -D', looks_like: 'other'})))
    expect(r.status).toBe('warn')
    expect(r.message).toContain('reused')
    expect(fixCommands(r)).not.toContain(UNLOCK)
  })

  it('a live non-serve holder whose heartbeat is over 300 s: warn (may be wedged), never stolen', () => {
    const r = judgePgliteLock(facts(held({heartbeat_age_ms: 301 * S})))
    expect(r.status).toBe('warn')
    expect(r.message).toContain('wedged')
    expect(r).toMatchObject({observed_value: 301, observed_unit: 's', threshold: {warn: WEDGED_HEARTBEAT_S}})
    expect(r.details).toMatchObject({alive: true, heartbeat_age_s: 301})
    expect(fixCommands(r)).not.toContain(UNLOCK)
  })

  it('carries a legacy lock file in details when there is one', () => {
    const legacy = {file: `${DATA_DIR}.lock`, state: 'held' as const, pid: 77, alive: false, age_ms: 5000}
    expect(judgePgliteLock(facts({state: 'free'}, {legacy_lock: legacy})).details).toMatchObject({legacy_lock: legacy})
  })
})

describe('pgliteLockCheck', () => {
  it('is a files-only connectivity check judging the lock fact alone', async () => {
    expect(pgliteLockCheck).toMatchObject({name: 'pglite_lock', category: 'connectivity', gatedOnConnection: false, needs: ['lock']})
    const lockFacts = facts(held({}, {alive: false, liveness: 'dead', cmdline: null, looks_like: 'unknown', started_at: null}))
    const unused = (): never => {
      throw new Error('pglite_lock must read only the lock')
    }
    const db: DbFacts = {
      connection: unused,
      lock: async () => lockFacts,
      sources: unused,
      slots: unused,
      idleTransactions: unused,
      close: async () => {},
    }
    const r = await evaluate(pgliteLockCheck, dbGatherers(db), {now: ACQUIRED, thresholds: validateThresholds({})})
    expect(r.status).toBe('warn')
    expect(fixCommands(r)).toContain(UNLOCK)
  })
})

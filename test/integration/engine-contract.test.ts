/**
 * One contract, two engines: PostgresEngine against a throwaway PostgreSQL 15 cluster (one for
 * the file) and PGliteEngine on one on-disk data dir for the file (creating it costs ~3–5 s,
 * reopening it ~0.35 s), plus what only PGlite has: the data-dir lock, a vanished or foreign
 * data dir, an abandoned open.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {AuditWriter} from '../../src/engine/audit/index.js'
import {classify} from '../../src/engine/classify.js'
import {PGliteDataDirError, PGliteEngine, PGliteLockedError, type PGliteEngineOptions} from '../../src/engine/pglite-engine.js'
import {PostgresEngine} from '../../src/engine/postgres-engine.js'
import type {RetryPolicy} from '../../src/engine/retry-policy.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {delay, destroyAll} from '../helpers/cleanup.js'
import {CONTRACT_TABLE, contractRows, contractWriter, engineContract} from '../helpers/engine-contract.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {trackUncaught, type UncaughtTracker} from '../helpers/uncaught.js'

const RETRY: RetryPolicy = {maxRetries: 3, baseMs: 20, maxMs: 100, jitter: 'none'}

afterAll(async () => {
  await destroyAll()
})

describe('PostgresEngine', () => {
  let cluster: PgCluster
  beforeAll(async () => {
    cluster = await startCluster()
  })

  engineContract('PostgresEngine', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'gbrain-contract-pg-'))
    const engine = new PostgresEngine({
      url: cluster.url,
      applicationName: 'contract',
      poolSize: 4,
      connectTimeoutMs: 2000,
      attemptTimeoutMs: 3000,
      endTimeoutMs: 500,
      retry: RETRY,
      audit: new AuditWriter({dir: path.join(home, 'audit')}),
      spool: new DeadLetterSpool(path.join(home, 'dead-letter')),
    })
    return {
      engine,
      home,
      cleanup: async () => {
        await engine.disconnect({reason: 'exit'})
        rmSync(home, {recursive: true, force: true})
      },
      breakOpen: async () => {
        await cluster.stop('fast')
        return () => cluster.start()
      },
    }
  })
})

/** A live process that is not us, to name as a lock's holder; kill it and await `exited`. */
function liveProcess(): {child: ReturnType<typeof spawn>; exited: Promise<unknown>} {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'})
  return {child, exited: new Promise((resolve) => child.once('exit', resolve))}
}

/** gbrain's lock file as a live `gbrain sync` holding the brain writes it. */
const syncLock = (pid: number): string =>
  JSON.stringify({pid, acquired_at: Date.now(), refreshed_at: Date.now(), command: 'bun gbrain sync', subcommand: 'sync'})

describe('PGliteEngine', () => {
  let root: string
  let dataDir: string
  const extra: PGliteEngine[] = []

  const make = (home: string, options: Partial<PGliteEngineOptions> = {}): PGliteEngine =>
    new PGliteEngine({
      dataDir,
      attemptTimeoutMs: 10_000,
      retry: RETRY,
      audit: new AuditWriter({dir: path.join(home, 'audit')}),
      spool: new DeadLetterSpool(path.join(home, 'dead-letter')),
      ...options,
    })

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-contract-pglite-'))
    dataDir = path.join(root, 'nested', 'home', 'brain.pglite')
    // Pay the data dir's creation (initdb) once, here, rather than inside the first test.
    const e = make(root)
    await e.connect()
    await e.disconnect()
  })

  afterAll(() => {
    rmSync(root, {recursive: true, force: true})
  })

  engineContract('PGliteEngine', async () => {
    const home = mkdtempSync(path.join(root, 'home-'))
    const engine = make(home)
    return {
      engine,
      home,
      cleanup: async () => {
        await engine.disconnect({reason: 'exit'})
        rmSync(home, {recursive: true, force: true})
      },
      // A real failure: a data dir of another PostgreSQL major (PGLITE_MAJOR), as after a
      // downgrade; the engine refuses it before starting any PGlite.
      breakOpen: async () => {
        const file = path.join(dataDir, 'PG_VERSION')
        const original = readFileSync(file)
        writeFileSync(file, '16\n')
        return async () => writeFileSync(file, original)
      },
    }
  })

  describe('PGlite only', () => {
    let home: string
    const engine = (options: Partial<PGliteEngineOptions> = {}): PGliteEngine => {
      const e = make(home, options)
      extra.push(e)
      return e
    }

    afterEach(async () => {
      await Promise.all(extra.splice(0).map((e) => e.disconnect()))
      rmSync(home, {recursive: true, force: true})
      await delay(0)
      tracker.stop()
      tracker.assertNone()
    })

    let tracker: UncaughtTracker
    beforeEach(() => {
      home = mkdtempSync(path.join(root, 'only-'))
      tracker = trackUncaught()
    })

    it('creates parent dirs and the data dir 0700; holds gbrain’s lock <dataDir>/.gbrain-lock with its pid while open, across a reopen', async () => {
      for (const d of [path.join(root, 'nested'), path.join(root, 'nested', 'home'), dataDir]) {
        expect((statSync(d).mode & 0o777).toString(8), d).toBe('700')
      }
      const lockFile = path.join(dataDir, '.gbrain-lock', 'lock')
      const e = engine()
      await e.connect()
      expect(e.health()).toMatchObject({engine: 'pglite', pool_size: 1, prepare: false})
      expect(e.major).toBe(17)
      const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as {pid: number; acquired_at: number; refreshed_at: number; command: string}
      expect(lock.pid).toBe(process.pid)
      expect(lock.refreshed_at).toBe(lock.acquired_at)
      expect(lock.command.length).toBeGreaterThan(0)
      await e.reconnect({force: true}) // the lock is kept across a reopen: same token
      const again = JSON.parse(readFileSync(lockFile, 'utf8')) as {pid: number; acquired_at: number}
      expect(`${again.pid}:${again.acquired_at}`).toBe(`${lock.pid}:${lock.acquired_at}`)
      await e.disconnect()
      expect(existsSync(path.dirname(lockFile))).toBe(false)
      expect(existsSync(`${dataDir}.lock`)).toBe(false)
    })

    it('a second engine on the same dir in this process is refused clearly, and opens once the first is gone', async () => {
      const first = engine()
      await first.connect()
      const second = engine()
      const err = await second.connect().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PGliteLockedError)
      expect((err as Error).message).toMatch(/already open by another engine in this process/)
      expect(second.health().state).toBe('closed')
      expect(second.instancesOpened).toBe(0)
      // The owner is untouched.
      expect((await first.query<{n: number}>('select 1 as n')).rows[0]?.n).toBe(1)
      await first.disconnect()
      await second.connect()
      expect(second.health().state).toBe('connected')
      // ... and now the first one's self-healing reopen is the one refused.
      const again = await first.query('select 1').catch((e: unknown) => e)
      expect(classify(again).kind).toBe('locked') // the real cause, not the symptom: not retried
      expect(String((again as Error).message)).toMatch(/already open/)
    })

    it('a dir held by another live process (gbrain’s lock) is refused naming its pid and command; a dead holder’s lock is reaped', async () => {
      const {child, exited} = liveProcess()
      const lockDir = path.join(dataDir, '.gbrain-lock')
      try {
        mkdirSync(lockDir)
        writeFileSync(path.join(lockDir, 'lock'), syncLock(child.pid!))
        const e = engine({lock: {waitMs: 0}})
        const err = await e.connect().catch((x: unknown) => x)
        expect(err).toBeInstanceOf(PGliteLockedError)
        expect((err as Error).message).toContain(`held by pid ${child.pid} (gbrain sync: bun gbrain sync)`)
        expect(classify(err).kind).toBe('locked')
        expect(e.instancesOpened).toBe(0)
        expect((JSON.parse(readFileSync(path.join(lockDir, 'lock'), 'utf8')) as {pid: number}).pid).toBe(child.pid)
      } finally {
        child.kill('SIGKILL')
        await exited
      }
      const events: string[] = []
      const e = engine({lock: {onEvent: (ev) => events.push(ev.type)}})
      await e.connect()
      expect(events).toEqual(['reaped', 'acquired'])
      expect((JSON.parse(readFileSync(path.join(lockDir, 'lock'), 'utf8')) as {pid: number}).pid).toBe(process.pid)
    })

    it('a lock taken from us while PGlite is opening: the instance is closed, never published; the new holder’s lock is untouched', async () => {
      const {child, exited} = liveProcess()
      const lockFile = path.join(dataDir, '.gbrain-lock', 'lock')
      const foreign = syncLock(child.pid!)
      const events: string[] = []
      try {
        // 'acquired' fires before PGlite starts opening (hundreds of ms); the 20 ms heartbeat
        // sees the replaced token long before the open finishes.
        const e = engine({
          lock: {
            heartbeatMs: 20,
            waitMs: 0,
            onEvent: (ev) => {
              events.push(ev.type)
              if (ev.type === 'acquired') writeFileSync(lockFile, foreign)
            },
          },
        })
        const err = await e.connect().catch((x: unknown) => x)
        expect(events.slice(0, 2)).toEqual(['acquired', 'lost'])
        expect(err).toBeInstanceOf(PGliteLockedError)
        expect((err as Error).message).toContain(`pid ${child.pid}`)
        expect(e.health().state).not.toBe('connected')
        expect(readFileSync(lockFile, 'utf8')).toBe(foreign)
        // And it does not slip in later either: the next call waits for (here: refuses) the holder.
        expect(classify(await e.query('select 1').catch((x: unknown) => x)).kind).toBe('locked')
        expect(readFileSync(lockFile, 'utf8')).toBe(foreign)
      } finally {
        child.kill('SIGKILL')
        await exited
        rmSync(path.dirname(lockFile), {recursive: true, force: true})
      }
    })

    it('a live holder is waited for once per call (not once per retry), and an abort ends the wait at once', async () => {
      const {child, exited} = liveProcess()
      const lockDir = path.join(dataDir, '.gbrain-lock')
      try {
        mkdirSync(lockDir)
        writeFileSync(path.join(lockDir, 'lock'), syncLock(child.pid!))
        const waits: string[] = []
        const e = engine({lock: {waitMs: 400, onEvent: (ev) => waits.push(ev.type)}}) // RETRY allows 3 retries
        const t0 = performance.now()
        const err = await e.run('held', (db) => db.query('select 1')).catch((x: unknown) => x)
        const ms = performance.now() - t0
        expect(err).toBeInstanceOf(PGliteLockedError)
        // One wait, not one per retry: counted by the lock's own events (a retried wait would
        // emit a second 'waiting'), not inferred from the clock.
        expect(waits.filter((w) => w === 'waiting')).toHaveLength(1)
        expect(classify(err).retryable).toBe(false) // a held lock is not retried at all
        expect(ms).toBeGreaterThanOrEqual(400) // the wait was real
        expect(ms).toBeLessThan(400 + 2000) // and bounded: waitMs + 2 s of stated slack for a loaded 2-core CI machine

        const stop = new AbortController()
        const f = engine({lock: {waitMs: 60_000, onEvent: (ev) => ev.type === 'waiting' && stop.abort('SIGTERM')}})
        const t1 = performance.now()
        const aborted = await f.run('held', (db) => db.query('select 1'), {signal: stop.signal}).catch((x: unknown) => x)
        expect(classify(aborted).kind).toBe('aborted')
        expect(performance.now() - t1).toBeLessThan(5000) // the poll is 100 ms; 60 s if the abort were ignored
        expect((JSON.parse(readFileSync(path.join(lockDir, 'lock'), 'utf8')) as {pid: number}).pid).toBe(child.pid)
      } finally {
        child.kill('SIGKILL')
        await exited
        rmSync(lockDir, {recursive: true, force: true})
      }
    })

    it('a lock wait longer than the open timeout does not eat the open’s own time', async () => {
      const {child, exited} = liveProcess()
      const lockDir = path.join(dataDir, '.gbrain-lock')
      try {
        mkdirSync(lockDir)
        writeFileSync(path.join(lockDir, 'lock'), syncLock(child.pid!))
        // The holder lets go 500 ms after the open timeout has passed: the wait outlasts it by
        // construction, so an open timer that counted the wait would have nothing left.
        const openTimeoutMs = 4000
        const e = engine({
          openTimeoutMs,
          lock: {
            waitMs: 30_000,
            onEvent: (ev) =>
              ev.type === 'waiting' && setTimeout(() => rmSync(lockDir, {recursive: true, force: true}), openTimeoutMs + 500),
          },
        })
        const t0 = performance.now()
        await e.connect()
        expect(performance.now() - t0).toBeGreaterThan(openTimeoutMs + 500)
        expect(e.health().state).toBe('connected')
        await e.disconnect()
      } finally {
        child.kill('SIGKILL')
        await exited
        rmSync(lockDir, {recursive: true, force: true})
      }
    }, 30_000)

    it('disconnect({final: true}) ends the engine for good: no self-healing reopen, no lock taken afterwards', async () => {
      const e = engine()
      await e.connect()
      await e.disconnect({final: true})
      const err = await e.query('select 1').catch((x: unknown) => x)
      expect((err as {code?: string}).code).toBe('ENGINE_CLOSED')
      expect(existsSync(path.join(dataDir, '.gbrain-lock'))).toBe(false)
      expect(e.instancesOpened).toBe(1)
    })

    it('a data dir that vanished after opening is not silently re-created; it heals when it returns', async () => {
      const e = engine()
      await e.run('setup', async (db) => {
        await db.query(`create table if not exists ${CONTRACT_TABLE} (key text primary key, batch int not null, payload text not null)`)
        await db.query(`truncate ${CONTRACT_TABLE}`)
      })
      await e.batch('vanish', contractRows(1, 7, 'v')[0]!, contractWriter)
      await e.disconnect()
      const moved = `${dataDir}.moved`
      renameSync(dataDir, moved)
      try {
        const err = await e.query('select 1').catch((x: unknown) => x)
        expect((err as Error).message).toMatch(/disappeared after this engine opened it/)
        expect(existsSync(dataDir)).toBe(false)
      } finally {
        renameSync(moved, dataDir)
      }
      const r = await e.query<{n: number}>(`select count(*)::int as n from ${CONTRACT_TABLE}`)
      expect(r.rows[0]?.n).toBe(7)
    })

    it('createIfMissing: false creates nothing; a foreign non-empty dir is never initialised', async () => {
      const missing = path.join(root, 'absent', 'brain.pglite')
      const e = engine({dataDir: missing, createIfMissing: false})
      const err = await e.connect().catch((x: unknown) => x)
      expect(err).toBeInstanceOf(PGliteDataDirError)
      expect((err as PGliteDataDirError).fix.commands).toEqual(['gbrain init'])
      expect(existsSync(path.join(root, 'absent'))).toBe(false)

      const foreign = path.join(root, 'foreign')
      mkdirSync(foreign)
      writeFileSync(path.join(foreign, 'notes.txt'), 'mine')
      const f = engine({dataDir: foreign})
      const ferr = await f.connect().catch((x: unknown) => x)
      expect(ferr).toBeInstanceOf(PGliteDataDirError)
      expect(readdirSync(foreign)).toEqual(['notes.txt'])
      expect(existsSync(`${foreign}.lock`)).toBe(false)
    })

    it('an open that times out is abandoned, closed once it completes, and the dir released', async () => {
      const slow = engine({openTimeoutMs: 1})
      const err = await slow.connect().catch((x: unknown) => x)
      expect(classify(err).kind).toBe('timeout')
      expect(slow.health().state).toBe('closed')
      // Until the abandoned instance has finished opening and closed, the dir stays ours.
      const next = engine()
      const t0 = performance.now()
      for (;;) {
        const e = await next.connect().then(
          () => null,
          (x: unknown) => x,
        )
        if (e === null) break
        expect(e).toBeInstanceOf(PGliteLockedError)
        expect(performance.now() - t0).toBeLessThan(10_000)
        await delay(50)
      }
      expect((await next.query<{n: number}>('select 1 as n')).rows[0]?.n).toBe(1)
    })
  })
})

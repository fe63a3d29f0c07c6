/**
 * Engine lifecycle against a real PostgreSQL 15: validated connect, build-then-swap reconnect,
 * single flight, borrower disconnect, self-healing access, fast failure on bad credentials.
 */
import {readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {AuditWriter, readWindow} from '../../src/engine/audit/index.js'
import {classify} from '../../src/engine/classify.js'
import {PostgresEngine, type PostgresEngineOptions} from '../../src/engine/postgres-engine.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {destroyAll, waitFor, withTimeout} from '../helpers/cleanup.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {trackUncaught, type UncaughtTracker} from '../helpers/uncaught.js'
import {account, createTable, makeBatches, outcomeProblems, runWorkload, TABLE} from '../helpers/workload.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {ProcessStatePublisher} from '../../src/engine/process-state.js'

let cluster: PgCluster
let home: string
let tracker: UncaughtTracker
const engines: PostgresEngine[] = []

function engine(extra: Partial<PostgresEngineOptions> = {}): PostgresEngine {
  const e = new PostgresEngine({
    url: cluster.url,
    applicationName: `lifecycle-${engines.length}`,
    poolSize: 4,
    connectTimeoutMs: 2000,
    attemptTimeoutMs: 3000,
    endTimeoutMs: 500,
    retry: {maxRetries: 4, baseMs: 50, maxMs: 200, jitter: 'decorrelated'},
    audit: new AuditWriter({dir: path.join(home, 'audit')}),
    spool: new DeadLetterSpool(path.join(home, 'dead-letter')),
    ...extra,
  })
  engines.push(e)
  return e
}

beforeAll(async () => {
  cluster = await startCluster()
})

afterAll(async () => {
  await destroyAll()
})

beforeEach(async () => {
  home = tempDir('gbrain-home-')
  tracker = trackUncaught()
  await createTable(cluster.url)
})

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.disconnect({reason: 'exit'})))
  tracker.stop()
  tracker.assertNone()
  removeHomes()
})

async function recoveryRows(): Promise<Record<string, unknown>[]> {
  const r = await readWindow({dir: path.join(home, 'audit'), feature: 'pool-recovery', windowMs: 3600_000, now: Date.now()})
  return r.rows
}

describe('PostgresEngine lifecycle', () => {
  it('connect validates before publishing and reports health', async () => {
    const e = engine()
    await e.connect()
    const h = e.health()
    expect(h.state).toBe('connected')
    expect(h.generation).toBe(1)
    expect(h.connected_at).not.toBeNull()
    const r = await e.query<{n: number}>('select 1 as n')
    expect(r.rows[0]?.n).toBe(1)
    expect(await cluster.psql(`select count(*) from pg_stat_activity where application_name = 'lifecycle-0'`)).not.toBe('0')
  })

  it('a failed connect publishes nothing', async () => {
    const e = engine({url: cluster.urlFor('no_such_db')})
    const err = await e.connect().catch((x: unknown) => x)
    expect(classify(err).kind).toBe('unknown_database')
    expect(e.health().state).toBe('closed')
    expect(e.health().generation).toBe(0)
  })

  it('reconnect builds then swaps: a new pool, the old one ended, audit rows written', async () => {
    const e = engine()
    await e.connect()
    const before = e.poolsBuilt
    await e.reconnect({force: true})
    expect(e.poolsBuilt).toBe(before + 1)
    expect(e.health().generation).toBe(2)
    expect((await e.query<{n: number}>('select 2 as n')).rows[0]?.n).toBe(2)
    await e.audit!.flush()
    const kinds = (await recoveryRows()).map((r) => r.kind)
    expect(kinds).toEqual(['reconnect_other', 'reconnect_succeeded'])
  })

  it('a failed reconnect keeps the old client; the engine heals itself when the server returns', async () => {
    const e = engine()
    await e.connect()
    await cluster.stop('fast')
    try {
      const err = await e.reconnect({force: true}).catch((x: unknown) => x)
      expect(classify(err).retryable).toBe(true)
      const h = e.health()
      expect(h.state).toBe('broken')
      expect(h.generation).toBe(1) // old client still in place
      expect(h.reconnects.failed).toBe(1)
      // a second failed attempt does not brick it either
      await e.reconnect({force: true}).catch(() => {})
    } finally {
      await cluster.start()
    }
    const r = await e.run('after outage', (db) => db.query<{n: number}>('select 3 as n'))
    expect(r.rows[0]?.n).toBe(3)
    expect(e.health().state).toBe('connected')
    await e.audit!.flush()
    const kinds = (await recoveryRows()).map((x) => x.kind)
    expect(kinds.filter((k) => k === 'reconnect_failed')).toHaveLength(2)
    expect(kinds.at(-1)).toBe('reconnect_succeeded')
  })

  it('50 concurrent reconnect() callers share one rebuild and its result', async () => {
    const e = engine()
    await e.connect()
    const before = e.poolsBuilt
    const results = await Promise.allSettled(Array.from({length: 50}, () => e.reconnect({force: true})))
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
    expect(e.poolsBuilt).toBe(before + 1)
  })

  it('50 concurrent reconnect() callers during an outage see one failure, and the old pool is kept', async () => {
    const e = engine()
    await e.connect()
    await cluster.stop('immediate')
    try {
      const before = e.poolsBuilt
      const results = await Promise.allSettled(Array.from({length: 50}, () => e.reconnect({force: true})))
      expect(results.every((r) => r.status === 'rejected')).toBe(true)
      const reasons = new Set(results.map((r): unknown => (r as PromiseRejectedResult).reason))
      expect(reasons.size).toBe(1)
      expect(e.poolsBuilt).toBe(before + 1)
      expect(e.health().generation).toBe(1)
    } finally {
      await cluster.start()
    }
  })

  it('20 concurrent batches whose pool is killed under them: exactly one rebuild (single flight), all land once', async () => {
    const e = engine({poolSize: 10})
    await e.connect()
    const before = e.poolsBuilt
    const swapsBefore = e.health().reconnects.ok
    // Killing idle backends is not enough: postgres.js replaces a connection the server closed
    // while idle by itself, without an error, and no rebuild is needed (zero would be right).
    // So the batches are put in flight first: an admin transaction holds an exclusive lock on
    // the table, every statement the pool sends waits on it, and the kill meets them all.
    const admin = postgres(cluster.url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'lifecycle-admin'}})
    let unlock!: () => void
    const unlocked = new Promise<void>((resolve) => (unlock = resolve))
    let locked!: () => void
    const lockHeld = new Promise<void>((resolve) => (locked = resolve))
    const holder = admin.begin(async (tx) => {
      await tx.unsafe(`lock table ${TABLE} in access exclusive mode`)
      locked()
      await unlocked
    })
    holder.catch(() => {})
    try {
      await withTimeout(lockHeld, 10_000, 'table lock')
      const batches = makeBatches(20, 50)
      const pending = runWorkload(e, batches, {concurrency: 20})
      // Marker: all 10 connections of the pool have a statement waiting on the lock.
      await waitFor(
        async () =>
          Number(
            await cluster.psql(`select count(*) from pg_stat_activity where application_name = 'lifecycle-0' and wait_event_type = 'Lock'`),
          ) === 10,
        {timeoutMs: 10_000, intervalMs: 10, what: '10 batches waiting on the table lock'},
      )
      expect(await cluster.terminateBackends('lifecycle-0')).toBe(10)
      unlock()
      await withTimeout(holder, 10_000, 'admin transaction')
      const report = await withTimeout(pending, 20_000, 'workload')
      expect(report.failedBatches).toEqual([])
      expect(report.spooledBatches).toBe(0)
      expect(report.landedBatches).toBe(20)
      expect(e.stats().retries).toBeGreaterThanOrEqual(10) // every killed statement was retried
      // Every batch that failed on the dead pool asked for a rebuild; one was built.
      expect(e.poolsBuilt - before).toBe(1)
      expect(e.health().reconnects.ok - swapsBefore).toBe(1)
      expect(e.health().generation).toBe(2)
      // The killed statements were waiting on the lock, so none had inserted: every row was
      // reported inserted by exactly one batch, and the table holds exactly those rows.
      expect(outcomeProblems(report)).toEqual([])
      expect(report.absorbedRows).toBe(0)
      const acc = await account(cluster.url, path.join(home, 'dead-letter'))
      expect(acc.inTable).toBe(1000)
      expect(report.insertedRows).toBe(acc.inTable)
    } finally {
      unlock()
      await withTimeout(admin.end({timeout: 1}), 5000, 'admin.end').catch(() => {})
    }
  })

  it('a borrower’s disconnect() cannot close the pool for others', async () => {
    const owner = engine()
    await owner.connect()
    const borrowed = owner.borrow()
    const batches = makeBatches(10, 20)
    const report = await runWorkload(owner, batches, {
      onLanded: async (n) => {
        if (n === 3) await borrowed.disconnect()
      },
    })
    expect(report.failedBatches).toEqual([])
    expect(owner.health().generation).toBe(1)
    expect(owner.health().state).toBe('connected')
    await owner.audit!.flush()
    const rows = (await readWindow({dir: path.join(home, 'audit'), feature: 'db-disconnect', windowMs: 3600_000, now: Date.now()})).rows
    expect(rows).toHaveLength(1)
    expect((await account(cluster.url, path.join(home, 'dead-letter'))).inTable).toBe(200)
    expect(report.insertedRows).toBe(200)
  })

  it('after the owner disconnects mid-run, the next call re-establishes the client (self-healing)', async () => {
    const e = engine()
    await e.connect()
    const batches = makeBatches(10, 20)
    const report = await runWorkload(e, batches, {
      onLanded: async (n) => {
        if (n === 5) await e.disconnect()
      },
    })
    expect(report.failedBatches).toEqual([])
    expect(report.spooledBatches).toBe(0)
    expect(e.health().state).toBe('connected')
    expect((await account(cluster.url, path.join(home, 'dead-letter'))).inTable).toBe(200)
    expect(report.insertedRows).toBe(200)
  })

  it('disconnect is bounded and idempotent', async () => {
    const e = engine()
    await e.connect()
    const t0 = performance.now()
    await Promise.all([e.disconnect(), e.disconnect(), e.disconnect()])
    expect(performance.now() - t0).toBeLessThan(3000)
    expect(e.health().state).toBe('closed')
  })
})

describe('fast failure on configuration errors (no retry storm)', () => {
  const PLANTED = 'Pl4nted-S3cret!x'

  beforeAll(async () => {
    await cluster.psql(`create role pwuser login password 'right-password'`)
    const hba = path.join(cluster.dir, 'data', 'pg_hba.conf')
    writeFileSync(hba, `host all pwuser 127.0.0.1/32 scram-sha-256\n` + readFileSync(hba, 'utf8'))
    await cluster.psql('select pg_reload_conf()')
  })

  it('a wrong password fails at once with auth, without retries, and the password is nowhere', async () => {
    const e = engine({url: `postgres://pwuser:${encodeURIComponent(PLANTED)}@127.0.0.1:${cluster.port}/postgres`})
    const t0 = performance.now()
    const err = await e
      .batch('auth.site', [{key: 'a', batch: 0, payload: 'x'}], {
        target: 'x',
        write: async (db) => (await db.query('select 1')).count,
      })
      .catch((x: unknown) => x)
    const elapsed = performance.now() - t0
    expect(classify(err).kind).toBe('auth')
    expect(elapsed).toBeLessThan(1000 + 2000)
    await e.audit!.flush()
    const retries = (await readWindow({dir: path.join(home, 'audit'), feature: 'batch-retry', windowMs: 3600_000, now: Date.now()}))
      .rows as {outcome: string}[]
    expect(retries.map((r) => r.outcome)).toEqual(['exhausted'])
    expect(JSON.stringify(retries)).not.toContain(PLANTED)
    expect(String((err as Error).message)).not.toContain(PLANTED)
  })

  it('an unknown database fails at once with the real cause', async () => {
    const e = engine({url: cluster.urlFor('nope_db')})
    const t0 = performance.now()
    const err = await e.run('probe', (db) => db.query('select 1')).catch((x: unknown) => x)
    expect(performance.now() - t0).toBeLessThan(3000)
    expect(classify(err).kind).toBe('unknown_database')
  })

  it('a planted password appears in no file the engine wrote, through auth failures, kills, an outage and the spool', async () => {
    await cluster.psql(`alter role pwuser password '${PLANTED}'`)
    await cluster.psql('grant all on table fault_rows to pwuser')
    const url = `postgres://pwuser:${encodeURIComponent(PLANTED)}@127.0.0.1:${cluster.port}/postgres`
    const e = engine({
      url,
      applicationName: 'planted',
      retry: {maxRetries: 1, baseMs: 20, maxMs: 40, jitter: 'none'},
      connectTimeoutMs: 500,
    })
    const publisher = new ProcessStatePublisher(e, {
      runDir: path.join(home, 'run'),
      command: `test ${url}`,
      heartbeatMs: 50,
      handleSignal: false,
    })
    const errors: string[] = []
    try {
      await e.connect()
      await publisher.start()
      await runWorkload(e, makeBatches(3, 10, 'p1'))
      await cluster.terminateBackends('planted')
      await runWorkload(e, makeBatches(3, 10, 'p2'))
      await cluster.stop('fast')
      const r = await runWorkload(e, makeBatches(2, 10, 'p3'))
      expect(r.spooledBatches).toBe(2)
      for (const f of r.failedBatches) errors.push(String(f.error))
      errors.push(JSON.stringify(e.health()))
      await publisher.publish()
    } finally {
      await cluster.start()
    }
    // A wrong password too (the error text then talks about authentication).
    const wrong = engine({url: url.replace(encodeURIComponent(PLANTED), encodeURIComponent(PLANTED + 'x')), applicationName: 'planted2'})
    errors.push(String(await wrong.connect().catch((x: unknown) => (x as Error).message)))
    await e.audit!.flush()
    const files: string[] = []
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name)
        if (statSync(p).isDirectory()) walk(p)
        else files.push(p)
      }
    }
    walk(home)
    expect(files.some((f) => f.includes('dead-letter'))).toBe(true)
    expect(files.some((f) => f.includes('audit'))).toBe(true)
    expect(files.some((f) => f.includes(`${path.sep}run${path.sep}`))).toBe(true)
    const encoded = encodeURIComponent(PLANTED)
    for (const f of files) {
      const text = readFileSync(f, 'utf8')
      expect(text, f).not.toContain(PLANTED)
      expect(text, f).not.toContain(encoded)
    }
    for (const t of errors) {
      expect(t).not.toContain(PLANTED)
      expect(t).not.toContain(encoded)
    }
    await publisher.stop()
  })
})

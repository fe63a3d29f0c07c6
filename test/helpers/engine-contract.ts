/**
 * The behaviour every engine (Postgres, PGlite) must share, as one vitest suite:
 * `engineContract(name, factory)` inside a test file defines `describe(\`${name} contract\`)`.
 *
 * The factory is called once per test and returns a fresh, unconnected engine whose audit trail
 * is at `<home>/audit` and dead-letter spool at `<home>/dead-letter`. The table is created
 * through the engine itself (PGlite has no external admin connection) and truncated at the start
 * of each test, so one database (one cluster, one PGlite data dir) can serve a whole file.
 */
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {readWindow} from '../../src/engine/audit/index.js'
import {BatchFailedError} from '../../src/engine/base-engine.js'
import {classify} from '../../src/engine/classify.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {replayDeadLetters} from '../../src/engine/spool/replay.js'
import type {BatchWriter, Engine, Executor} from '../../src/engine/types.js'
import {trackUncaught, type UncaughtTracker} from './uncaught.js'

export interface ContractSubject {
  /** A fresh engine, not connected yet, with audit at `<home>/audit`, spool at `<home>/dead-letter`. */
  engine: Engine
  home: string
  /** Disconnect the engine and remove `home`. */
  cleanup(): Promise<void>
  /**
   * Make the engine's next open fail for a real reason (server down, unreadable data dir);
   * resolves with the repair.
   */
  breakOpen(): Promise<() => Promise<void>>
}

export type ContractFactory = () => Promise<ContractSubject>

export const CONTRACT_TABLE = 'contract_rows'
const TARGET = 'contract.rows'

export interface ContractRow {
  key: string
  batch: number
  payload: string
}

/** One atomic `INSERT … ON CONFLICT (key) DO NOTHING`; returns the rows actually inserted. */
export const contractWriter: BatchWriter<ContractRow> = {
  target: TARGET,
  async write(db: Executor, rows: readonly ContractRow[]): Promise<number> {
    const params: unknown[] = []
    const values = rows.map((r, i) => {
      params.push(r.key, r.batch, r.payload)
      return `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`
    })
    const res = await db.query(
      `insert into ${CONTRACT_TABLE} (key, batch, payload) values ${values.join(',')} on conflict (key) do nothing`,
      params,
    )
    return res.count
  },
}

/** Same target, but the statement is broken: a non-retryable syntax error (42601). */
const brokenWriter: BatchWriter<ContractRow> = {
  target: TARGET,
  async write(db: Executor, rows: readonly ContractRow[]): Promise<number> {
    const res = await db.query(`insert into ${CONTRACT_TABLE} (key, batch, payload) valuez ($1, $2, $3)`, [
      rows[0]?.key,
      rows[0]?.batch,
      rows[0]?.payload,
    ])
    return res.count
  },
}

export function contractRows(batches: number, size: number, prefix = 'c'): ContractRow[][] {
  return Array.from({length: batches}, (_, b) =>
    Array.from({length: size}, (_, i) => ({key: `${prefix}-${b}-${i}`, batch: b, payload: `row ${b}/${i}`})),
  )
}

const HEALTH_KEYS = [
  'connected_at',
  'consecutive_failures',
  'engine',
  'failing_since',
  'generation',
  'last_error',
  'last_ok_at',
  'pool_size',
  'prepare',
  'reconnects',
  'state',
  'style',
]

export function engineContract(name: string, factory: ContractFactory): void {
  describe(`${name} contract`, () => {
    let subject: ContractSubject
    let engine: Engine
    let tracker: UncaughtTracker

    const auditRows = async (feature: string): Promise<Record<string, unknown>[]> => {
      const r = await readWindow({dir: path.join(subject.home, 'audit'), feature, windowMs: 3600_000, now: Date.now() + 1000})
      return r.rows
    }
    /** Audit rows are appended asynchronously; disconnect() flushes, and so does this. */
    const flushed = async (feature: string): Promise<Record<string, unknown>[]> => {
      await (engine as unknown as {audit: {flush(): Promise<void>} | null}).audit?.flush()
      return auditRows(feature)
    }
    const spool = (): DeadLetterSpool => new DeadLetterSpool(path.join(subject.home, 'dead-letter'))
    const ready = async (): Promise<void> => {
      await engine.run('contract setup', async (db) => {
        await db.query(`create table if not exists ${CONTRACT_TABLE} (key text primary key, batch int not null, payload text not null)`)
        await db.query(`truncate ${CONTRACT_TABLE}`)
      })
    }
    const tableCount = async (): Promise<{n: number; distinct: number}> => {
      const r = await engine.query<{n: number; d: number}>(
        `select count(*)::int as n, count(distinct key)::int as d from ${CONTRACT_TABLE}`,
      )
      return {n: r.rows[0]!.n, distinct: r.rows[0]!.d}
    }

    beforeEach(async () => {
      tracker = trackUncaught()
      subject = await factory()
      engine = subject.engine
    })

    afterEach(async () => {
      await subject.cleanup()
      await new Promise((r) => setTimeout(r, 0))
      tracker.stop()
      tracker.assertNone()
    })

    it('connect validates, publishes and reports the health shape; connect again is a no-op', async () => {
      const before = engine.health()
      expect(before.state).toBe('closed')
      expect(before.generation).toBe(0)
      expect(before.connected_at).toBeNull()
      await engine.connect()
      const h = engine.health()
      expect(Object.keys(h).sort()).toEqual(HEALTH_KEYS)
      expect(h.engine).toBe(engine.kind)
      expect(h.style).toBe('instance')
      expect(h.state).toBe('connected')
      expect(h.generation).toBe(1)
      expect(typeof h.connected_at).toBe('string')
      expect(h.last_error).toBeNull()
      expect(h.failing_since).toBeNull()
      expect(h.consecutive_failures).toBe(0)
      expect(h.reconnects).toEqual({ok: 0, failed: 0})
      expect(h.pool_size).toBeGreaterThanOrEqual(1)
      expect(typeof h.prepare).toBe('boolean')
      await engine.connect()
      expect(engine.health().generation).toBe(1)
      expect(await flushed('pool-recovery')).toEqual([])
    })

    it('query: parameters, rows and count (rows returned / rows inserted)', async () => {
      await ready()
      const r = await engine.query<{n: number; s: string}>('select $1::int + 1 as n, $2::text as s', [2, 'x'])
      expect(r.rows).toEqual([{n: 3, s: 'x'}])
      expect(r.count).toBe(1)
      const g = await engine.query('select g from generate_series(1, 3) g')
      expect(g.count).toBe(3)
      const ins = await engine.query(`insert into ${CONTRACT_TABLE} values ('q1', 0, 'a'), ('q2', 0, 'b') on conflict (key) do nothing`)
      expect(ins.count).toBe(2)
      const again = await engine.query(`insert into ${CONTRACT_TABLE} values ('q1', 0, 'a'), ('q3', 0, 'c') on conflict (key) do nothing`)
      expect(again.count).toBe(1)
      expect(engine.health().last_ok_at).not.toBeNull()
    })

    it('run: several statements on one executor, the result returned', async () => {
      await ready()
      const out = await engine.run('contract run', async (db) => {
        await db.query(`insert into ${CONTRACT_TABLE} values ($1, 1, 'r')`, ['r1'])
        const r = await db.query<{key: string}>(`select key from ${CONTRACT_TABLE} where key = $1`, ['r1'])
        return r.rows.map((x) => x.key)
      })
      expect(out).toEqual(['r1'])
    })

    it('batch lands every row exactly once; resending a batch inserts 0', async () => {
      await ready()
      const batches = contractRows(3, 50)
      for (const rows of batches) {
        expect(await engine.batch('contract.batch', rows, contractWriter)).toEqual({inserted: 50, attempts: 1})
      }
      expect(await engine.batch('contract.batch', batches[0]!, contractWriter)).toEqual({inserted: 0, attempts: 1})
      // A batch overlapping landed rows inserts only the new ones.
      const mixed = [...batches[1]!.slice(0, 10), ...contractRows(1, 5, 'm')[0]!]
      expect((await engine.batch('contract.batch', mixed, contractWriter)).inserted).toBe(5)
      expect(await tableCount()).toEqual({n: 155, distinct: 155})
      expect(await flushed('batch-retry')).toEqual([])
    })

    it('10 concurrent batches all land, once, on one pool; 10 concurrent resends insert 0', async () => {
      await ready()
      const generation = engine.health().generation
      const batches = contractRows(10, 40, 'p')
      const first = await Promise.all(batches.map((rows) => engine.batch('contract.concurrent', rows, contractWriter)))
      expect(first.map((o) => o.inserted)).toEqual(Array(10).fill(40))
      const second = await Promise.all(batches.map((rows) => engine.batch('contract.concurrent', rows, contractWriter)))
      expect(second.map((o) => o.inserted)).toEqual(Array(10).fill(0))
      expect(await tableCount()).toEqual({n: 400, distinct: 400})
      expect(engine.health().generation).toBe(generation)
      expect(await flushed('batch-retry')).toEqual([])
    })

    it('disconnect is bounded and idempotent; the next call re-establishes the client', async () => {
      await ready()
      await engine.batch('contract.heal', contractRows(1, 20, 'h')[0]!, contractWriter)
      const t0 = performance.now()
      await Promise.all([engine.disconnect(), engine.disconnect(), engine.disconnect()])
      expect(performance.now() - t0).toBeLessThan(3000)
      expect(engine.health().state).toBe('closed')
      const rowsAfterFirst = (await auditRows('db-disconnect')).length
      expect(rowsAfterFirst).toBeGreaterThanOrEqual(1)
      await engine.disconnect()
      expect((await auditRows('db-disconnect')).length).toBe(rowsAfterFirst) // nothing left to close, nothing audited
      // Self-healing access.
      expect((await tableCount()).n).toBe(20)
      const h = engine.health()
      expect(h.state).toBe('connected')
      expect(h.generation).toBe(2)
      expect(h.reconnects).toEqual({ok: 1, failed: 0})
      expect((await flushed('pool-recovery')).map((r) => r.kind)).toEqual(['reconnect_other', 'reconnect_succeeded'])
    })

    it('the owner disconnecting while 10 batches are in flight: every row lands exactly once', async () => {
      await ready()
      const batches = contractRows(10, 30, 'd')
      let landed = 0
      let disconnected: Promise<void> | undefined
      const results = await Promise.allSettled(
        batches.map(async (rows) => {
          const o = await engine.batch('contract.midrun', rows, contractWriter)
          landed += 1
          if (landed === 3) disconnected = engine.disconnect()
          return o
        }),
      )
      await disconnected
      expect(results.filter((r) => r.status === 'rejected')).toEqual([])
      expect(await tableCount()).toEqual({n: 300, distinct: 300})
      expect(await spool().list()).toEqual([])
    })

    it('forced reconnect keeps working, counts, audits, and is single flight', async () => {
      await ready()
      await engine.batch('contract.force', contractRows(1, 10, 'f')[0]!, contractWriter)
      const before = engine.health()
      await engine.reconnect({force: true})
      const after = engine.health()
      expect(after.generation).toBe(before.generation + 1)
      expect(after.reconnects).toEqual({ok: before.reconnects.ok + 1, failed: 0})
      expect(after.state).toBe('connected')
      expect((await tableCount()).n).toBe(10)
      const rows = await flushed('pool-recovery')
      expect(rows.map((r) => r.kind)).toEqual(['reconnect_other', 'reconnect_succeeded'])
      expect(rows[0]!.error_summary).toBe('forced reconnect')
      // 10 concurrent forced reconnects share one rebuild.
      const results = await Promise.allSettled(Array.from({length: 10}, () => engine.reconnect({force: true})))
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true)
      expect(engine.health().generation).toBe(after.generation + 1)
      expect((await tableCount()).n).toBe(10)
    })

    it('a writer failing with a non-retryable error spools the rows and writes one exhausted row', async () => {
      await ready()
      const generation = engine.health().generation
      const rows = contractRows(1, 25, 'x')[0]!
      const err = await engine.batch('contract.broken', rows, brokenWriter).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(BatchFailedError)
      const bf = err as BatchFailedError
      expect(bf.code).toBe('BATCH_SPOOLED')
      expect(bf.attempts).toBe(1)
      expect(classify(err).kind).toBe('syntax')
      const retries = await flushed('batch-retry')
      expect(retries).toHaveLength(1)
      expect(retries[0]).toMatchObject({
        site: 'contract.broken',
        outcome: 'exhausted',
        attempt: 1,
        batch_size: 25,
        spooled: true,
        dead_letter_id: bf.deadLetterId,
        error_code: '42601',
      })
      const listing = await spool().list()
      expect(listing.map((l) => l.id)).toEqual([bf.deadLetterId])
      const entry = await spool().read(bf.deadLetterId!)
      expect(entry).toMatchObject({target: TARGET, site: 'contract.broken', row_count: 25, attempts: 1})
      expect(entry.rows).toEqual(rows)
      expect((await tableCount()).n).toBe(0)
      // Not a connection problem: no reconnect, no failure streak.
      const h = engine.health()
      expect(h.generation).toBe(generation)
      expect(h.state).toBe('connected')
      expect(h.consecutive_failures).toBe(0)
      expect(await flushed('pool-recovery')).toEqual([])
    })

    it('replayDeadLetters lands spooled rows with the fixed writer (same target), idempotently', async () => {
      await ready()
      const rows = contractRows(1, 25, 'y')[0]!
      await engine.batch('contract.broken', rows, brokenWriter).catch(() => {})
      await engine.batch('contract.broken', rows, brokenWriter).catch(() => {}) // the same rows spooled twice
      expect(await spool().list()).toHaveLength(2)
      const report = await replayDeadLetters({spool: spool(), engine, writers: new Map([[TARGET, contractWriter]])})
      expect(report.entries).toBe(2)
      expect(report.replayed.map((r) => r.inserted)).toEqual([25, 0])
      expect(report.rows_inserted).toBe(25)
      expect(report.failed).toEqual([])
      expect(await spool().list()).toEqual([])
      expect(await tableCount()).toEqual({n: 25, distinct: 25})
      expect(
        (await replayDeadLetters({spool: spool(), engine, writers: new Map([[TARGET, contractWriter as BatchWriter<unknown>]])})).entries,
      ).toBe(0)
    })

    it('a failed reconnect leaves the engine usable later: the next call heals it', async () => {
      await ready()
      await engine.batch('contract.outage', contractRows(1, 15, 'o')[0]!, contractWriter)
      const repair = await subject.breakOpen()
      try {
        const err = await engine.reconnect({force: true}).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(Error)
        const h = engine.health()
        expect(h.state).toBe('broken')
        expect(h.generation).toBe(1)
        expect(h.reconnects.failed).toBe(1)
        expect(h.last_error).not.toBeNull()
        // A second failed attempt does not brick it either.
        await engine.reconnect({force: true}).catch(() => {})
        expect(engine.health().reconnects.failed).toBe(2)
      } finally {
        await repair()
      }
      const r = await engine.run('after outage', (db) => db.query<{n: number}>(`select count(*)::int as n from ${CONTRACT_TABLE}`))
      expect(r.rows[0]?.n).toBe(15)
      const h = engine.health()
      expect(h.state).toBe('connected')
      expect(h.generation).toBe(2)
      expect(h.reconnects).toEqual({ok: 1, failed: 2})
      const kinds = (await flushed('pool-recovery')).map((x) => x.kind)
      expect(kinds.filter((k) => k === 'reconnect_failed')).toHaveLength(2)
      expect(kinds.at(-1)).toBe('reconnect_succeeded')
      expect((await engine.batch('contract.outage', contractRows(1, 15, 'o2')[0]!, contractWriter)).inserted).toBe(15)
    })

    it('borrow().disconnect() releases the handle only; the owner keeps its client', async () => {
      await ready()
      const borrowed = engine.borrow()
      expect((await borrowed.query<{n: number}>('select 1 as n')).rows[0]?.n).toBe(1)
      await borrowed.disconnect()
      await borrowed.disconnect()
      const h = engine.health()
      expect(h.state).toBe('connected')
      expect(h.generation).toBe(1)
      expect((await engine.batch('contract.borrow', contractRows(1, 10, 'b')[0]!, contractWriter)).inserted).toBe(10)
      const rows = await flushed('db-disconnect')
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({reason: 'borrower-release', engine_kind: engine.kind})
      expect(await flushed('pool-recovery')).toEqual([])
    })
  })
}

/**
 * Tests of the real-server harness itself: cluster lifecycle, readiness prober, PgBouncer,
 * fault proxy and the uncaught-error tracker. One cluster per file (initdb costs ~0.5–0.9 s).
 * Every wait is bounded by our own timer: several postgres.js 3.4.9 paths never settle.
 */
import postgres from 'postgres'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {delay, destroyAll, registeredCount, waitFor, withTimeout} from '../helpers/cleanup.js'
import {startProxy, type FaultProxy} from '../helpers/fault-proxy.js'
import {probeReadiness, startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {startPgBouncer, type PgBouncer} from '../helpers/pgbouncer.js'
import {trackUncaught, type UncaughtTracker} from '../helpers/uncaught.js'

const T = 20_000 // per-test timeout (ms)
let cluster: PgCluster

/** postgres.js client with the hazard-avoiding defaults; always ended with a timeout. */
async function withSql<R>(url: string, opts: postgres.Options<Record<string, never>>, fn: (sql: postgres.Sql) => Promise<R>): Promise<R> {
  const sql = postgres(url, {max: 1, fetch_types: false, onnotice: () => undefined, ...opts})
  try {
    return await fn(sql)
  } finally {
    await withTimeout(sql.end({timeout: 1}), 5000, 'sql.end')
  }
}

/** Settle a promise into its error code (or 'ok'), bounded by a timer. */
async function outcome(p: Promise<unknown>, ms = 5000): Promise<string> {
  try {
    await withTimeout(p, ms, 'query')
    return 'ok'
  } catch (e) {
    return String((e as {code?: string}).code ?? (e as Error).name)
  }
}

/** 'pending' if `p` has not settled within `ms`. */
async function stillPending(p: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol('pending')
  const r = await Promise.race([
    p.then(
      () => 'settled',
      () => 'settled',
    ),
    delay(ms).then(() => marker),
  ])
  return r === marker
}

beforeAll(async () => {
  cluster = await startCluster()
}, 60_000)

afterAll(async () => {
  await destroyAll()
  expect(registeredCount()).toBe(0)
}, 60_000)

describe('pg cluster', () => {
  it(
    'answers psql',
    async () => {
      expect(await cluster.psql('select 1')).toBe('1')
      expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`)
      expect(cluster.urlFor('x y', 'u', 'p:w')).toBe(`postgres://u:p%3Aw@127.0.0.1:${cluster.port}/x%20y`)
    },
    T,
  )

  it(
    'stops (fast, immediate) and starts again',
    async () => {
      for (const mode of ['fast', 'immediate'] as const) {
        const t0 = performance.now()
        await cluster.stop(mode)
        const t1 = performance.now()
        await expect(cluster.psql('select 1')).rejects.toThrow()
        await cluster.start()
        const t2 = performance.now()
        expect(await cluster.psql('select 1')).toBe('1')
        console.log(`stop -m ${mode}: ${(t1 - t0).toFixed(0)} ms, start -w: ${(t2 - t1).toFixed(0)} ms`)
      }
    },
    T,
  )

  it(
    'terminateBackends kills the tagged postgres.js session only',
    async () => {
      await withSql(cluster.url, {connection: {application_name: 'harness-victim'}}, async (sql) => {
        await sql`select 1`
        expect(await cluster.terminateBackends("nobody's app")).toBe(0) // quoting is safe
        expect(await cluster.terminateBackends('harness-victim')).toBe(1)
        await waitFor(
          async () => (await cluster.psql(`select count(*) from pg_stat_activity where application_name = 'harness-victim'`)) === '0',
          {timeoutMs: 5000, what: 'victim gone'},
        )
        await delay(20) // let postgres.js process the close before the next query (same-tick hazard)
        expect(await outcome(sql`select 1`)).toBe('ok')
      })
    },
    T,
  )

  it(
    'probeReadiness timestamps readiness after startNoWait',
    async () => {
      await cluster.stop('fast')
      const probe = probeReadiness(cluster.port, {intervalMs: 2, timeoutMs: 10_000})
      const {invokedAt, returnedAt} = await cluster.startNoWait()
      const r = await probe
      expect(r.readyAt).toBeGreaterThan(invokedAt)
      expect(r.firstAcceptAt).toBeDefined()
      console.log(
        `startNoWait returned ${(returnedAt - invokedAt).toFixed(0)} ms, first accept ` +
          `${(r.firstAcceptAt! - invokedAt).toFixed(0)} ms, ready ${(r.readyAt - invokedAt).toFixed(0)} ms ` +
          `(attempts ${r.attempts}, refused ${r.refused}, errors ${JSON.stringify(r.errors)})`,
      )
      expect(await cluster.psql('select 1')).toBe('1')
    },
    T,
  )
})

describe('pgbouncer', () => {
  let bouncer: PgBouncer
  beforeAll(async () => {
    const t0 = performance.now()
    bouncer = await startPgBouncer(cluster)
    console.log(`pgbouncer admin console up after ${(performance.now() - t0).toFixed(0)} ms`)
  }, 30_000)

  it(
    'forwards a query in transaction mode (prepare:false) and answers SHOW POOLS',
    async () => {
      const rows = await withSql(bouncer.url, {prepare: false}, (sql) => sql`select 41 + 1 as x`)
      expect(rows[0]?.x).toBe(42)
      expect(await bouncer.admin('SHOW POOLS')).toMatch(/^postgres\|postgres\|/m)
    },
    T,
  )

  it(
    'PAUSE makes a query wait; RESUME lets it finish',
    async () => {
      await withSql(bouncer.url, {prepare: false}, async (sql) => {
        await sql`select 1`
        await bouncer.admin('PAUSE postgres')
        const t0 = performance.now()
        const q = sql`select 2 as x`
        try {
          expect(await stillPending(q, 300)).toBe(true)
        } finally {
          await bouncer.admin('RESUME postgres')
        }
        const rows = await withTimeout(q, 5000, 'query after RESUME')
        expect(rows[0]?.x).toBe(2)
        expect(performance.now() - t0).toBeGreaterThanOrEqual(290)
      })
    },
    T,
  )

  it(
    'stops and starts again',
    async () => {
      await bouncer.stop()
      expect(bouncer.pid()).toBeUndefined()
      await bouncer.start()
      expect(await bouncer.admin('SHOW VERSION')).toMatch(/PgBouncer/)
    },
    T,
  )
})

describe('fault proxy', () => {
  let proxy: FaultProxy
  let tracker: UncaughtTracker
  beforeAll(async () => {
    proxy = await startProxy(cluster.port)
  })
  beforeEach(async () => {
    tracker = trackUncaught()
    await proxy.setMode('pass')
    proxy.latency(0)
  })
  afterEach(async () => {
    await delay(10) // unhandled rejections are reported after a macrotask
    tracker.stop()
    tracker.assertNone()
  })

  it(
    'pass: forwards queries and counts accepts',
    async () => {
      proxy.resetStats()
      const rows = await withSql(proxy.urlFor(), {}, (sql) => sql`select 'via proxy' as v`)
      expect(rows[0]?.v).toBe('via proxy')
      expect(proxy.stats.accepted).toBe(1)
    },
    T,
  )

  it(
    'blackhole: postgres.js gives CONNECT_TIMEOUT',
    async () => {
      await proxy.setMode('blackhole')
      await withSql(proxy.urlFor(), {connect_timeout: 1}, async (sql) => {
        const t0 = performance.now()
        expect(await outcome(sql`select 1`)).toBe('CONNECT_TIMEOUT')
        expect(performance.now() - t0).toBeGreaterThanOrEqual(900)
      })
    },
    T,
  )

  it(
    'fin-on-accept: postgres.js reconnects in a loop (accept counter grows)',
    async () => {
      await proxy.setMode('fin-on-accept')
      proxy.resetStats()
      await withSql(proxy.urlFor(), {connect_timeout: 1}, async (sql) => {
        const q = sql`select 1`
        q.catch(() => undefined) // #1193: may never settle; end({timeout}) rejects it
        await waitFor(() => proxy.stats.accepted >= 50, {timeoutMs: 5000, intervalMs: 10, what: '50 accepts'})
        await delay(500)
        console.log(`fin-on-accept: postgres.js reconnects at ~${proxy.acceptsWithin(500) * 2}/s`)
        await proxy.setMode('refuse') // stop feeding the loop before end()
      })
    },
    T,
  )

  it(
    'refuse: ECONNREFUSED, then pass works on the same port',
    async () => {
      const port = proxy.port
      await proxy.setMode('refuse')
      await withSql(proxy.urlFor(), {connect_timeout: 1}, async (sql) => {
        expect(await outcome(sql`select 1`)).toBe('ECONNREFUSED')
      })
      await proxy.setMode('pass')
      expect(proxy.port).toBe(port)
      expect(await outcome(withSql(proxy.urlFor(), {}, (sql) => sql`select 1`))).toBe('ok')
    },
    T,
  )

  it(
    'armResetOnNextQuery: in-flight query gets ECONNRESET, next query ok',
    async () => {
      await withSql(proxy.urlFor(), {}, async (sql) => {
        await sql`select 1` // warm: the arm must fire on the marked query, not on startup traffic
        const arm = proxy.armResetOnNextQuery({predicate: (q) => q.includes('harness_rst')})
        expect(await outcome(sql`select 'harness_rst' as m`)).toBe('ECONNRESET')
        expect((await withTimeout(arm.whenFired, 1000, 'reset fired')).text).toContain('harness_rst')
        await delay(10) // retry after a macrotask (same-tick retry hangs in 3.4.9)
        expect(await outcome(sql`select 1`)).toBe('ok')
      })
    },
    T,
  )

  it(
    'armAckLoss: server commits, client sees an error, idempotent retry gives count 0',
    async () => {
      await cluster.psql('drop table if exists harness_ack; create table harness_ack (id int primary key)')
      const insert = (sql: postgres.Sql) => sql`insert into harness_ack select g from generate_series(1, 100) g on conflict (id) do nothing`
      await withSql(proxy.urlFor(), {}, async (sql) => {
        await sql`select 1`
        const arm = proxy.armAckLoss((q) => /insert into harness_ack/i.test(q))
        await sql`select 1` // the predicate keeps the arm for the write
        expect(arm.fired).toBe(false)
        const code = await outcome(insert(sql))
        expect(['CONNECTION_CLOSED', 'ECONNRESET']).toContain(code)
        console.log(`ack loss: client saw ${code}`)
        const fired = await withTimeout(arm.whenFired, 1000, 'ack loss fired')
        expect(fired).toMatchObject({outcome: 'complete', txStatus: 'I'})
        expect(await cluster.psql('select count(*) from harness_ack')).toBe('100')
        await delay(10)
        const retry = await withTimeout(insert(sql), 5000, 'retry')
        expect(retry.count).toBe(0)
      })
      // The primary key makes every row distinct, so count(distinct) could not fail; the no-double-
      // write proof is the retry's count 0 above, and here nothing changed after it.
      expect(await cluster.psql('select count(*) from harness_ack')).toBe('100')
    },
    T,
  )

  it(
    'freeze: a query hangs silently; thaw delivers it',
    async () => {
      await withSql(proxy.urlFor(), {}, async (sql) => {
        await sql`select 1`
        proxy.freeze()
        const q = sql`select 3 as x`
        try {
          expect(await stillPending(q, 300)).toBe(true)
        } finally {
          proxy.thaw()
        }
        expect((await withTimeout(q, 5000, 'query after thaw'))[0]?.x).toBe(3)
      })
    },
    T,
  )

  it(
    'latency: adds delay each way',
    async () => {
      await withSql(proxy.urlFor(), {}, async (sql) => {
        await sql`select 1`
        proxy.latency(25)
        const t0 = performance.now()
        for (let i = 0; i < 4; i++) await sql`select 1`
        const ms = performance.now() - t0
        expect(ms).toBeGreaterThanOrEqual(4 * 50 - 5)
        expect(ms).toBeLessThan(2000)
      })
    },
    T,
  )

  it(
    'resetAll / finAll: idle connection dropped, next query reconnects',
    async () => {
      await withSql(proxy.urlFor(), {}, async (sql) => {
        for (const fault of ['resetAll', 'finAll'] as const) {
          await sql`select 1`
          expect(proxy.stats.active).toBeGreaterThanOrEqual(1)
          proxy[fault]()
          await waitFor(() => proxy.stats.active === 0, {timeoutMs: 3000, what: `${fault} closed`})
          await delay(10)
          expect(await outcome(sql`select 1`)).toBe('ok')
        }
      })
    },
    T,
  )
})

describe('uncaught tracker', () => {
  it(
    'counts an intentional unhandled rejection and uncaught exception (vitest defers to it)',
    async () => {
      const t = trackUncaught()
      try {
        void Promise.reject(new Error('intentional unhandled rejection'))
        setTimeout(() => {
          throw new Error('intentional uncaught exception')
        }, 0)
        await delay(20)
        expect(t.unhandled).toHaveLength(1)
        expect(t.uncaught).toHaveLength(1)
        expect(() => t.assertNone()).toThrow(/uncaught=1 unhandled=1/)
      } finally {
        t.stop()
      }
    },
    T,
  )
})

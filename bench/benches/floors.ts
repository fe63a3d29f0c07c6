/**
 * Physical floors on this machine, printed beside the ratios (postgres-driver.md §7):
 * loopback `SELECT 1` round trip with postgres.js, the cost of opening one connection, and
 * `pg_ctl start` until the server accepts connections and until it is ready. (Page-cache read
 * bandwidth comes from audit-scan's `wc -l`.)
 */
import postgres from 'postgres'
import {probeReadiness} from '../../test/helpers/pg-cluster.js'
import type {BenchContext} from '../lib/context.js'
import {ms, type BenchResult, type Floor} from '../lib/report.js'
import {round3, summarize} from '../lib/stats.js'

export async function floors(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const cluster = await ctx.pg()
  const out: Floor[] = []
  const data: Record<string, unknown> = {}

  // 1. Round trip: one warm connection, sequential SELECT 1.
  {
    const warm = ctx.quick ? 20 : 200
    const n = ctx.quick ? 100 : 1000
    const sql = postgres(cluster.url, {
      max: 1,
      fetch_types: false,
      prepare: true,
      onnotice: () => {},
      connection: {application_name: 'bench-floor'},
    })
    try {
      for (let i = 0; i < warm; i++) await sql.unsafe('select 1')
      const samples: number[] = []
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        await sql.unsafe('select 1')
        samples.push(performance.now() - t)
      }
      const s = summarize(samples)
      data.select1 = {n, warm, median: round3(s.median), p90: round3(s.p90), min: round3(s.min)}
      out.push({
        name: 'loopback SELECT 1 round trip (postgres.js, TCP, prepared)',
        value: ms(s.median),
        detail: `p90 ${ms(s.p90)}, ${n} sequential after ${warm} warm-up`,
      })
    } finally {
      await sql.end({timeout: 1})
    }
  }

  // 2. Opening one connection: new pool, first SELECT 1, end.
  {
    const n = ctx.quick ? 3 : 20
    const samples: number[] = []
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      const sql = postgres(cluster.url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'bench-floor'}})
      await sql.unsafe('select 1')
      samples.push(performance.now() - t)
      await sql.end({timeout: 1})
    }
    const s = summarize(samples)
    data.connect = {n, median: round3(s.median), p90: round3(s.p90)}
    out.push({
      name: 'open one connection (new postgres.js pool → first SELECT 1)',
      value: ms(s.median),
      detail: `p90 ${ms(s.p90)}, n=${n}, trust auth`,
    })
  }

  // 3. pg_ctl start until accepting / ready (after a fast stop).
  {
    const n = ctx.quick ? 1 : 3
    const accept: number[] = []
    const ready: number[] = []
    for (let i = 0; i < n; i++) {
      await cluster.stop('fast')
      const invokedAt = performance.now()
      const [started, probed] = await Promise.allSettled([cluster.startNoWait(), probeReadiness(cluster.port, {timeoutMs: 20_000})])
      if (started.status === 'rejected') throw started.reason
      if (probed.status === 'rejected') throw probed.reason
      if (probed.value.firstAcceptAt !== undefined) accept.push(probed.value.firstAcceptAt - invokedAt)
      ready.push(probed.value.readyAt - invokedAt)
    }
    const a = summarize(accept)
    const r = summarize(ready)
    data.pgStart = {n, firstAcceptMs: accept.map(round3), readyMs: ready.map(round3)}
    out.push({name: '`pg_ctl start` → first TCP accept', value: ms(a.median), detail: `n=${n}, pg_ctl -W, raw-startup prober every 2 ms`})
    out.push({name: '`pg_ctl start` → ready (first ReadyForQuery)', value: ms(r.median), detail: `n=${n}`})
  }

  return {
    name: 'floors',
    input: 'the shared throwaway PG 15 cluster (fsync=off, trust auth, TCP 127.0.0.1)',
    rows: [],
    data,
    notes: [],
    floors: out,
    durationMs: performance.now() - t0,
  }
}

/**
 * recovery: a server restart under a batch workload, repeated. Each episode runs sequential
 * batches of 250 rows (idempotent writer, deterministic keys) through one engine; after the 5th
 * batch lands the server is stopped (`pg_ctl stop -m fast`) and started again (`pg_ctl start -W`
 * with the raw-startup readiness prober timestamping the first ReadyForQuery); the 6th batch is
 * sent once the shutdown has begun, so it meets the outage. Measured per episode: time from
 * "ready" to the first batch landed after the stop, rows lost (sent − in table − in spool) and
 * duplicated (count(*) − count(distinct key)).
 *
 * Policies, interleaved episode by episode on the same fault schedule:
 * - the app's engine with its shipped default batch policy (3 retries, base 1000 ms,
 *   decorrelated jitter), whose readiness probe (every 100 ms) ends the backoff once the server
 *   accepts sessions again;
 * - the same engine and policy with the probe off (its interval longer than any sleep): the
 *   baseline of the row above;
 * - the app's engine with a constant 100 ms step (40 retries) — the mechanism's own floor (its
 *   sleeps are one probe interval, so it never probes);
 * - the original-engine policy (bench/lib/original-engine.ts).
 * Targets: default policy median ready → first landed ≤ 150 ms (issue 15), the 100 ms step ≤ one
 * step; 0 lost / 0 duplicated. Then the server that stays down (recovery-down.ts): no probe storm,
 * the whole backoff waited.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {delay, waitFor, withTimeout} from '../../test/helpers/cleanup.js'
import {probeReadiness, type PgCluster} from '../../test/helpers/pg-cluster.js'
import {makeBatches, rowsWriter, type WorkRow} from '../../test/helpers/workload.js'
import type {BenchContext} from '../lib/context.js'
import {OriginalEngine} from '../lib/original-engine.js'
import {recoveryDown} from './recovery-down.js'
import {ms, type BenchResult, type Row} from '../lib/report.js'
import {median, round1} from '../lib/stats.js'

type EngineModule = typeof import('../../src/engine/drivers.js')

interface Policy {
  name: string
  /** Short id (table and directory names). */
  id: string
  kind: 'ours' | 'original'
  stepMs: number
  /** Original policy only: bound on tearing down the old pool (seconds). */
  teardownS?: number
  /** A baseline of another row (measured, not a row of its own). */
  baselineOnly?: boolean
  /** Readiness probe interval (ms); longer than any sleep turns the probe off. */
  probeIntervalMs?: number
  /** The gap row's target (ms, median) and what it is compared with. */
  gap?: {targetMs: number; baseline: string}
  retry?: {maxRetries: number; baseMs: number; maxMs: number; jitter: 'none' | 'full' | 'decorrelated'}
}

interface Episode {
  policy: string
  /** ms from ready to the first batch landed after the stop; null = none landed. */
  gapMs: number | null
  stopMs: number
  /** ms from stop returned to ready. */
  downMs: number
  sent: number
  inTable: number
  distinct: number
  spooled: number
  lost: number
  duplicated: number
  failedBatches: number
  retries: number
  /** For the original policy: a batch sent 1 s after ready still failed. */
  stillBrokenAfterReady?: boolean
  uncaught: number
  /** Original policy only: what its loop saw (error codes, teardown and reconnect times). */
  original?: {errors: string[]; teardownMs: number[]; reconnectMs: number[]}
}

const BATCHES = 30
const SIZE = 250
const TRIGGER_AFTER = 5

let uncaught = 0
let counting = false
function countUncaught(): void {
  if (counting) return
  counting = true
  process.on('uncaughtException', () => (uncaught += 1))
  process.on('unhandledRejection', () => (uncaught += 1))
}

function pmStatus(cluster: PgCluster): string | undefined {
  try {
    return readFileSync(path.join(cluster.dir, 'data', 'postmaster.pid'), 'utf8')
      .split('\n')[7]
      ?.trim()
  } catch {
    return undefined
  }
}

interface Bounce {
  stopSettled: boolean
  stoppedAt: number
  stopInvokedAt: number
  readyAt: number
  done: Promise<void>
}

function bounce(cluster: PgCluster): Bounce {
  const b: Bounce = {stopSettled: false, stoppedAt: 0, stopInvokedAt: performance.now(), readyAt: 0, done: Promise.resolve()}
  b.done = (async () => {
    try {
      await cluster.stop('fast')
    } finally {
      b.stopSettled = true
    }
    b.stoppedAt = performance.now()
    const [started, probed] = await Promise.allSettled([cluster.startNoWait(), probeReadiness(cluster.port, {timeoutMs: 30_000})])
    if (started.status === 'rejected') throw started.reason
    if (probed.status === 'rejected') throw probed.reason
    b.readyAt = probed.value.readyAt
  })()
  b.done.catch(() => {})
  return b
}

async function episode(
  ctx: BenchContext,
  eng: EngineModule,
  cluster: PgCluster,
  url: string,
  policy: Policy,
  index: number,
): Promise<Episode> {
  const table = `rec_${policy.id.replace(/-/g, '_')}`
  await cluster.psql(
    `create table if not exists ${table} (key text primary key, batch int not null, payload text not null); truncate ${table}`,
    'recovery',
  )
  const writer = rowsWriter(table)
  const home = ctx.dir(`recovery/${policy.id}-${index}`)
  const before = uncaught
  let engine: {batch: (rows: WorkRow[]) => Promise<unknown>; disconnect: () => Promise<void>; retries: () => number; spooled: () => number}
  let original: OriginalEngine | undefined
  if (policy.kind === 'ours') {
    const e = new eng.PostgresEngine({
      url,
      applicationName: 'bench-recovery',
      ...(policy.retry ? {retry: {...policy.retry}} : {}),
      ...(policy.probeIntervalMs ? {probeIntervalMs: policy.probeIntervalMs} : {}),
      audit: new eng.AuditWriter({dir: path.join(home, 'audit')}),
      spool: new eng.DeadLetterSpool(path.join(home, 'dead-letter')),
    })
    await e.connect()
    engine = {
      batch: (rows) => e.batch('bench.recovery', rows, writer),
      disconnect: () => e.disconnect(),
      retries: () => e.stats().retries,
      spooled: () => e.stats().spooled_rows,
    }
  } else {
    const o = new OriginalEngine(url, {maxRetries: 3, baseMs: 1000, maxMs: 10_000, teardownTimeoutS: policy.teardownS ?? 0})
    await o.connect()
    original = o
    engine = {batch: (rows) => o.batch(rows, writer), disconnect: () => o.disconnect(), retries: () => o.stats.retries, spooled: () => 0}
  }
  const batches = makeBatches(BATCHES, SIZE, `e${index}`)
  let b: Bounce | undefined
  let sent = 0
  let failedBatches = 0
  const landedAt: number[] = []
  try {
    for (let i = 0; i < batches.length; i++) {
      if (i === TRIGGER_AFTER) {
        b = bounce(cluster)
        const bb = b
        await waitFor(() => bb.stopSettled || pmStatus(cluster) === 'stopping' || pmStatus(cluster) === undefined, {
          timeoutMs: 10_000,
          intervalMs: 2,
          what: 'shutdown begun',
        })
      }
      sent += batches[i]!.length
      try {
        await engine.batch(batches[i]!)
        landedAt.push(performance.now())
      } catch {
        failedBatches += 1
      }
    }
    await b?.done
    let stillBroken: boolean | undefined
    if (policy.kind === 'original' && b) {
      // One more batch a second after ready: does the original policy ever come back by itself?
      await delay(Math.max(0, b.readyAt + 1000 - performance.now()))
      const extra = makeBatches(1, SIZE, `e${index}-late`)[0]!
      sent += extra.length
      try {
        await engine.batch(extra)
        landedAt.push(performance.now())
        stillBroken = false
      } catch {
        failedBatches += 1
        stillBroken = true
      }
    }
    const counts = (await cluster.psql(`select count(*) || ',' || count(distinct key) from ${table}`, 'recovery')).split(',').map(Number)
    const spooled = engine.spooled()
    const first = b ? landedAt.find((t) => t > b!.stoppedAt) : undefined
    return {
      policy: policy.name,
      gapMs: first !== undefined && b ? first - b.readyAt : null,
      stopMs: b ? b.stoppedAt - b.stopInvokedAt : 0,
      downMs: b ? b.readyAt - b.stoppedAt : 0,
      sent,
      inTable: counts[0]!,
      distinct: counts[1]!,
      spooled,
      lost: sent - counts[1]! - spooled,
      duplicated: counts[0]! - counts[1]!,
      failedBatches,
      retries: engine.retries(),
      ...(stillBroken !== undefined ? {stillBrokenAfterReady: stillBroken} : {}),
      uncaught: uncaught - before,
      ...(original
        ? {
            original: {
              errors: original.stats.errors,
              teardownMs: original.stats.teardownMs.map(round1),
              reconnectMs: original.stats.reconnectMs.map(round1),
            },
          }
        : {}),
    }
  } finally {
    await b?.done.catch(() => {})
    await engine.disconnect().catch(() => {})
  }
}

export async function recovery(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  countUncaught()
  const cluster = await ctx.pg()
  await cluster.psql('create database recovery')
  const url = cluster.urlFor('recovery')
  const eng = (await import(ctx.distUrl('engine/drivers.js'))) as EngineModule
  const policies: Policy[] = [
    {
      name: 'engine, default policy (3 retries, base 1000 ms, decorrelated) with the readiness probe',
      id: 'engine-default',
      kind: 'ours',
      stepMs: 1000,
      gap: {targetMs: 150, baseline: 'engine-default-noprobe'},
    },
    {
      name: 'engine, default policy, probe off',
      id: 'engine-default-noprobe',
      kind: 'ours',
      stepMs: 1000,
      probeIntervalMs: 3_600_000,
      baselineOnly: true,
    },
    {
      name: 'original-engine policy (3 retries, base 1000 ms; old pool destroyed at once)',
      id: 'original',
      kind: 'original',
      stepMs: 1000,
      teardownS: 0,
    },
    {
      name: 'engine, constant 100 ms step (40 retries)',
      id: 'engine-step100',
      kind: 'ours',
      stepMs: 100,
      retry: {maxRetries: 40, baseMs: 100, maxMs: 100, jitter: 'none'},
    },
    {name: 'original-engine policy, old pool ended with a 1 s bound', id: 'original-end1s', kind: 'original', stepMs: 1000, teardownS: 1},
  ]
  const restarts = ctx.rounds(20, 1)
  const episodes: Episode[] = []
  for (let i = 0; i < restarts; i++) {
    for (const p of policies) {
      episodes.push(await withTimeout(episode(ctx, eng, cluster, url, p, i), 120_000, `recovery episode ${i} (${p.name})`))
    }
    ctx.log(`recovery restart ${i + 1}/${restarts}`)
  }
  const down = await recoveryDown(ctx, eng, cluster, ctx.rounds(3, 1))
  const of = (p: Policy): Episode[] => episodes.filter((e) => e.policy === p.name)
  const rows: Row[] = []
  const gapsOf = (p: Policy): {gaps: number[]; all: boolean; m: number} => {
    const eps = of(p)
    const gaps = eps.map((e) => e.gapMs).filter((g): g is number => g !== null)
    return {gaps, all: gaps.length === eps.length, m: gaps.length === eps.length ? median(gaps) : Number.NaN}
  }
  const gapRow = (p: Policy): Row => {
    const eps = of(p)
    const {gaps, m} = gapsOf(p)
    if (p.gap) {
      const base = policies.find((q) => q.id === p.gap!.baseline)!
      const b = gapsOf(base)
      return {
        bench: 'recovery',
        measure: `${p.name}: ready → first landed batch`,
        value: gaps.length === eps.length ? ms(m) : `${ms(median(gaps))} (${eps.length - gaps.length}/${eps.length} never)`,
        baseline: base.name,
        baselineValue: b.all ? ms(b.m) : `${ms(median(b.gaps))} (some never)`,
        ratio: gaps.length === eps.length && b.all ? m / b.m : null,
        target: `≤ ${ms(p.gap.targetMs)} (median)`,
        met: gaps.length === eps.length && m <= p.gap.targetMs,
      }
    }
    return {
      bench: 'recovery',
      measure: `${p.name}: ready → first landed batch`,
      value: gaps.length === eps.length ? ms(m) : `${ms(median(gaps))} (${eps.length - gaps.length}/${eps.length} never)`,
      baseline: 'one base backoff step',
      baselineValue: ms(p.stepMs),
      ratio: gaps.length === eps.length ? m / p.stepMs : null,
      target: '≤ 1 step (median)',
      met: gaps.length === eps.length && m <= p.stepMs,
    }
  }
  const sum = (eps: Episode[], k: 'sent' | 'lost' | 'duplicated' | 'spooled' | 'uncaught'): number => eps.reduce((a, e) => a + e[k], 0)
  const lossText = (eps: Episode[]): string =>
    `${sum(eps, 'lost').toLocaleString('en')} lost / ${sum(eps, 'duplicated')} dup of ${sum(eps, 'sent').toLocaleString('en')}${sum(eps, 'spooled') > 0 ? ` (${sum(eps, 'spooled')} spooled)` : ''}`
  const ours = policies.filter((p) => p.kind === 'ours')
  const originals = policies.filter((p) => p.kind === 'original')
  const original = originals[0]!
  const origEps = of(original)
  for (const p of ours) {
    if (p.baselineOnly) continue
    rows.push(gapRow(p))
    rows.push({
      bench: 'recovery',
      measure: `${p.name}: rows`,
      value: lossText(of(p)),
      baseline: original.name,
      baselineValue: lossText(origEps),
      ratio: null,
      target: '0 lost / 0 duplicated',
      met: sum(of(p), 'lost') === 0 && sum(of(p), 'duplicated') === 0,
    })
  }
  for (const p of originals) {
    const eps = of(p)
    const gaps = eps.map((e) => e.gapMs).filter((g): g is number => g !== null)
    rows.push({
      bench: 'recovery',
      measure: `${p.name}: ready → first landed batch; rows`,
      value: `${gaps.length === 0 ? 'never' : `${ms(median(gaps))}${gaps.length < eps.length ? ` (never in ${eps.length - gaps.length}/${eps.length})` : ''}`}; ${lossText(eps)}`,
      baseline: '—',
      baselineValue: '—',
      ratio: null,
      target: 'baseline',
      met: null,
    })
  }
  const originalNotes = originals.map((p) => {
    const eps = of(p)
    const codes = new Map<string, number>()
    for (const e of eps) for (const c of e.original?.errors ?? []) codes.set(c, (codes.get(c) ?? 0) + 1)
    const teardown = eps.flatMap((e) => e.original?.teardownMs ?? [])
    const reconnect = eps.flatMap((e) => e.original?.reconnectMs ?? [])
    return (
      `recovery: ${p.name} — ${eps.filter((e) => e.stillBrokenAfterReady).length}/${eps.length} episodes still failing a batch sent 1 s after the server was ready (no pool left); ` +
      `errors seen: ${[...codes].map(([c, n]) => `${c} ×${n}`).join(', ') || 'none'}; old-pool teardown median ${ms(median(teardown))}, reconnect attempt median ${ms(median(reconnect))}`
    )
  })
  rows.push(...down.rows)
  const probed = policies
    .filter((p) => p.gap)
    .map((p) => {
      const g = gapsOf(p).gaps
      return `recovery: ${p.name} — ready → first landed batch min ${ms(Math.min(...g))}, max ${ms(Math.max(...g))} over ${g.length} restarts`
    })
  const downs = episodes.map((e) => e.downMs)
  const stops = episodes.map((e) => e.stopMs)
  return {
    name: 'recovery',
    input: `${restarts} restarts per policy (${episodes.length} in all, interleaved); each episode ${BATCHES} sequential batches × ${SIZE} rows, restart after batch ${TRIGGER_AFTER}; pg_ctl stop -m fast, then start -W with the readiness prober`,
    rows,
    data: {
      restarts,
      policies,
      episodes: episodes.map((e) => ({
        ...e,
        gapMs: e.gapMs === null ? null : round1(e.gapMs),
        stopMs: round1(e.stopMs),
        downMs: round1(e.downMs),
      })),
      uncaught: sum(episodes, 'uncaught'),
      down: down.data,
    },
    notes: [
      `recovery: pg_ctl stop -m fast took median ${ms(median(stops))}; stop returned → ready median ${ms(median(downs))}; uncaught exceptions / unhandled rejections during episodes: engine ${ours.reduce((a, p) => a + sum(of(p), 'uncaught'), 0)}, original ${originals.reduce((a, p) => a + sum(of(p), 'uncaught'), 0)}`,
      ...probed,
      ...originalNotes,
      ...down.notes,
    ],
    durationMs: performance.now() - t0,
  }
}

/**
 * recovery, the server that stays down: the app's engine with its shipped default policy writes
 * one batch through a fault proxy while the server is stopped, so every retry fails and every
 * backoff is slept while the readiness probe asks. Measured per episode: connection attempts at
 * the proxy's listener during the backoff (the worst 1 s window: the probe's bound is 10/s, plus
 * the sockets of the retry's own reconnect), and the time waited against the delays the engine
 * announced (a probe that ended a sleep early would show as waited < announced).
 */
import path from 'node:path'
import {withTimeout} from '../../test/helpers/cleanup.js'
import {startProxy} from '../../test/helpers/fault-proxy.js'
import type {PgCluster} from '../../test/helpers/pg-cluster.js'
import {makeBatches, rowsWriter} from '../../test/helpers/workload.js'
import type {BenchContext} from '../lib/context.js'
import {ms, type Row} from '../lib/report.js'
import {median, round1} from '../lib/stats.js'

type EngineModule = typeof import('../../src/engine/drivers.js')

/** Probes a second the engine allows (its default interval is 100 ms). */
const PROBE_BOUND_PER_S = 10
/** Sockets one pool build may open before the engine calls it a startup loop, plus one. */
const RECONNECT_SOCKETS = 4

export interface DownEpisode {
  attempts: number
  worstPerSecond: number
  waitedMs: number
  announcedMs: number
}

async function episode(ctx: BenchContext, eng: EngineModule, cluster: PgCluster, index: number): Promise<DownEpisode> {
  const proxy = await startProxy(cluster.port)
  const home = ctx.dir(`recovery/down-${index}`)
  const delays: number[] = []
  let sleepingFrom = 0
  const e = new eng.PostgresEngine({
    url: proxy.urlFor('recovery'),
    applicationName: 'bench-recovery-down',
    audit: new eng.AuditWriter({dir: path.join(home, 'audit')}),
    spool: new eng.DeadLetterSpool(path.join(home, 'dead-letter')),
    onEvent: (ev) => {
      if (ev.type !== 'retrying' || ev.delayMs === 0) return
      delays.push(ev.delayMs)
      sleepingFrom ||= performance.now()
    },
  })
  try {
    await e.batch('bench.recovery-down', makeBatches(1, 10, `down${index}-up`)[0]!, rowsWriter('rec_down'))
    await cluster.stop('fast')
    proxy.resetStats()
    const failed = await e.batch('bench.recovery-down', makeBatches(1, 10, `down${index}`)[0]!, rowsWriter('rec_down')).then(
      () => false,
      () => true,
    )
    if (!failed) throw new Error('recovery-down: a batch landed on a stopped server')
    const waitedMs = performance.now() - sleepingFrom
    const times = proxy.stats.acceptTimes.filter((t) => t >= sleepingFrom)
    let worst = 0
    for (const t of times) worst = Math.max(worst, times.filter((u) => u >= t && u < t + 1000).length)
    return {attempts: times.length, worstPerSecond: worst, waitedMs, announcedMs: delays.reduce((a, d) => a + d, 0)}
  } finally {
    await e.disconnect().catch(() => {})
    await cluster.start()
    await proxy.close()
  }
}

export async function recoveryDown(
  ctx: BenchContext,
  eng: EngineModule,
  cluster: PgCluster,
  rounds: number,
): Promise<{rows: Row[]; notes: string[]; data: DownEpisode[]}> {
  await cluster.psql('create table if not exists rec_down (key text primary key, batch int not null, payload text not null)', 'recovery')
  const eps: DownEpisode[] = []
  for (let i = 0; i < rounds; i++) eps.push(await withTimeout(episode(ctx, eng, cluster, i), 60_000, `recovery-down episode ${i}`))
  const worst = Math.max(...eps.map((x) => x.worstPerSecond))
  const bound = PROBE_BOUND_PER_S + RECONNECT_SOCKETS
  const short = eps.filter((x) => x.waitedMs < x.announcedMs)
  return {
    rows: [
      {
        bench: 'recovery',
        measure: 'engine, default policy, server stays down: connection attempts in the worst 1 s of backoff',
        value: `${worst}/s`,
        baseline: 'probe bound + one reconnect',
        baselineValue: `${PROBE_BOUND_PER_S}/s + ${RECONNECT_SOCKETS}`,
        ratio: worst / bound,
        target: `≤ ${bound}/s (no probe storm)`,
        met: worst <= bound,
      },
      {
        bench: 'recovery',
        measure: 'engine, default policy, server stays down: time waited in backoff',
        value: ms(median(eps.map((x) => x.waitedMs))),
        baseline: 'the delays announced (policy)',
        baselineValue: ms(median(eps.map((x) => x.announcedMs))),
        ratio: median(eps.map((x) => x.waitedMs / x.announcedMs)),
        target: '≥ announced in every episode',
        met: short.length === 0,
      },
    ],
    notes: [
      `recovery: server stays down — ${eps.length} episode(s); connection attempts during backoff ${eps.map((x) => x.attempts).join(', ')} in ${eps.map((x) => ms(x.waitedMs)).join(', ')}`,
    ],
    data: eps.map((x) => ({...x, waitedMs: round1(x.waitedMs)})),
  }
}

/**
 * doctor-down: `gbrain doctor --json --timeout T` when the database is unreachable, on the same
 * brain (sources and audit trail) as doctor-latency:
 * - refused: a closed port on 127.0.0.1 (what a stopped server looks like: ECONNREFUSED);
 * - blackholed: the project's fault proxy in `blackhole` mode (accepts TCP, never answers).
 * Baseline: the configured timeout T (the doctor's connect timer is connectTimerFor(T): 80 % of T,
 * at most T − 250 ms).
 * Targets: refused ≤ 1.5 s; blackholed ≤ T + 1 s.
 */
import {connectTimerFor} from '../../src/checks/doctor.js'
import {startProxy} from '../../test/helpers/fault-proxy.js'
import {freePort} from '../../test/helpers/proc.js'
import type {BenchContext} from '../lib/context.js'
import {ms, type BenchResult} from '../lib/report.js'
import {interleave, round1, type Contender} from '../lib/stats.js'
import {parseDoctor, pgBrain} from './pg-brain.js'

export async function doctorDown(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const b = await pgBrain(ctx)
  // 2 s in both modes: at 1 s the connect timer (750 ms) left the blackholed check 250 ms to
  // report, which a loaded machine did not always meet (exit 3 instead of 1, in the bench loop).
  const timeoutMs = 2000
  const closedPort = await freePort()
  const proxy = await startProxy(b.port)
  try {
    await proxy.setMode('blackhole')
    const down = (name: string, url: string): Contender => ({
      name,
      run: async () => {
        const r = await ctx.gbrain(['doctor', '--json', '--timeout', `${timeoutMs}ms`, '--database-url', url], b.env, {timeoutMs: 60_000})
        if (r.code !== 1) throw new Error(`doctor (${name}) exited ${r.code}, expected 1: ${r.stderr.slice(-400)}`)
        const d = parseDoctor(r.stdout)
        if (d.connection !== 'fail') throw new Error(`doctor (${name}): connection is ${d.connection}, expected fail`)
        return {value: r.ms}
      },
    })
    const refused = down('refused (closed port)', `postgres://postgres@127.0.0.1:${closedPort}/brain`)
    const blackholed = down('blackholed (proxy accepts, never answers)', proxy.urlFor('brain'))
    const rounds = ctx.rounds(5, 1)
    const res = await interleave([refused, blackholed], {
      rounds,
      warmup: ctx.warmup,
      onRound: (r) => ctx.log(`doctor-down round ${r}/${rounds}`),
    })
    const R = res.get(refused.name)!.summary
    const B = res.get(blackholed.name)!.summary
    const base = `--timeout ${timeoutMs} ms`
    return {
      name: 'doctor-down',
      input: `same brain as doctor-latency; --timeout ${timeoutMs}ms (connect timer ${connectTimerFor(timeoutMs)} ms); ${rounds} interleaved rounds; proxy accepted ${proxy.stats.accepted} connections`,
      rows: [
        {
          bench: 'doctor-down',
          measure: `doctor --json, ${refused.name}`,
          value: ms(R.median),
          baseline: base,
          baselineValue: ms(timeoutMs),
          ratio: R.median / timeoutMs,
          target: '≤ 1.5 s',
          met: R.median <= 1500,
        },
        {
          bench: 'doctor-down',
          measure: `doctor --json, ${blackholed.name}`,
          value: ms(B.median),
          baseline: base,
          baselineValue: ms(timeoutMs),
          ratio: B.median / timeoutMs,
          target: `≤ timeout + 1 s (${ms(timeoutMs + 1000)})`,
          met: B.median <= timeoutMs + 1000,
        },
      ],
      data: {
        rounds,
        timeoutMs,
        refused: {...R, samples: res.get(refused.name)!.samples.map(round1)},
        blackholed: {...B, samples: res.get(blackholed.name)!.samples.map(round1)},
      },
      notes: [
        `doctor-down: worst run refused ${ms(R.max)}, blackholed ${ms(B.max)} (the guarantee is per run: every run must stay within its bound)`,
      ],
      durationMs: performance.now() - t0,
    }
  } finally {
    await proxy.close()
  }
}

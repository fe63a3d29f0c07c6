/**
 * render-long (issue 10, class 1): the default table with one source id / message of N
 * characters from the database, N = 1,000 … 200,000, rendered in process (the renderer alone,
 * no database). Before the fix (cli-table3's width code) 5,000 characters took 62 s and 10,000
 * never finished; the table now caps a value at 2,000 shown characters and draws its grid in
 * one pass, so its time must stay flat past the cap: the 200,000-character render within 1.5×
 * the 10,000-character one, and time per 1,000 characters falling as N grows. Baseline: the same
 * report as JSON (which carries every character). Each measurement renders the report 5 times.
 */
import type {CheckResult, Report} from '../../src/checks/types.js'
import {buildReport} from '../../test/unit/render/fixtures.js'
import {renderJson} from '../../src/render/json.js'
import {renderTable} from '../../src/render/table.js'
import type {BenchContext} from '../lib/context.js'
import {ms, type BenchResult, type Row} from '../lib/report.js'
import {interleave, ratioOfMedians, round3} from '../lib/stats.js'

const REPS = 5

function reportWith(text: string): Report {
  const check: CheckResult = {
    name: 'cycle_freshness',
    category: 'freshness',
    status: 'fail',
    message: `Source ${text} last cycled 30 h ago (> 24 h)`,
    duration_ms: 3,
    fix: {text: `Run a cycle for ${text}.`, commands: [`gbrain cycle --source ${text}`]},
  }
  return buildReport([check])
}

export async function renderLong(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const sizes = ctx.quick ? [1000, 10_000] : [1000, 5000, 10_000, 50_000, 200_000]
  const reports = new Map(sizes.map((n) => [n, reportWith(Array.from({length: n}, (_, i) => (i % 7 === 6 ? ' ' : 'x')).join(''))]))
  const time = (fn: () => string): {value: number} => {
    const t = performance.now()
    let bytes = 0
    for (let i = 0; i < REPS; i++) bytes += fn().length
    if (bytes === 0) throw new Error('render-long: empty output')
    return {value: (performance.now() - t) / REPS}
  }
  const contenders = sizes.flatMap((n) => [
    {name: `table ${n}`, run: async () => time(() => renderTable(reports.get(n)!, {width: 100}))},
    {name: `json ${n}`, run: async () => time(() => renderJson(reports.get(n)!))},
  ])
  const res = await interleave(contenders, {
    rounds: ctx.rounds(7, 1),
    warmup: ctx.warmup,
    onRound: (r) => ctx.log(`render-long round ${r}`),
  })
  const med = (name: string): number => res.get(name)!.summary.median
  const first = sizes[0]!
  const last = sizes.at(-1)!
  // Past the cap (2,000 shown characters) the table must cost the same: the last size against
  // 10,000 characters. Below the cap the output itself grows, so those rows are reported only.
  const CAPPED = 10_000
  const rows: Row[] = sizes.map((n) => {
    const base = n === first ? `json ${n}` : n === last && n > CAPPED ? `table ${CAPPED}` : `table ${first}`
    const judged = n === last && n > CAPPED
    const ratio = ratioOfMedians(res, `table ${n}`, base)
    return {
      bench: 'render-long',
      measure: `table, ${n.toLocaleString('en-US')}-character value (${ms((med(`table ${n}`) / n) * 1000)} per 1,000 chars)`,
      value: ms(med(`table ${n}`)),
      baseline: base.startsWith('json')
        ? 'json, same report'
        : `table, ${Number(base.split(' ')[1]).toLocaleString('en-US')}-character value`,
      baselineValue: ms(med(base)),
      ratio,
      target: judged ? '≤ 1.5× (flat past the cap)' : '',
      met: judged ? ratio <= 1.5 : null,
    }
  })
  return {
    name: 'render-long',
    input: `one failing check whose message, fix and command hold a value of ${sizes.map((n) => n.toLocaleString('en-US')).join(' / ')} characters; width 100; ${REPS} renders per sample`,
    rows,
    data: Object.fromEntries(
      sizes.map((n) => [
        n,
        {
          table_ms: round3(med(`table ${n}`)),
          json_ms: round3(med(`json ${n}`)),
          table_ms_per_1000_chars: round3((med(`table ${n}`) / n) * 1000),
        },
      ]),
    ),
    notes: ['Before the fix: 5,000 characters 62 s, 10,000 characters > 120 s (cli-table3 under the table).'],
    durationMs: performance.now() - t0,
  }
}

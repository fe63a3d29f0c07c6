import {describe, expect, it} from 'vitest'
import type {CheckDef, JudgeContext} from '../../../src/checks/check.js'
import type {Gatherers} from '../../../src/checks/facts/index.js'
import {exitCode, healthScore, nagiosCode, reportStatus, summarize, topIssues} from '../../../src/checks/report.js'
import {runChecks, type RunnerOptions} from '../../../src/checks/runner.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {CheckResult} from '../../../src/checks/types.js'
import {FakeClock} from '../../helpers/fake-clock.js'

/** The facts of these tests: a value, one that hangs, one that throws, one that comes late. */
interface F {
  value: number
  hangs: number
  boom: number
  late: number
}

const ctx: JudgeContext = {now: 0, thresholds: validateThresholds({})}
const check = (name: string, needs: (keyof F)[], extra: Partial<CheckDef<F>> = {}): CheckDef<F> => ({
  name,
  category: 'retry',
  gatedOnConnection: false,
  needs,
  judge: (f) => ({status: 'ok', message: `fine ${JSON.stringify(f)}`}),
  explain: {looksAt: 'a test fact', thresholds: () => []},
  ...extra,
})

/** Gatherers on `clock`, counting calls and recording aborts. */
function world(clock: FakeClock) {
  const calls: Partial<Record<keyof F, number>> = {}
  const aborted: (keyof F)[] = []
  const count = (k: keyof F): void => {
    calls[k] = (calls[k] ?? 0) + 1
  }
  const gather: Gatherers<F> = {
    value: async () => {
      count('value')
      return 42
    },
    hangs: (signal) => {
      count('hangs')
      signal.addEventListener('abort', () => aborted.push('hangs'))
      return new Promise<number>(() => {})
    },
    boom: async () => {
      count('boom')
      throw new Error('boom at postgres://u:Pl4nted-S3cret!x@h/db')
    },
    late: () => {
      count('late')
      return new Promise<number>((resolve) => clock.setTimeout(() => resolve(7), 30))
    },
  }
  return {gather, calls, aborted}
}

const opts = (clock: FakeClock, over: Partial<RunnerOptions> = {}): RunnerOptions => ({
  timeoutMs: 100,
  deadlineMs: 5000,
  fast: false,
  databaseGate: async () => undefined,
  clock,
  ...over,
})

describe('runChecks', () => {
  it('keeps catalogue order whatever order checks finish in, and times them on the clock', async () => {
    const clock = new FakeClock()
    const {gather} = world(clock)
    const out = await runChecks([check('slow', ['late']), check('fast', ['value'])], gather, ctx, opts(clock))
    expect(out.map((r) => r.name)).toEqual(['slow', 'fast'])
    expect(out[0]).toMatchObject({status: 'ok', message: 'fine {"late":7}', duration_ms: 30})
    expect(out[1]).toMatchObject({message: 'fine {"value":42}', duration_ms: 0})
  })

  it('gathers each fact once, shared by every check that needs it, and only what is needed', async () => {
    const clock = new FakeClock()
    const {gather, calls} = world(clock)
    await runChecks([check('a', ['value', 'late']), check('b', ['value']), check('c', ['late'])], gather, ctx, opts(clock))
    expect(calls).toEqual({value: 1, late: 1})
  })

  it('a hanging gatherer makes its checks unknown at their budget; its signal aborts once none waits', async () => {
    const clock = new FakeClock()
    const {gather, aborted} = world(clock)
    const t0 = clock.now()
    const out = await runChecks(
      [check('hangs', ['hangs']), check('also', ['value', 'hangs']), check('fine', ['value'])],
      gather,
      ctx,
      opts(clock),
    )
    expect(clock.now() - t0).toBe(100)
    expect(out[0]).toMatchObject({name: 'hangs', status: 'unknown', message: 'did not finish: no answer within 100 ms'})
    expect(out[1]!.status).toBe('unknown')
    expect(aborted).toEqual(['hangs'])
    expect(out[2]!.status).toBe('ok')
  })

  it('a throwing gatherer or judge becomes unknown with the redacted reason and a stack for --debug', async () => {
    const clock = new FakeClock()
    const {gather} = world(clock)
    const judgeThrows = check('judge', ['value'], {
      judge: () => {
        throw new Error('bad judge at postgres://u:Pl4nted-S3cret!x@h/db')
      },
    })
    const out = await runChecks([check('crash', ['boom']), judgeThrows], gather, ctx, opts(clock))
    for (const r of out) {
      expect(r.status).toBe('unknown')
      expect(r.message).toMatch(/^could not be evaluated: (boom|bad judge)/)
      expect(r.message).not.toContain('Pl4nted')
      expect(r.debug_stack).toContain('at ')
      expect(r.debug_stack).not.toContain('Pl4nted')
    }
  })

  it('checks gated on the connection are skipped under --fast and when the gate says it failed; connection itself under --fast', async () => {
    const clock = new FakeClock()
    const {gather, calls} = world(clock)
    const db = check('db', ['value'], {gatedOnConnection: true})
    const conn = check('connection', ['value'], {opensConnection: true})
    expect(await runChecks([db, conn], gather, ctx, opts(clock, {fast: true}))).toMatchObject([
      {status: 'skipped', message: 'skipped under --fast (needs the database)'},
      {status: 'skipped', message: 'skipped under --fast'},
    ])
    expect(calls).toEqual({})
    const [r] = await runChecks([db], gather, ctx, opts(clock, {databaseGate: async () => 'connection failed'}))
    expect(r).toMatchObject({status: 'skipped', message: 'not checked: connection failed', downstream_of: ['connection']})
  })

  it('the run deadline turns everything still running into unknown', async () => {
    const clock = new FakeClock()
    const {gather} = world(clock)
    const out = await runChecks(
      [check('a', ['hangs']), check('b', ['hangs'])],
      gather,
      ctx,
      opts(clock, {timeoutMs: 10_000, deadlineMs: 150}),
    )
    expect(out.map((r) => r.status)).toEqual(['unknown', 'unknown'])
    expect(out[0]!.message).toBe('did not finish: the run deadline (150 ms) passed')
  })

  it('warns about checks still running after the slow threshold', async () => {
    const clock = new FakeClock()
    const {gather} = world(clock)
    const slow: string[] = []
    await runChecks(
      [check('h', ['hangs']), check('quick', ['value'])],
      gather,
      ctx,
      opts(clock, {timeoutMs: 200, slowAfterMs: 50, onSlow: (n) => slow.push(n)}),
    )
    expect(slow).toEqual(['h'])
    expect(clock.pending).toBe(0)
  })
})

describe('report maths and the exit code', () => {
  const r = (name: string, status: CheckResult['status'], downstream_of?: string[]): CheckResult => ({
    name,
    category: 'retry',
    status,
    message: name,
    duration_ms: 1,
    ...(downstream_of ? {downstream_of} : {}),
  })
  it('score, status and summary as gbrain computes them', () => {
    const s = summarize([r('a', 'fail'), r('b', 'warn'), r('c', 'ok'), r('d', 'skipped')])
    expect(s).toEqual({ok: 1, warn: 1, fail: 1, unknown: 0, skipped: 1})
    expect(healthScore(s)).toBe(75)
    expect(healthScore({ok: 0, warn: 0, fail: 9, unknown: 0, skipped: 0})).toBe(0)
    expect(reportStatus(s)).toBe('unhealthy')
    expect(reportStatus({...s, fail: 0})).toBe('warnings')
    expect(reportStatus({...s, fail: 0, unknown: 1})).toBe('unknown')
  })
  it.each([
    [{fail: 1, warn: 0, unknown: 0}, 'fail', 1, 2],
    [{fail: 0, warn: 1, unknown: 0}, 'fail', 0, 1],
    [{fail: 0, warn: 1, unknown: 0}, 'warn', 1, 1],
    [{fail: 0, warn: 0, unknown: 1}, 'fail', 3, 3],
    [{fail: 1, warn: 0, unknown: 1}, 'fail', 1, 2],
    [{fail: 1, warn: 1, unknown: 1}, 'never', 0, 2],
    [{fail: 0, warn: 0, unknown: 0}, 'warn', 0, 0],
  ] as const)('%o with --fail-on %s → exit %d (nagios %d)', (counts, failOn, code, nagios) => {
    const summary = {ok: 0, skipped: 0, ...counts}
    expect(exitCode({summary}, failOn)).toBe(code)
    expect(nagiosCode({summary})).toBe(nagios)
  })
  it('ranks root causes before their symptoms, failures before warnings', () => {
    const issues = topIssues([r('connection', 'fail'), r('batch_retry_health', 'fail', ['connection']), r('w', 'warn'), r('retry', 'fail')])
    expect(issues.map((i) => i.check)).toEqual(['connection', 'retry', 'batch_retry_health', 'w'])
  })
})

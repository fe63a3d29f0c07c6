import {describe, expect, it} from 'vitest'
import type {CheckDef} from '../../src/checks/check.js'
import {exitCode, healthScore, nagiosCode, reportStatus, summarize, topIssues} from '../../src/checks/report.js'
import {runChecks} from '../../src/checks/runner.js'
import type {CheckResult} from '../../src/checks/types.js'

const ok = (name: string, extra: Partial<CheckDef<unknown>> = {}): CheckDef<unknown> => ({name, category: 'retry', database: false, judge: async () => ({status: 'ok', message: 'fine'}), ...extra})
const HangingCheck = (name: string, seen: {aborted?: boolean}): CheckDef<unknown> => ({
  name,
  category: 'pool',
  database: false,
  judge: (_f, o) =>
    new Promise(() => {
      o.signal.addEventListener('abort', () => (seen.aborted = true))
    }),
})
const ThrowingCheck = (name: string): CheckDef<unknown> => ({name, category: 'storage', database: false, judge: async () => {
  throw new Error('boom at postgres://u:Pl4nted-S3cret!x@h/db')
}})

const opts = {timeoutMs: 100, deadlineMs: 5000, fast: false, databaseGate: async () => undefined}

describe('runChecks', () => {
  it('keeps catalogue order whatever order checks finish in', async () => {
    const slow: CheckDef<unknown> = {...ok('slow'), judge: () => new Promise((r) => setTimeout(() => r({status: 'warn', message: 'late'}), 30))}
    const out = await runChecks([slow, ok('fast')], {}, opts)
    expect(out.map((r) => r.name)).toEqual(['slow', 'fast'])
    expect(out[0]!.status).toBe('warn')
  })

  it('a hanging check becomes unknown at its budget, its signal is aborted, the others are unaffected', async () => {
    const seen: {aborted?: boolean} = {}
    const t0 = performance.now()
    const out = await runChecks([HangingCheck('hangs', seen), ok('fine')], {}, opts)
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(out[0]).toMatchObject({name: 'hangs', status: 'unknown'})
    expect(out[0]!.message).toContain('no answer within 100 ms')
    expect(seen.aborted).toBe(true)
    expect(out[1]!.status).toBe('ok')
  })

  it('a throwing check becomes unknown with the redacted reason and a stack for --debug', async () => {
    const [r] = await runChecks([ThrowingCheck('crash')], {}, opts)
    expect(r!.status).toBe('unknown')
    expect(r!.message).toContain('boom')
    expect(r!.message).not.toContain('Pl4nted')
    expect(r!.debug_stack).toContain('at ')
    expect(r!.debug_stack).not.toContain('Pl4nted')
  })

  it('database checks are skipped under --fast and when the gate says the connection failed', async () => {
    const db = ok('db', {database: true})
    expect((await runChecks([db], {}, {...opts, fast: true}))[0]).toMatchObject({status: 'skipped'})
    const [r] = await runChecks([db], {}, {...opts, databaseGate: async () => 'connection failed'})
    expect(r).toMatchObject({status: 'skipped', message: 'not checked: connection failed', downstream_of: ['connection']})
  })

  it('the run deadline turns everything still running into unknown', async () => {
    const out = await runChecks([HangingCheck('a', {}), HangingCheck('b', {})], {}, {...opts, timeoutMs: 10_000, deadlineMs: 150})
    expect(out.map((r) => r.status)).toEqual(['unknown', 'unknown'])
    expect(out[0]!.message).toContain('run deadline')
  })

  it('warns about checks still running after the slow threshold', async () => {
    const slow: string[] = []
    await runChecks([HangingCheck('h', {})], {}, {...opts, timeoutMs: 200, slowAfterMs: 50, onSlow: (n) => slow.push(n)})
    expect(slow).toEqual(['h'])
  })
})

describe('report maths and the exit code', () => {
  const r = (name: string, status: CheckResult['status'], downstream_of?: string[]): CheckResult => ({name, category: 'retry', status, message: name, duration_ms: 1, ...(downstream_of ? {downstream_of} : {})})
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

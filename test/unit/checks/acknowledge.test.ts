import {describe, expect, it} from 'vitest'
import type {Baseline} from '../../../src/baselines/entry.js'
import {applyBaselines, countOf} from '../../../src/checks/acknowledge.js'
import {STALE_SOURCES} from '../../../src/checks/freshness.js'
import type {CheckResult} from '../../../src/checks/types.js'

const NOW = Date.parse('2026-12-01T12:00:00.000Z')
const ack = (over: Partial<Baseline> = {}): Baseline => ({
  count: 3,
  status: 'warn',
  acknowledged_at: '2026-11-20T12:00:00.000Z',
  expires_at: '2026-12-20T12:00:00.000Z',
  reason: 'flaky NAS',
  ...over,
})
const result = (status: CheckResult['status'], observed?: number): CheckResult => ({
  name: 'batch_retry_health',
  category: 'retry',
  status,
  message: 'original message',
  duration_ms: 1,
  ...(observed === undefined ? {} : {observed_value: observed}),
})
const COUNTED = {noun: ['exhausted batch', 'exhausted batches'] as const}
const apply = (c: CheckResult, b: Baseline, counted: typeof COUNTED | null = COUNTED): CheckResult =>
  applyBaselines([c], {[c.name]: b}, () => counted ?? undefined, NOW)[0]!

describe('acknowledgements applied to results', () => {
  it('at or below the baseline: ok, saying how many are known and why', () => {
    for (const n of [0, 3]) {
      const r = apply(result('warn', n), ack())
      expect(r.status).toBe('ok')
      expect(r.acknowledged).toMatchObject({state: 'active', was: 'warn', count: 3, observed: n})
      expect(r.message).toMatch(
        new RegExp(
          `^${n} exhausted batch(es)? known, acknowledged 2026-11-20: flaky NAS \\(until 2026-12-20; was warn\\)\\. original message$`,
        ),
      )
    }
  })

  it('beyond it: the check’s own status, "M new beyond the baseline of N"', () => {
    const r = apply(result('warn', 5), ack())
    expect(r.status).toBe('warn')
    expect(r.acknowledged?.state).toBe('exceeded')
    expect(r.message).toMatch(/^2 new beyond the baseline of 3 \(acknowledged 2026-11-20\)\. original message$/)
    expect(apply(result('fail', 25), ack({status: 'fail'})).status).toBe('fail')
  })

  it('expired: alerts again and says so (also when the count is within)', () => {
    const r = apply(result('warn', 1), ack({expires_at: '2026-12-01T12:00:00.000Z'}))
    expect(r.status).toBe('warn')
    expect(r.acknowledged?.state).toBe('expired')
    expect(r.message).toMatch(/^The acknowledgement of 2026-11-20 expired 2026-12-01\. /)
  })

  it('a warn acknowledged never hides a fail; a fail acknowledged covers a warn', () => {
    const worse = apply(result('fail', 1), ack())
    expect(worse).toMatchObject({status: 'fail', acknowledged: {state: 'worse', was: 'fail', status: 'warn'}})
    expect(apply(result('warn', 1), ack({status: 'fail'}))).toMatchObject({status: 'ok', acknowledged: {state: 'active', was: 'warn'}})
    expect(apply(result('fail', 1), ack({status: 'fail'}))).toMatchObject({status: 'ok', acknowledged: {was: 'fail'}})
  })

  it('by status when the check counts nothing or the entry has no count', () => {
    const byStatus = apply(result('warn', 99), ack({count: null}))
    expect(byStatus).toMatchObject({status: 'ok', acknowledged: {count: null}})
    expect(byStatus.message).toMatch(/^Acknowledged warn 2026-11-20: flaky NAS/)
    expect(apply(result('warn', 99), ack(), null)).toMatchObject({status: 'ok', acknowledged: {observed: null}})
  })

  it.each(['ok', 'unknown', 'skipped'] as const)('a %s result is left exactly as it is', (status) => {
    const c = result(status, 1)
    expect(apply(c, ack())).toBe(c)
  })

  it('checks without an entry, and entries for checks not run, change nothing', () => {
    const c = result('warn', 1)
    expect(applyBaselines([c], {dead_letter: ack(), constructor: ack()}, () => COUNTED, NOW)[0]).toBe(c)
  })

  it('the freshness checks count the sources that are not fresh', () => {
    const sources = [{status: 'ok'}, {status: 'warn'}, {status: 'fail'}]
    expect(countOf({...result('warn'), details: {sources}}, STALE_SOURCES)).toBe(2)
    expect(countOf(result('warn'), STALE_SOURCES)).toBeNull()
    expect(countOf(result('warn', Number.NaN), COUNTED)).toBeNull()
  })
})

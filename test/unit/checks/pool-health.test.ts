import {describe, expect, it} from 'vitest'
import {isPoolFailing, poolFailingSince, poolNeedsReconnect, PROCESS_FAILING_FAIL_MS} from '../../../src/checks/pool-health.js'

describe('the pool rules shared by checks and repair', () => {
  it('poolNeedsReconnect: broken, reconnecting, failures or a failing streak', () => {
    expect(poolNeedsReconnect({state: 'connected', consecutive_failures: 0, failing: false})).toBe(false)
    expect(poolNeedsReconnect({state: 'closed', consecutive_failures: null, failing: false})).toBe(false)
    expect(poolNeedsReconnect({state: 'broken', consecutive_failures: null, failing: false})).toBe(true)
    expect(poolNeedsReconnect({state: 'reconnecting', consecutive_failures: 0, failing: false})).toBe(true)
    expect(poolNeedsReconnect({state: 'connected', consecutive_failures: 1, failing: false})).toBe(true)
    expect(poolNeedsReconnect({state: 'connected', consecutive_failures: 0, failing: true})).toBe(true)
  })

  it('poolFailingSince: failing_since, else a broken pool’s last error time', () => {
    const at = '2026-01-07T11:00:00.000Z'
    expect(poolFailingSince({state: 'connected', consecutive_failures: 1, failing_since: at, last_error_at: undefined})).toBe(
      Date.parse(at),
    )
    expect(poolFailingSince({state: 'broken', consecutive_failures: 2, failing_since: null, last_error_at: at})).toBe(Date.parse(at))
    expect(poolFailingSince({state: 'broken', consecutive_failures: 0, failing_since: null, last_error_at: at})).toBeNull()
    expect(poolFailingSince({state: 'connected', consecutive_failures: 0, failing_since: 'garbage', last_error_at: at})).toBeNull()
  })

  it('isPoolFailing: a live process failing for longer than the limit (strictly)', () => {
    expect(isPoolFailing(true, PROCESS_FAILING_FAIL_MS + 1)).toBe(true)
    expect(isPoolFailing(true, PROCESS_FAILING_FAIL_MS)).toBe(false)
    expect(isPoolFailing(false, PROCESS_FAILING_FAIL_MS * 10)).toBe(false)
    expect(isPoolFailing(true, null)).toBe(false)
  })
})

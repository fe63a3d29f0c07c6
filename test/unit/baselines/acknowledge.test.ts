import {describe, expect, it} from 'vitest'
import {acknowledge, expired, reasonProblem} from '../../../src/baselines/acknowledge.js'

const NOW = Date.parse('2026-12-01T12:00:00.000Z')
const DAY = 86_400_000
const input = {check: 'dead_letter', count: 3, message: 'm', now: NOW}

describe('what --acknowledge records', () => {
  it('a warning: its count, 30 days by default, the reason', () => {
    expect(acknowledge({...input, status: 'warn', reason: 'known'})).toEqual({
      count: 3,
      status: 'warn',
      acknowledged_at: '2026-12-01T12:00:00.000Z',
      expires_at: '2026-12-31T12:00:00.000Z',
      reason: 'known',
    })
    expect(acknowledge({...input, status: 'warn', forMs: 90 * DAY})).toMatchObject({expires_at: '2027-03-01T12:00:00.000Z', reason: ''})
  })

  it('a failure only with an explicit --for of at most 7 days', () => {
    expect(acknowledge({...input, status: 'fail'})).toMatchObject({refused: expect.stringMatching(/explicit time of at most 7d/)})
    expect(acknowledge({...input, status: 'fail', forMs: 7 * DAY + 1})).toMatchObject({
      fix: 'gbrain doctor --acknowledge dead_letter --for 7d',
    })
    expect(acknowledge({...input, status: 'fail', forMs: 7 * DAY})).toMatchObject({status: 'fail', expires_at: '2026-12-08T12:00:00.000Z'})
  })

  it.each(['unknown', 'ok', 'skipped'])('never a %s', (status) => {
    expect(acknowledge({...input, status})).toHaveProperty('refused')
  })

  it('an unknown says it is never acknowledged', () => {
    expect(acknowledge({...input, status: 'unknown'})).toMatchObject({refused: expect.stringContaining('an unknown is never acknowledged')})
  })

  it('a reason is one line of at most 500 characters', () => {
    expect(reasonProblem('fine; $(rm -rf /) `x` "quoted"')).toBeUndefined()
    expect(reasonProblem('two\nlines')).toMatch(/line break/)
    expect(reasonProblem('bell\u0007')).toMatch(/control/)
    expect(reasonProblem('\u2028')).toMatch(/line break/)
    expect(reasonProblem('x'.repeat(501))).toMatch(/501 characters/)
    expect(acknowledge({...input, status: 'warn', reason: 'a\rb'})).toHaveProperty('refused')
  })

  it('expires at its expiry, not before', () => {
    const b = acknowledge({...input, status: 'warn', forMs: DAY}) as never
    expect(expired(b, NOW + DAY - 1)).toBe(false)
    expect(expired(b, NOW + DAY)).toBe(true)
  })
})

import {describe, expect, it} from 'vitest'
import {DEFAULT_ACK_MS, parseBaseline, parseBaselines, serializeBaselines} from '../../../src/baselines/entry.js'

const AT = '2026-11-01T10:00:00.000Z'

describe('baselines file entries', () => {
  it('reads gbrain’s shape (count, acknowledged_at, reason) as a warn that expires 30 days later', () => {
    expect(parseBaseline({count: 18, acknowledged_at: AT, reason: 'known advisories'})).toEqual({
      count: 18,
      status: 'warn',
      acknowledged_at: AT,
      expires_at: new Date(Date.parse(AT) + DEFAULT_ACK_MS).toISOString(),
      reason: 'known advisories',
    })
  })

  it('keeps what we write: status, expiry, a null count', () => {
    const b = {count: null, status: 'fail', acknowledged_at: AT, expires_at: '2026-11-03T10:00:00.000Z', reason: ''}
    expect(parseBaseline(b)).toEqual(b)
  })

  it.each([
    [[], 'not an object'],
    [{count: -1, acknowledged_at: AT}, 'count'],
    [{count: '3', acknowledged_at: AT}, 'count'],
    [{count: 1, acknowledged_at: 'yesterday'}, 'acknowledged_at'],
    [{count: 1}, 'acknowledged_at'],
    [{count: 1, acknowledged_at: AT, status: 'unknown'}, 'status'],
    [{count: 1, acknowledged_at: AT, status: 'ok'}, 'status'],
    [{count: 1, acknowledged_at: AT, expires_at: AT}, 'not after'],
    [{count: 1, acknowledged_at: AT, reason: 42}, 'reason'],
  ])('refuses %j (%s)', (value, why) => {
    const r = parseBaseline(value)
    expect(r).toHaveProperty('invalid')
    expect((r as {invalid: string}).invalid).toContain(why)
  })

  it('a damaged file yields its problems, never a throw; good entries survive bad neighbours', () => {
    expect(parseBaselines('{"a": ').problems[0]).toMatch(/^not JSON/)
    expect(parseBaselines('[1,2]').problems).toEqual(['not a JSON object of check names'])
    expect(parseBaselines('null').baselines).toEqual({})
    const mixed = parseBaselines(
      JSON.stringify({
        dead_letter: {count: 2, acknowledged_at: AT},
        'bad name; rm -rf /': {count: 1, acknowledged_at: AT},
        audit_log: {acknowledged_at: 'x'},
      }),
    )
    expect(Object.keys(mixed.baselines)).toEqual(['dead_letter'])
    expect(mixed.problems).toHaveLength(2)
    expect(mixed.problems.join('\n')).toContain('audit_log: acknowledged_at')
  })

  it('a huge reason is cut when read, and the file round-trips sorted', () => {
    const long = parseBaseline({count: 1, acknowledged_at: AT, reason: 'x'.repeat(10_000)})
    expect((long as {reason: string}).reason).toHaveLength(500)
    const text = serializeBaselines({
      z_check: {count: 1, status: 'warn', acknowledged_at: AT, expires_at: '2026-12-01T10:00:00.000Z', reason: 'a\nb'},
      a_check: {count: null, status: 'fail', acknowledged_at: AT, expires_at: '2026-11-02T10:00:00.000Z', reason: ''},
    })
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['a_check', 'z_check'])
    expect(parseBaselines(text)).toEqual({baselines: JSON.parse(text) as object, problems: []})
  })
})

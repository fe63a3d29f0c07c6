import {describe, expect, it} from 'vitest'
import {ConfigError} from '../../../src/shared/errors.js'
import {DEFAULT_RETRY_POLICY, inspectRetryPolicy, loadRetryPolicy} from '../../../src/engine/retry-policy.js'

describe('retry policy from the environment', () => {
  it('defaults to 3 retries, 1000 ms base, 10000 ms cap, decorrelated', () => {
    const r = inspectRetryPolicy({})
    expect(r.policy).toEqual({maxRetries: 3, baseMs: 1000, maxMs: 10_000, jitter: 'decorrelated'})
    expect(r.sources).toEqual({maxRetries: 'default', baseMs: 'default', maxMs: 'default'})
    expect(r.issues).toEqual([])
  })

  it('takes valid overrides and names where each came from', () => {
    const r = inspectRetryPolicy({GBRAIN_BULK_MAX_RETRIES: '0', GBRAIN_BULK_RETRY_BASE_MS: '50', GBRAIN_BULK_RETRY_MAX_MS: '200'})
    expect(r.policy).toMatchObject({maxRetries: 0, baseMs: 50, maxMs: 200})
    expect(r.sources.maxRetries).toBe('env:GBRAIN_BULK_MAX_RETRIES')
  })

  it.each([
    ['GBRAIN_BULK_MAX_RETRIES', '-1'],
    ['GBRAIN_BULK_MAX_RETRIES', '2.5'],
    ['GBRAIN_BULK_MAX_RETRIES', 'three'],
    ['GBRAIN_BULK_MAX_RETRIES', '1e3'],
    ['GBRAIN_BULK_RETRY_BASE_MS', '0'],
    ['GBRAIN_BULK_RETRY_BASE_MS', '-5'],
    ['GBRAIN_BULK_RETRY_MAX_MS', 'abc'],
  ])('rejects %s=%s with a paste-ready fix', (variable, value) => {
    const r = inspectRetryPolicy({[variable]: value})
    expect(r.issues).toHaveLength(1)
    expect(r.issues[0]!.variable).toBe(variable)
    expect(r.issues[0]!.message).toContain(variable)
    expect(r.issues[0]!.fix).toMatch(new RegExp(`^export ${variable}=\\d+$`))
    expect(() => loadRetryPolicy({[variable]: value})).toThrow(ConfigError)
    // the bad value is not used
    expect(r.policy).toEqual({...DEFAULT_RETRY_POLICY})
  })

  it('rejects a cap below the base', () => {
    const r = inspectRetryPolicy({GBRAIN_BULK_RETRY_BASE_MS: '5000', GBRAIN_BULK_RETRY_MAX_MS: '100'})
    expect(r.issues[0]!.variable).toBe('GBRAIN_BULK_RETRY_MAX_MS')
    expect(r.issues[0]!.fix).toBe('export GBRAIN_BULK_RETRY_MAX_MS=10000')
    const r2 = inspectRetryPolicy({GBRAIN_BULK_RETRY_BASE_MS: '20000'})
    expect(r2.issues[0]!.fix).toBe('export GBRAIN_BULK_RETRY_MAX_MS=20000')
  })
})

import {describe, expect, it} from 'vitest'
import {judgeRetryConfig, retryConfigCheck} from '../../../src/checks/retry-config.js'
import type {BrainPaths} from '../../../src/engine/paths.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import {evaluate} from '../../../src/checks/runner.js'
import {fileGatherers} from '../../../src/checks/facts/index.js'
import type {CheckOutcome} from '../../../src/checks/types.js'
import {inspectRetryPolicy} from '../../../src/engine/retry-policy.js'

const NO_PATHS: BrainPaths = {
  home: '/nonexistent',
  auditDir: '/nonexistent/audit',
  spoolDir: '/nonexistent/dead-letter',
  runDir: '/nonexistent/run',
  homeSource: 'default',
  auditDirSource: 'default',
}

async function run(env: NodeJS.ProcessEnv): Promise<CheckOutcome> {
  // Only the retry policy is gathered: the check needs no file.
  expect(retryConfigCheck.needs).toEqual(['retryPolicy'])
  const {retryPolicy} = fileGatherers({paths: NO_PATHS, now: 0, env})
  return evaluate(retryConfigCheck, {retryPolicy}, {now: 0, thresholds: validateThresholds({})})
}

describe('retry_config', () => {
  it('defaults → ok: 3 retries, 1000/10000 ms, decorrelated, worst case 12 s, all from defaults', async () => {
    const r = await run({})
    expect(r.status).toBe('ok')
    expect(r.message).toBe(
      'Batch retries: 3 retries, base 1000 ms, cap 10000 ms, decorrelated jitter (all defaults); worst-case total wait 12.0 s.',
    )
    expect(r.observed_value).toBe(12_000)
    expect(r.observed_unit).toBe('ms')
    expect(r.threshold).toEqual({warn: 5000})
    expect(r.details).toMatchObject({
      policy: {max_retries: 3, base_ms: 1000, max_ms: 10_000, jitter: 'decorrelated'},
      sources: {max_retries: 'default', base_ms: 'default', max_ms: 'default'},
      worst_case_sleep_ms: 12_000,
      issues: [],
    })
    expect(r.fix).toBeUndefined()
  })

  it('valid overrides are named with their source', async () => {
    const r = await run({GBRAIN_BULK_MAX_RETRIES: '5', GBRAIN_BULK_RETRY_MAX_MS: '15000'})
    expect(r.status).toBe('ok')
    expect(r.message).toContain('(from GBRAIN_BULK_MAX_RETRIES, GBRAIN_BULK_RETRY_MAX_MS)')
    expect(r.details!.sources).toEqual({
      max_retries: 'env:GBRAIN_BULK_MAX_RETRIES',
      base_ms: 'default',
      max_ms: 'env:GBRAIN_BULK_RETRY_MAX_MS',
    })
  })

  it('an invalid value → fail with the paste-ready fix', async () => {
    const r = await run({GBRAIN_BULK_MAX_RETRIES: '-1'})
    expect(r.status).toBe('fail')
    expect(r.message).toContain('GBRAIN_BULK_MAX_RETRIES must be an integer ≥ 0, got "-1"')
    expect(r.fix?.commands).toEqual(['export GBRAIN_BULK_MAX_RETRIES=3'])
  })

  it('worst-case wait under 5 s → warn with the values that restore it', async () => {
    const one = await run({GBRAIN_BULK_MAX_RETRIES: '1'}) // the first retry does not sleep
    expect(one.status).toBe('warn')
    expect(one.observed_value).toBe(0)
    expect(one.message).toContain('Worst-case total wait 0.0 s is shorter than a typical pooler circuit-breaker recovery (5.0 s)')
    expect(one.fix?.commands).toEqual(['export GBRAIN_BULK_MAX_RETRIES=3'])

    const fast = await run({GBRAIN_BULK_RETRY_BASE_MS: '100', GBRAIN_BULK_RETRY_MAX_MS: '1000'})
    expect(fast.status).toBe('warn')
    expect(fast.observed_value).toBe(300 + 900)
    expect(fast.fix?.commands).toEqual(['export GBRAIN_BULK_RETRY_BASE_MS=1000', 'export GBRAIN_BULK_RETRY_MAX_MS=10000'])
  })

  it('invalid and short: fail, both fixes', () => {
    const r = judgeRetryConfig(inspectRetryPolicy({GBRAIN_BULK_MAX_RETRIES: '1', GBRAIN_BULK_RETRY_BASE_MS: 'fast'}))
    expect(r.status).toBe('fail')
    expect(r.fix?.commands).toEqual(['export GBRAIN_BULK_RETRY_BASE_MS=1000', 'export GBRAIN_BULK_MAX_RETRIES=3'])
  })

  it('a planted secret in a retry variable is not echoed', () => {
    const r = judgeRetryConfig(inspectRetryPolicy({GBRAIN_BULK_MAX_RETRIES: 'postgres://u:hunter2@db/x'}))
    expect(JSON.stringify(r)).not.toContain('hunter2')
  })
})

/**
 * "(downstream of connection)" only when connection itself needs attention (issue 10, class 10):
 * in the ranked top issues, and in the GitHub annotations.
 */
import {describe, expect, it} from 'vitest'
import {topIssues} from '../../../src/checks/report.js'
import type {CheckResult, CheckStatus} from '../../../src/checks/types.js'
import {renderGithub} from '../../../src/render/github.js'
import type {Report} from '../../../src/checks/types.js'

const result = (name: string, status: CheckStatus, downstream?: string[]): CheckResult => ({
  name,
  category: 'retry',
  status,
  message: `${name} is ${status}`,
  duration_ms: 1,
  ...(downstream ? {downstream_of: downstream} : {}),
})

const report = (checks: CheckResult[]): Report => ({
  schema_version: 2,
  status: 'unhealthy',
  health_score: 80,
  coverage: {database: 'checked'},
  generated_at: '2026-11-30T00:00:00.000Z',
  duration_ms: 5,
  tool: {name: 'gbrain-doctor', version: '0'},
  target: {engine: 'postgres', database: 'x', audit_dir: '/a', sources: {database: 'flag', audit_dir: 'default', home: 'default'}},
  summary: {ok: 0, warn: 0, fail: 0, unknown: 0, skipped: 0},
  checks,
  top_issues: topIssues(checks),
})

describe('downstream_of in what is shown', () => {
  it('connection ok: the failing check is a root cause itself, named without "downstream of"', () => {
    const checks = [result('connection', 'ok'), result('batch_retry_health', 'fail', ['connection'])]
    expect(topIssues(checks)[0]).not.toHaveProperty('downstream_of')
    expect(renderGithub(report(checks))).not.toContain('downstream of')
  })

  it('connection not failed but not ok either (held: unknown; or a warning): no "downstream of"', () => {
    for (const status of ['unknown', 'warn'] as const) {
      const checks = [result('connection', status), result('batch_retry_health', 'fail', ['connection'])]
      expect(topIssues(checks).find((t) => t.check === 'batch_retry_health')).not.toHaveProperty('downstream_of')
      expect(renderGithub(report(checks))).not.toContain('downstream of')
    }
  })

  it('connection failing: the symptom is ranked after it and says so', () => {
    const checks = [result('connection', 'fail'), result('batch_retry_health', 'fail', ['connection'])]
    const top = topIssues(checks)
    expect(top.map((t) => t.check)).toEqual(['connection', 'batch_retry_health'])
    expect(top[1]?.downstream_of).toEqual(['connection'])
    expect(renderGithub(report(checks))).toContain('(downstream of connection)')
  })
})

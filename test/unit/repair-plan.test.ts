/**
 * planRepairs over hand-built doctor reports: each action is triggered by the structured
 * `details` of the check it concerns (never by the prose), and a healthy report plans nothing.
 */
import {describe, expect, it} from 'vitest'
import {healthScore, reportStatus, summarize, topIssues} from '../../src/checks/report.js'
import type {CheckResult, CheckStatus, Report} from '../../src/checks/types.js'
import {planRepairs} from '../../src/repair/plan.js'

function check(name: string, category: CheckResult['category'], status: CheckStatus, details: Record<string, unknown> = {}, message = 'irrelevant prose'): CheckResult {
  return {name, category, status, message, duration_ms: 1, details}
}

/** The catalogue's checks, all ok, with the details the planner reads in their healthy shape. */
function healthyChecks(): CheckResult[] {
  return [
    check('connection', 'connectivity', 'ok', {engine: 'postgres', connect_ms: 3}),
    check('batch_retry_health', 'retry', 'ok', {exhausted_total: 0}),
    check('pool_reap_health', 'pool', 'ok', {}),
    check('engine_processes', 'pool', 'ok', {processes: [], live: 0, failing: [], stale: [], unreadable: []}),
    check('dead_letter', 'storage', 'ok', {entries: 0, rows: 0, corrupt: []}),
    check('audit_log', 'storage', 'ok', {expired_files: [], retention_days: 30}),
    check('cycle_freshness', 'freshness', 'ok', {sources: []}),
  ]
}

function report(replace: CheckResult[] = []): Report {
  const byName = new Map(healthyChecks().map((c) => [c.name, c]))
  for (const c of replace) byName.set(c.name, c)
  const checks = [...byName.values()]
  const summary = summarize(checks)
  return {
    schema_version: 2,
    status: reportStatus(summary),
    health_score: healthScore(summary),
    generated_at: '2026-01-07T12:00:00.000Z',
    duration_ms: 10,
    tool: {name: 'gbrain-doctor', version: '0.0.0'},
    target: {engine: 'postgres', database: 'postgres://***@h/db', audit_dir: '/x/audit', sources: {database: 'flag', audit_dir: 'default', home: 'default'}},
    summary,
    checks,
    top_issues: topIssues(checks),
  }
}

const proc = (over: Record<string, unknown>): Record<string, unknown> => ({
  pid: 4242,
  file: '/x/run/engine-4242.json',
  alive: true,
  verdict: 'healthy',
  command: 'gbrain cycle --watch',
  state: 'connected',
  consecutive_failures: 0,
  ...over,
})

describe('planRepairs', () => {
  it('plans nothing for a healthy report', () => {
    expect(planRepairs(report())).toEqual([])
  })

  it('plans nothing for a report without the checks it reads (e.g. --only)', () => {
    expect(planRepairs({...report(), checks: []})).toEqual([])
  })

  it('a failing connection plans reconnect, naming the classified cause from details', () => {
    const plan = planRepairs(report([check('connection', 'connectivity', 'fail', {cause: 'refused', code: 'ECONNREFUSED'})]))
    expect(plan).toHaveLength(1)
    expect(plan[0]).toMatchObject({action: 'reconnect', command: 'gbrain repair --reconnect'})
    expect(plan[0]!.because).toContain('connection fails (refused)')
  })

  it('a connection that is skipped or warns plans nothing', () => {
    expect(planRepairs(report([check('connection', 'connectivity', 'skipped', {holder_pid: 7})]))).toEqual([])
    expect(planRepairs(report([check('connection', 'connectivity', 'warn', {pooler: 'pgbouncer'})]))).toEqual([])
  })

  it('a live process with a failing pool (details.failing) plans reconnect', () => {
    const plan = planRepairs(report([check('engine_processes', 'pool', 'fail', {processes: [proc({verdict: 'failing', state: 'broken', consecutive_failures: 9})], failing: [4242], stale: []})]))
    expect(plan.map((p) => p.action)).toEqual(['reconnect'])
    expect(plan[0]!.because).toContain('1 live process(es) with a failing pool')
  })

  it('a stale state file (details.stale) plans reconnect (which removes it)', () => {
    const plan = planRepairs(report([check('engine_processes', 'pool', 'warn', {processes: [proc({alive: false, verdict: 'stale'})], failing: [], stale: [4242]})]))
    expect(plan.map((p) => p.action)).toEqual(['reconnect'])
    expect(plan[0]!.because).toContain('1 stale process state file(s)')
  })

  it('a live process still recovering (failures under 60 s, check ok) already plans reconnect', () => {
    const recovering = check('engine_processes', 'pool', 'ok', {processes: [proc({verdict: 'recovering', state: 'broken', consecutive_failures: 2})], failing: [], stale: []})
    const plan = planRepairs(report([recovering]))
    expect(plan.map((p) => p.action)).toEqual(['reconnect'])
    expect(plan[0]!.because).toBe('a live process reports a broken pool')
    // state broken alone (no failure count) also counts
    const broken = check('engine_processes', 'pool', 'ok', {processes: [proc({state: 'broken', consecutive_failures: null})], failing: [], stale: []})
    expect(planRepairs(report([broken])).map((p) => p.action)).toEqual(['reconnect'])
  })

  it('a dead process with failures is not a live broken pool (only its staleness would count)', () => {
    const dead = check('engine_processes', 'pool', 'ok', {processes: [proc({alive: false, state: 'broken', consecutive_failures: 5})], failing: [], stale: []})
    expect(planRepairs(report([dead]))).toEqual([])
  })

  it('spool entries (details.entries) plan replay with the counts; status alone does not', () => {
    const plan = planRepairs(report([check('dead_letter', 'storage', 'fail', {entries: 3, rows: 120, corrupt: []})]))
    expect(plan).toEqual([{action: 'replay', because: '3 dead-letter entries (120 rows) waiting', command: 'gbrain repair --replay'}])
    const one = planRepairs(report([check('dead_letter', 'storage', 'fail', {entries: 1, rows: 5})]))
    expect(one[0]!.because).toBe('1 dead-letter entry (5 rows) waiting')
    // Only corrupt entries: the check fails, but replay has nothing it could land.
    expect(planRepairs(report([check('dead_letter', 'storage', 'fail', {entries: 0, rows: 0, corrupt: [{id: 'x', reason: 'not valid JSON'}]}, 'dead-letter spool: 1 corrupt')]))).toEqual([])
    // Prose mentioning the spool never triggers anything.
    expect(planRepairs(report([check('dead_letter', 'storage', 'ok', {entries: 0}, '7 batches waiting in the dead-letter spool')]))).toEqual([])
  })

  it('expired audit files (details.expired_files) plan prune-audit', () => {
    const plan = planRepairs(report([check('audit_log', 'storage', 'warn', {expired_files: ['/x/audit/batch-retry-2025-W40.jsonl', '/x/audit/pool-recovery-2025-W40.jsonl']})]))
    expect(plan).toEqual([{action: 'prune-audit', because: '2 audit file(s) older than the retention', command: 'gbrain repair --prune-audit --older-than 30d'}])
    // A warning for another reason (permissions) plans nothing.
    expect(planRepairs(report([check('audit_log', 'storage', 'warn', {expired_files: [], wide_permissions: [{path: '/x/audit', mode: '755'}]})]))).toEqual([])
  })

  it('everything at once: reconnect, replay, prune-audit in that order, with every reason', () => {
    const plan = planRepairs(
      report([
        check('connection', 'connectivity', 'fail', {cause: 'timeout'}),
        check('engine_processes', 'pool', 'fail', {processes: [proc({verdict: 'failing', state: 'broken', consecutive_failures: 4}), proc({pid: 9, alive: false, verdict: 'stale'})], failing: [4242], stale: [9]}),
        check('dead_letter', 'storage', 'fail', {entries: 2, rows: 10}),
        check('audit_log', 'storage', 'warn', {expired_files: ['a']}),
      ]),
    )
    expect(plan.map((p) => p.action)).toEqual(['reconnect', 'replay', 'prune-audit'])
    expect(plan[0]!.because).toBe('connection fails (timeout); 1 live process(es) with a failing pool; 1 stale process state file(s)')
  })

  it('a failing connection without a recorded cause says unreachable', () => {
    expect(planRepairs(report([check('connection', 'connectivity', 'fail', {})]))[0]!.because).toBe('connection fails (unreachable)')
  })
})

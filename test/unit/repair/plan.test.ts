/**
 * planRepairs over hand-built doctor reports: each action is triggered by the structured
 * `details` of the check it concerns (never by the prose), and a healthy report plans nothing.
 */
import {describe, expect, it} from 'vitest'
import {judgePgliteLock} from '../../../src/checks/pglite-lock.js'
import {healthScore, reportStatus, summarize, topIssues} from '../../../src/checks/report.js'
import type {CheckResult, CheckStatus, Report} from '../../../src/checks/types.js'
import type {LockObservation} from '../../../src/engine/pglite/data-dir-lock.js'
import {planRepairs} from '../../../src/repair/plan.js'

function check(
  name: string,
  category: CheckResult['category'],
  status: CheckStatus,
  details: Record<string, unknown> = {},
  message = 'irrelevant prose',
): CheckResult {
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
    coverage: {database: 'checked'},
    generated_at: '2026-01-07T12:00:00.000Z',
    duration_ms: 10,
    tool: {name: 'gbrain-doctor', version: '0.0.0'},
    target: {
      engine: 'postgres',
      database: 'postgres://***@h/db',
      audit_dir: '/x/audit',
      sources: {database: 'flag', audit_dir: 'default', home: 'default'},
    },
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
    const plan = planRepairs(
      report([
        check('engine_processes', 'pool', 'fail', {
          processes: [proc({verdict: 'failing', state: 'broken', consecutive_failures: 9})],
          failing: [4242],
          stale: [],
        }),
      ]),
    )
    expect(plan.map((p) => p.action)).toEqual(['reconnect'])
    expect(plan[0]!.because).toContain('1 live process with a failing pool')
  })

  it('a stale state file (details.stale) plans reconnect (which removes it)', () => {
    const plan = planRepairs(
      report([
        check('engine_processes', 'pool', 'warn', {processes: [proc({alive: false, verdict: 'stale'})], failing: [], stale: [4242]}),
      ]),
    )
    expect(plan.map((p) => p.action)).toEqual(['reconnect'])
    expect(plan[0]!.because).toContain('1 stale process state file')
  })

  it('a live process still recovering (failures under 60 s, check ok) already plans reconnect', () => {
    const recovering = check('engine_processes', 'pool', 'ok', {
      processes: [proc({verdict: 'recovering', state: 'broken', consecutive_failures: 2})],
      failing: [],
      stale: [],
    })
    const plan = planRepairs(report([recovering]))
    expect(plan.map((p) => p.action)).toEqual(['reconnect'])
    expect(plan[0]!.because).toBe('a live process reports a broken pool')
    // state broken alone (no failure count) also counts
    const broken = check('engine_processes', 'pool', 'ok', {
      processes: [proc({state: 'broken', consecutive_failures: null})],
      failing: [],
      stale: [],
    })
    expect(planRepairs(report([broken])).map((p) => p.action)).toEqual(['reconnect'])
  })

  it('plans a reconnect exactly for the pools --reconnect heals (one rule: poolNeedsReconnect)', () => {
    const reconnecting = check('engine_processes', 'pool', 'ok', {
      processes: [proc({state: 'reconnecting', consecutive_failures: 0})],
      failing: [],
      stale: [],
    })
    expect(planRepairs(report([reconnecting])).map((p) => p.action)).toEqual(['reconnect'])
    const healthy = check('engine_processes', 'pool', 'ok', {
      processes: [proc({state: 'connected', consecutive_failures: 0, failing_for_s: null})],
      failing: [],
      stale: [],
    })
    expect(planRepairs(report([healthy]))).toEqual([])
  })

  it('a dead process with failures is not a live broken pool (only its staleness would count)', () => {
    const dead = check('engine_processes', 'pool', 'ok', {
      processes: [proc({alive: false, state: 'broken', consecutive_failures: 5})],
      failing: [],
      stale: [],
    })
    expect(planRepairs(report([dead]))).toEqual([])
  })

  it('spool entries (details.entries) plan replay with the counts; status alone does not', () => {
    const plan = planRepairs(report([check('dead_letter', 'storage', 'fail', {entries: 3, rows: 120, corrupt: []})]))
    expect(plan).toEqual([{action: 'replay', because: '3 dead-letter entries (120 rows) waiting', command: 'gbrain repair --replay'}])
    const one = planRepairs(report([check('dead_letter', 'storage', 'fail', {entries: 1, rows: 5})]))
    expect(one[0]!.because).toBe('1 dead-letter entry (5 rows) waiting')
    // Only corrupt entries: the check fails, but replay has nothing it could land.
    expect(
      planRepairs(
        report([
          check(
            'dead_letter',
            'storage',
            'fail',
            {entries: 0, rows: 0, corrupt: [{id: 'x', reason: 'not valid JSON'}]},
            'dead-letter spool: 1 corrupt',
          ),
        ]),
      ),
    ).toEqual([])
    // Prose mentioning the spool never triggers anything.
    expect(
      planRepairs(report([check('dead_letter', 'storage', 'ok', {entries: 0}, '7 batches waiting in the dead-letter spool')])),
    ).toEqual([])
  })

  it('expired audit files (details.expired_files) plan prune-audit', () => {
    const plan = planRepairs(
      report([
        check('audit_log', 'storage', 'warn', {
          expired_files: ['/x/audit/batch-retry-2025-W40.jsonl', '/x/audit/pool-recovery-2025-W40.jsonl'],
        }),
      ]),
    )
    expect(plan).toEqual([
      {action: 'prune-audit', because: '2 audit files older than the retention', command: 'gbrain repair --prune-audit --older-than 30d'},
    ])
    // A warning for another reason (permissions) plans nothing.
    expect(
      planRepairs(
        report([check('audit_log', 'storage', 'warn', {expired_files: [], wide_permissions: [{path: '/x/audit', mode: '755'}]})]),
      ),
    ).toEqual([])
  })

  it('everything at once: reconnect, replay, prune-audit in that order, with every reason', () => {
    const plan = planRepairs(
      report([
        check('connection', 'connectivity', 'fail', {cause: 'timeout'}),
        check('engine_processes', 'pool', 'fail', {
          processes: [proc({verdict: 'failing', state: 'broken', consecutive_failures: 4}), proc({pid: 9, alive: false, verdict: 'stale'})],
          failing: [4242],
          stale: [9],
        }),
        check('dead_letter', 'storage', 'fail', {entries: 2, rows: 10}),
        check('audit_log', 'storage', 'warn', {expired_files: ['a']}),
      ]),
    )
    expect(plan.map((p) => p.action)).toEqual(['reconnect', 'replay', 'prune-audit'])
    expect(plan[0]!.because).toBe('connection fails (timeout); 1 live process with a failing pool; 1 stale process state file')
  })

  it('a failing connection without a recorded cause says unreachable', () => {
    expect(planRepairs(report([check('connection', 'connectivity', 'fail', {})]))[0]!.because).toBe('connection fails (unreachable)')
  })
})

describe('planRepairs: pglite_lock', () => {
  const lockCheck = (status: CheckStatus, details: Record<string, unknown>): CheckResult =>
    check('pglite_lock', 'connectivity', status, details)
  const held = (alive: boolean, subcommand: string | null = 'serve', pid: number | string = 4242): LockObservation => ({
    state: 'held',
    holder: {
      pid,
      acquired_at: Date.parse('2026-01-07T11:00:00.000Z'),
      refreshed_at: null,
      command: 'bun /x/gbrain serve',
      subcommand,
      token: '4242:1',
      heartbeat_age_ms: 3_600_000,
      process: {
        alive,
        liveness: alive ? (typeof pid === 'number' ? 'running' : 'malformed-pid') : 'dead',
        cmdline: alive ? 'bun /x/gbrain serve' : null,
        looks_like: alive ? 'gbrain' : 'unknown',
        started_at: null,
      },
    },
  })
  /** The details exactly as the check writes them. */
  const judged = (observed: LockObservation): CheckResult => {
    const o = judgePgliteLock({
      engine: 'pglite',
      exists: true,
      data_dir: '/b/brain.pglite',
      lock_dir: '/b/brain.pglite/.gbrain-lock',
      observed,
    })
    return lockCheck(o.status, o.details ?? {})
  }

  it('a dead holder’s lock plans unlock, naming the pid and the subcommand', () => {
    expect(planRepairs(report([judged(held(false))]))).toEqual([
      {action: 'unlock', because: 'a lock left by dead pid 4242 (gbrain serve)', command: 'gbrain repair --unlock'},
    ])
    expect(planRepairs(report([judged(held(false, null))]))[0]!.because).toBe('a lock left by dead pid 4242')
  })

  it('an abandoned lock (no lock file or unparseable) plans unlock', () => {
    for (const reason of ['no-lock-file', 'unparseable'] as const) {
      expect(planRepairs(report([judged({state: 'abandoned', reason, age_ms: 60_000})]))).toEqual([
        {action: 'unlock', because: 'an abandoned lock directory on the embedded brain', command: 'gbrain repair --unlock'},
      ])
    }
  })

  it('a live holder (ok, wedged or malformed pid), a free lock, one in flight or unreadable plan nothing', () => {
    const none: LockObservation[] = [
      held(true),
      held(true, 'sync'), // heartbeat 1 h old: warn (wedged), still live
      held(true, 'sync', 'abc'),
      {state: 'free'},
      {state: 'acquiring', age_ms: 1000},
      {state: 'unreadable', error: 'EACCES'},
    ]
    for (const o of none) expect(planRepairs(report([judged(o)]))).toEqual([])
    expect(judged(held(true, 'sync')).status).toBe('warn')
  })

  it('details decide, not status: alive missing is not dead', () => {
    expect(planRepairs(report([lockCheck('warn', {state: 'held', pid: 9})]))).toEqual([])
  })

  it('unlock comes first, before reconnect (the other actions may need the brain)', () => {
    const plan = planRepairs(report([check('connection', 'connectivity', 'fail', {cause: 'locked'}), judged(held(false))]))
    expect(plan.map((p) => p.action)).toEqual(['unlock', 'reconnect'])
  })
})

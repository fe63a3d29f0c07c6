/**
 * Hand-built doctor reports for the renderer tests, with the derived fields (summary, health
 * score, status, top issues) filled by the real functions of src/checks/report.ts. Everything is
 * fixed — generated_at, durations — so golden files are byte-for-byte reproducible.
 */
import {healthScore, reportStatus, summarize, topIssues} from '../../../src/checks/report.js'
import type {CheckResult, Report} from '../../../src/checks/types.js'
import {hourCounter} from '../../../src/checks/facts/audit-hours.js'
import type {HistoryLine} from '../../../src/history/line.js'
import {buildTrend} from '../../../src/history/trend.js'
import type {Picture} from '../../../src/render/formats.js'
import {applyBaselines} from '../../../src/checks/acknowledge.js'
import {baselinesProblem} from '../../../src/checks/baselines-problem.js'
import {STALE_SOURCES} from '../../../src/checks/freshness.js'

export const GENERATED_AT = '2025-03-14T09:26:53.589Z'

export function buildReport(checks: CheckResult[], overrides: Partial<Report> = {}): Report {
  const summary = summarize(checks)
  const coverage = overrides.coverage ?? {database: 'checked'}
  return {
    schema_version: 2,
    status: reportStatus(summary, coverage),
    health_score: healthScore(summary, coverage),
    coverage,
    generated_at: GENERATED_AT,
    duration_ms: 412,
    tool: {name: 'gbrain-doctor', version: '0.1.0'},
    target: {
      engine: 'postgres',
      database: 'postgres://***@db.internal:5432/brain',
      audit_dir: '/home/ops/.gbrain/audit',
      sources: {database: 'env:GBRAIN_DATABASE_URL', audit_dir: 'default', home: 'default'},
    },
    summary,
    checks,
    top_issues: topIssues(checks),
    ...overrides,
  }
}

const ok = (
  name: string,
  category: CheckResult['category'],
  message: string,
  duration_ms: number,
  extra: Partial<CheckResult> = {},
): CheckResult => ({
  name,
  category,
  status: 'ok',
  message,
  duration_ms,
  ...extra,
})

/** The eleven checks of the catalogue, all ok (each fixture replaces some). */
function baseline(): CheckResult[] {
  return [
    ok('connection', 'connectivity', 'Connected to Postgres 15.6 in 4 ms (round trip 0.3 ms)', 6, {
      details: {connect_ms: 4, rtt_ms: 0.3, server_version: '15.6', engine: 'postgres', pooler: 'none', prepare: 'on', pool_size: 10},
      observed_value: 0.3,
      observed_unit: 'ms',
    }),
    ok('batch_retry_health', 'retry', 'No exhausted batches in the last 24 h (2 retries scheduled, 2 recovered)', 3, {
      details: {
        exhausted_total: 0,
        by_site: {},
        retries_scheduled: 2,
        recovered: 2,
        rows_lost: 0,
        rows_spooled: 0,
        corrupt_lines: 0,
        files_scanned: 2,
        window: '24h',
        perf_label: 'exhausted_24h',
      },
      observed_value: 0,
      observed_unit: 'count',
      threshold: {warn: 5, fail: 20},
    }),
    ok('cycle_freshness', 'freshness', 'All 2 sources cycled within 6 h', 8, {
      details: {sources: [{id: 'notes', name: 'Notes', state: 'fresh', last_full_cycle_at: '2025-03-14T07:02:11.000Z', age_hours: 2.4}]},
      observed_value: 2.4,
      observed_unit: 'hours',
      threshold: {warn: 6, fail: 24},
    }),
    ok('sync_freshness', 'freshness', 'All 2 sources synced within 24 h', 7, {
      observed_value: 3.1,
      observed_unit: 'hours',
      threshold: {warn: 24, fail: 72},
    }),
    ok('pool_reap_health', 'pool', 'No pool reaps in the last hour', 2, {
      details: {reaps: 0, recoveries: 0, failures: 0, unrecovered_pids: [], last_event: null},
    }),
    ok('engine_processes', 'pool', 'No live engine processes', 1, {details: {processes: []}}),
    ok('retry_config', 'retry', 'Retry policy 3 × 1000–10000 ms (defaults); worst-case wait 7.0 s', 0, {
      details: {
        max_retries: {value: 3, source: 'default'},
        base_ms: {value: 1000, source: 'default'},
        max_ms: {value: 10000, source: 'default'},
      },
      observed_value: 7000,
      observed_unit: 'ms',
      threshold: {warn: 5000},
    }),
    ok('dead_letter', 'storage', 'Dead-letter spool is empty', 1, {
      details: {entries: 0, rows: 0, by_site: {}},
      observed_value: 0,
      observed_unit: 'count',
      threshold: {fail: 1},
    }),
    ok('connection_slots', 'pool', '17 of 97 connection slots in use (18 %)', 5, {
      details: {numbackends: 17, max_connections: 100, reserved: 3},
      observed_value: 17.5,
      observed_unit: '%',
      threshold: {warn: 80, fail: 95},
    }),
    ok('idle_transactions', 'pool', 'No sessions idle in transaction for more than 5 min', 4, {
      details: {sessions: []},
      threshold: {warn: 5},
    }),
    ok('audit_log', 'storage', 'Audit directory: 3 features, 1.2 MB, newest file 2 h old', 3, {
      details: {bytes: 1258291, features: {'batch-retry': 4, 'pool-recovery': 1, cycle: 2}},
      observed_value: 1258291,
      observed_unit: 'bytes',
    }),
  ]
}

function replace(checks: CheckResult[], ...replacements: CheckResult[]): CheckResult[] {
  return checks.map((c) => replacements.find((r) => r.name === c.name) ?? c)
}

/** An embedded brain, everything fine; connection_slots does not apply to PGlite. */
export function healthyReport(): Report {
  const checks = replace(
    baseline(),
    ok('connection', 'connectivity', 'Opened PGlite 0.2.17 at /home/ops/.gbrain/brain.pglite in 41 ms', 41, {
      details: {engine: 'pglite', connect_ms: 41},
    }),
    {
      name: 'connection_slots',
      category: 'pool',
      status: 'skipped',
      message: 'Not applicable: PGlite has no connection slots',
      duration_ms: 0,
    },
    {
      name: 'idle_transactions',
      category: 'pool',
      status: 'skipped',
      message: 'Not applicable: PGlite runs in this process',
      duration_ms: 0,
    },
  )
  return buildReport(checks, {
    duration_ms: 97,
    target: {
      engine: 'pglite',
      database: '/home/ops/.gbrain/brain.pglite',
      audit_dir: '/home/ops/.gbrain/audit',
      sources: {database: 'default', audit_dir: 'default', home: 'default'},
    },
  })
}

/** No database configured and no embedded brain yet: connection skipped with the fix, file checks run. */
export function noBrainReport(): Report {
  const skipped = (name: string, category: CheckResult['category']): CheckResult => ({
    name,
    category,
    status: 'skipped',
    message: 'not checked: no brain yet',
    duration_ms: 0,
    downstream_of: ['connection'],
  })
  const checks = replace(
    baseline(),
    {
      name: 'connection',
      category: 'connectivity',
      status: 'skipped',
      message: 'No brain yet at /home/ops/.gbrain/brain.pglite',
      duration_ms: 1,
      fix: {text: 'Create the embedded brain (or configure a Postgres URL).', commands: ['gbrain init']},
    },
    skipped('cycle_freshness', 'freshness'),
    skipped('sync_freshness', 'freshness'),
    skipped('connection_slots', 'pool'),
    skipped('idle_transactions', 'pool'),
  )
  return buildReport(checks, {
    duration_ms: 12,
    coverage: {
      database: 'not_reached',
      reason: 'no brain yet',
      fix: {text: 'Create the embedded brain (or configure a Postgres URL).', commands: ['gbrain init']},
    },
    target: {
      engine: 'pglite',
      database: '/home/ops/.gbrain/brain.pglite',
      audit_dir: '/home/ops/.gbrain/audit',
      sources: {database: 'default', audit_dir: 'default', home: 'default'},
    },
  })
}

/** Postgres up; one stale source (long message naming sources, non-ASCII name) and old audit files. */
export function warningsReport(): Report {
  const checks = replace(
    baseline(),
    {
      name: 'cycle_freshness',
      category: 'freshness',
      status: 'warn',
      message:
        'Source “Café notes” (cafe) last cycled 7.5 h ago (> 6 h); source “Meeting minutes” (minutes) never cycled — run a cycle for each; stale sources serve outdated timelines and links.',
      duration_ms: 9,
      details: {
        sources: [
          {id: 'cafe', name: 'Café notes', state: 'stale', last_full_cycle_at: '2025-03-14T01:56:53.589Z', age_hours: 7.5},
          {id: 'minutes', name: 'Meeting minutes', state: 'never', last_full_cycle_at: null, age_hours: null},
        ],
      },
      observed_value: 7.5,
      observed_unit: 'hours',
      threshold: {warn: 6, fail: 24},
      fix: {text: 'Run a full cycle of each stale source.', commands: ['gbrain cycle --source cafe', 'gbrain cycle --source minutes']},
    },
    {
      name: 'audit_log',
      category: 'storage',
      status: 'warn',
      message:
        '3 audit files older than the 30 d retention (412 KB): /home/ops/.gbrain/audit/batch-retry-2025-W02.jsonl, /home/ops/.gbrain/audit/batch-retry-2025-W03.jsonl, /home/ops/.gbrain/audit/pool-recovery-2025-W03.jsonl',
      duration_ms: 4,
      details: {old_files: 3, old_bytes: 421888, retention_days: 30},
      fix: {text: 'Prune audit files past the retention.', commands: ['gbrain repair --prune-audit --older-than 30d']},
    },
  )
  return buildReport(checks, {duration_ms: 1375})
}

/**
 * The configured database refuses connections: connection fails, batch_retry_health fails
 * downstream of it (21 exhausted batches), the database checks are skipped, and pool_reap_health
 * warns (failed reconnects that recovered).
 */
export function unhealthyReport(): Report {
  const skipped = (name: string, category: CheckResult['category'], duration_ms = 0): CheckResult => ({
    name,
    category,
    status: 'skipped',
    message: 'Skipped: connection failed',
    duration_ms,
    downstream_of: ['connection'],
  })
  const checks = replace(
    baseline(),
    {
      name: 'connection',
      category: 'connectivity',
      status: 'fail',
      message: 'Connection refused by db.internal:5432 (refused): is Postgres running and accepting TCP connections?',
      duration_ms: 27,
      details: {cause: 'refused', code: 'ECONNREFUSED', engine: 'postgres', source: 'env:GBRAIN_DATABASE_URL'},
      fix: {
        text: 'Start Postgres or point GBRAIN_DATABASE_URL at a running server, then reconnect live processes.',
        commands: ['pg_ctl -D "$PGDATA" start', 'gbrain repair --reconnect'],
      },
    },
    {
      name: 'batch_retry_health',
      category: 'retry',
      status: 'fail',
      message: '21 batches exhausted their retries in the last 24 h (sustained incident); worst site extract_timeline (14); 1240 rows lost',
      duration_ms: 12,
      details: {
        exhausted_total: 21,
        by_site: {extract_timeline: 14, extract_links: 7},
        retries_scheduled: 63,
        recovered: 4,
        rows_lost: 1240,
        rows_spooled: 0,
        corrupt_lines: 1,
        files_scanned: 2,
        window: '24h',
        perf_label: 'exhausted_24h',
      },
      observed_value: 21,
      observed_unit: 'count',
      threshold: {warn: 5, fail: 20},
      downstream_of: ['connection'],
      fix: {
        text: 'Check the pooler and the database; raise retries or use a direct connection.',
        commands: ['gbrain doctor --only connection', 'export GBRAIN_BULK_MAX_RETRIES=6'],
      },
    },
    skipped('cycle_freshness', 'freshness'),
    skipped('sync_freshness', 'freshness'),
    {
      name: 'pool_reap_health',
      category: 'pool',
      status: 'warn',
      message: '3 failed reconnects in the last hour, recovered at 09:14:02',
      duration_ms: 2,
      details: {reaps: 4, recoveries: 1, failures: 3, unrecovered_pids: [], last_event: '2025-03-14T09:14:02.000Z'},
      observed_value: 3,
      observed_unit: 'count',
    },
    skipped('connection_slots', 'pool'),
    skipped('idle_transactions', 'pool'),
  )
  return buildReport(checks)
}

/** Nothing failed, but one check crashed (with a stack) and one timed out; one warning. */
export function unknownReport(): Report {
  const checks = replace(
    baseline(),
    {
      name: 'pool_reap_health',
      category: 'pool',
      status: 'unknown',
      message: "Check crashed: TypeError: Cannot read properties of undefined (reading 'pid')",
      duration_ms: 3,
      debug_stack:
        "TypeError: Cannot read properties of undefined (reading 'pid')\n    at judge (file:///opt/gbrain/dist/checks/pool-reap-health.js:42:17)\n    at runCheck (file:///opt/gbrain/dist/checks/runner.js:88:22)",
      fix: {
        text: 'This is a bug in gbrain-doctor; rerun with --debug and report the stack trace.',
        commands: ['gbrain doctor --only pool_reap_health --debug'],
      },
    },
    {
      name: 'idle_transactions',
      category: 'pool',
      status: 'unknown',
      message: 'Timed out after 5 s (the query may be blocked on a lock)',
      duration_ms: 5000,
      threshold: {warn: 5},
    },
    {
      name: 'retry_config',
      category: 'retry',
      status: 'warn',
      message: 'Worst-case retry wait is 4.2 s, shorter than a typical pooler recovery (5 s)',
      duration_ms: 0,
      details: {
        max_retries: {value: 2, source: 'env:GBRAIN_BULK_MAX_RETRIES'},
        base_ms: {value: 1400, source: 'env:GBRAIN_BULK_RETRY_BASE_MS'},
        max_ms: {value: 10000, source: 'default'},
      },
      observed_value: 4200,
      observed_unit: 'ms',
      threshold: {warn: 5000},
      fix: {text: 'Allow more retries so a batch outlives a pooler restart.', commands: ['export GBRAIN_BULK_MAX_RETRIES=4']},
    },
  )
  return buildReport(checks, {duration_ms: 5021})
}

/** 12 failing and 11 warning checks: more than GitHub shows per level. */
export function manyIssuesReport(): Report {
  const checks: CheckResult[] = []
  for (let i = 1; i <= 12; i++) {
    const n = String(i).padStart(2, '0')
    checks.push({
      name: `source_${n}_freshness`,
      category: 'freshness',
      status: 'fail',
      message: `Source s${n} last cycled ${24 + i} h ago (> 24 h)`,
      duration_ms: i,
      fix: {text: `Run a cycle of s${n}.`, commands: [`gbrain cycle --source s${n}`]},
    })
  }
  for (let i = 1; i <= 11; i++) {
    const n = String(i).padStart(2, '0')
    checks.push({
      name: `audit_feature_${n}`,
      category: 'storage',
      status: 'warn',
      message: `Feature f${n}: 2 files older than 30 d`,
      duration_ms: 1,
    })
  }
  checks.push({name: 'connection', category: 'connectivity', status: 'ok', message: 'Connected to Postgres 15.6 in 4 ms', duration_ms: 5})
  return buildReport(checks, {duration_ms: 260})
}

/**
 * The warnings report with acknowledgements applied by the real function: the stale sources
 * acknowledged (2 known, active: ok), the audit files' acknowledgement expired (warns again),
 * and one entry of the acknowledgements file unreadable (`doctor_baselines` warns).
 */
export function acknowledgedReport(): Report {
  const now = Date.parse(GENERATED_AT)
  const checks = applyBaselines(
    warningsReport().checks,
    {
      cycle_freshness: {
        count: 2,
        status: 'warn',
        acknowledged_at: '2025-03-10T08:00:00.000Z',
        expires_at: '2025-04-09T08:00:00.000Z',
        reason: 'minutes is archived next week',
      },
      audit_log: {
        count: null,
        status: 'warn',
        acknowledged_at: '2025-01-10T08:00:00.000Z',
        expires_at: '2025-02-09T08:00:00.000Z',
        reason: '',
      },
    },
    (name) => (name === 'cycle_freshness' ? STALE_SOURCES : undefined),
    now,
  )
  checks.push(
    baselinesProblem({
      file: '/home/ops/.gbrain/doctor-baselines.json',
      problems: ['dead_letter: acknowledged_at is not an ISO 8601 UTC time'],
      baselines: {cycle_freshness: {} as never, audit_log: {} as never},
    }),
  )
  return buildReport(checks, {duration_ms: 1375})
}

export const FIXTURES = {
  healthy: healthyReport,
  nobrain: noBrainReport,
  warnings: warningsReport,
  unhealthy: unhealthyReport,
  unknown: unknownReport,
  many: manyIssuesReport,
  acknowledged: acknowledgedReport,
} as const

export const SECRET = 'Pl4nted-S3cret!x'
export const SECRET_URL = `postgres://u:${SECRET}@10.1.2.3:5432/db`
export const SECRET_KV = `password=${SECRET}`

/** Substrings that must never appear in any output (robust to escaping of the `!`). */
export const SECRET_PIECES = ['Pl4nted', 'S3cret']

/**
 * A report whose free text everywhere — messages, details (values, keys, nested), fixes, commands,
 * units, perf labels, the target, stacks — carries the given text (which embeds a credential).
 */
export function secretReport(text: string, other: string = text): Report {
  const checks = unhealthyReport().checks.map((c): CheckResult => ({
    ...c,
    message: `${c.message} ${text}`,
    details: {...(c.details ?? {}), note: other, nested: {deeper: [other, {url: text}]}, [`key ${other}`]: 1, perf_label: `lbl ${text}`},
    observed_value: c.observed_value ?? 1,
    observed_unit: `u ${other}`,
    fix: {text: `fix ${text}`, commands: [`gbrain doctor --database-url '${SECRET_URL}'`, `psql "${other}"`]},
    downstream_of: c.downstream_of ? [...c.downstream_of, `dep ${text}`] : undefined,
    debug_stack: `Error: ${text}\n    at x (${other})`,
  }))
  return buildReport(checks, {
    target: {
      engine: 'postgres',
      database: SECRET_URL,
      audit_dir: `/audit/${other}`,
      sources: {database: `flag ${text}`, audit_dir: 'default', home: 'default'},
    },
  })
}

const PICTURE_NOW = Date.parse(GENERATED_AT)

/**
 * The picture a `--format html` run draws, fixed: 5 runs of history (the last one unscored and
 * one without `pool_health`), and an hourly audit trail with an outage in the last hour on
 * `cycle.links` (retries, exhausted batches, failed reconnects) and a hostile site name.
 */
export function pictureFixture(sites: string[] = ['cycle.pages', '<b>"site" & \'x\'</b>\u0007']): Picture {
  const checks = (status: string, withPool = true): Record<string, string> => ({
    connection: status,
    batch_retry_health: status === 'ok' ? 'ok' : 'fail',
    dead_letter: status === 'ok' ? 'ok' : 'fail',
    ...(withPool ? {pool_health: 'ok'} : {}),
  })
  const lines: HistoryLine[] = [
    {ts: '2025-03-14T05:00:00.000Z', score: 100, status: 'healthy', checks: checks('ok')},
    {ts: '2025-03-14T06:00:00.000Z', score: 95, status: 'warnings', checks: checks('ok', false)},
    {ts: '2025-03-14T07:00:00.000Z', score: 100, status: 'healthy', checks: checks('ok')},
    {ts: '2025-03-14T08:00:00.000Z', score: 40, status: 'unhealthy', checks: checks('fail')},
    {ts: '2025-03-14T09:00:00.000Z', score: null, status: 'unknown', checks: checks('unknown')},
  ]
  const c = hourCounter(PICTURE_NOW)
  const at = (hoursAgo: number): number => PICTURE_NOW - hoursAgo * 3_600_000 - 60_000
  for (let i = 0; i < 12; i++) c.retryRow({site: 'cycle.links', outcome: 'success'}, at(0))
  for (let i = 0; i < 9; i++) c.retryRow({site: 'cycle.links', outcome: 'exhausted'}, at(0))
  for (const [k, site] of sites.entries()) {
    c.retryRow({site, outcome: 'success'}, at(5 + k))
    c.retryRow({site, outcome: 'recovered'}, at(5 + k))
  }
  c.recoveryRow({kind: 'reconnect_failed'}, at(0))
  c.recoveryRow({kind: 'reconnect_failed'}, at(0))
  c.recoveryRow({kind: 'reconnect_succeeded'}, at(5))
  c.disconnectRow({reason: 'borrower-release'}, at(3))
  return {trend: buildTrend(lines, 30, 1), audit: c.result({skipped: 2, unreadable: 0})}
}

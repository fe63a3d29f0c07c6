/**
 * The catalogue, in its fixed order (checks.md). Results are always reported in this order.
 * Each entry also explains its check for `gbrain doctor --list`: what it looks at and its
 * thresholds, written from the constants the judges use (so the listing cannot drift from them).
 */
import {IN_FLIGHT_MS} from '../engine/pglite/data-dir-lock.js'
import {DEFAULT_RETRY_POLICY} from '../engine/retry-policy.js'
import {auditLogCheck} from './audit-log.js'
import {batchRetryHealthCheck} from './batch-retry-health.js'
import type {CheckDef} from './check.js'
import {connectionSlotsCheck} from './connection-slots.js'
import {connectionCheck} from './connection.js'
import {cycleFreshnessCheck} from './cycle-freshness.js'
import {deadLetterCheck} from './dead-letter.js'
import {diskSpaceCheck, FAIL_FREE_BYTES, WARN_FREE_BYTES, WARN_FREE_PCT} from './disk-space.js'
import {engineProcessesCheck} from './engine-processes.js'
import {PROCESS_FAILING_FAIL_MS} from './pool-health.js'
import {AUDIT_RETENTION_DAYS} from './facts/audit-files.js'
import {BATCH_RETRY_WINDOW_HOURS, POOL_RECOVERY_WINDOW_HOURS} from './facts/audit-windows.js'
import {idleTransactionsCheck} from './idle-transactions.js'
import {pgliteLockCheck, WEDGED_HEARTBEAT_S} from './pglite-lock.js'
import {POOL_REAP_WARN, poolReapHealthCheck} from './pool-reap-health.js'
import {RETRY_MIN_WORST_CASE_MS, retryConfigCheck} from './retry-config.js'
import {syncFreshnessCheck} from './sync-freshness.js'
import {THRESHOLD_DEFAULTS, type ThresholdVariable} from './thresholds.js'
import type {Category} from './types.js'

/** The flag that bounds each check (`doctor --timeout`), as the command declares it. */
export interface BudgetFlag {
  flag: string
  /** The default as written, e.g. `5s`. */
  default: string
  /** The same in milliseconds. */
  ms: number
}

/** One threshold of a check, as `--list` shows it. */
export interface ListedThreshold {
  level: 'warn' | 'fail'
  comparison: '>' | '≥' | '<'
  /** The value the check uses unless its setting says otherwise. */
  default: number
  unit: string
  /** What is compared, after the value: `since the last full cycle`. */
  measure: string
  /** The env variable or flag that changes it; null when it is fixed. */
  setting: string | null
  /** The whole threshold in words: `warn > 6 h since the last full cycle (default; set by GBRAIN_…)`. */
  text: string
}

/** One check, as `gbrain doctor --list` shows it (table and JSON: the same fields). */
export interface ListedCheck {
  name: string
  category: Category
  /** `database`: needs a live database (skipped under --fast); `files`: reads files only. */
  needs: 'files' | 'database'
  looks_at: string
  /** Checks whose failure explains this one's (empty when none). */
  downstream_of: string[]
  thresholds: ListedThreshold[]
}

interface Explanation {
  check: CheckDef
  looksAt: string
  thresholds: (budget: BudgetFlag) => Omit<ListedThreshold, 'text'>[]
}

type Rule = Omit<ListedThreshold, 'text'>
/** A threshold before its value: a counted unit is given as [one, many] and agrees with the value. */
type Shape = Omit<ListedThreshold, 'text' | 'default' | 'setting' | 'unit'> & {unit: string | readonly [string, string]}

const rule = (t: Shape, value: number, setting: string | null): Rule => ({
  ...t,
  default: value,
  unit: typeof t.unit === 'string' ? t.unit : value === 1 ? t.unit[0] : t.unit[1],
  setting,
})
/** A threshold an env variable overrides, at its default. */
const byEnv = (name: ThresholdVariable, t: Shape): Rule => rule(t, THRESHOLD_DEFAULTS[name], name)
/** A warn/fail pair of env variables over the same measure. */
const ladder = (warn: ThresholdVariable, fail: ThresholdVariable, t: Omit<Shape, 'level'>): Rule[] => [byEnv(warn, {...t, level: 'warn'}), byEnv(fail, {...t, level: 'fail'})]
/** A threshold written into the check. */
const fixed = (value: number, t: Shape): Rule => rule(t, value, null)
const BATCHES = ['exhausted batch', 'exhausted batches'] as const
const MIB = 1024 * 1024
const RETRY = DEFAULT_RETRY_POLICY

const ENTRIES: readonly Explanation[] = [
  {
    check: connectionCheck,
    looksAt:
      'Connects to the brain (the Postgres URL, or the embedded brain’s data directory), runs SELECT 1 and reads the server version; a failure is named by its cause (refused, timeout, authentication, unknown database, locked brain). Warns when prepared statements are on behind a pooler; fails behind a transaction pooler.',
    thresholds: (b) => [{level: 'fail', comparison: '>', default: b.ms / 1000, unit: 's', measure: 'to connect and answer', setting: b.flag}],
  },
  {
    check: pgliteLockCheck,
    looksAt:
      'The embedded brain’s data-directory lock as the doctor found it: who holds it, whether that process is alive and is gbrain, and its heartbeat. Warns on a lock left by a crashed process, an abandoned or unreadable lock, and a reused pid. Skipped on Postgres.',
    thresholds: () => [
      fixed(WEDGED_HEARTBEAT_S, {level: 'warn', comparison: '>', unit: 's', measure: 'since the heartbeat of a live holder (an agent session’s serve excepted)'}),
      fixed(IN_FLIGHT_MS / 1000, {level: 'warn', comparison: '>', unit: 's', measure: 'old: a lock directory without its lock file (abandoned)'}),
    ],
  },
  {
    check: batchRetryHealthCheck,
    looksAt: `The batch-retry rows of the audit trail from the last ${BATCH_RETRY_WINDOW_HOURS} h: batches that exhausted their retries, per site, and whether their rows went to the dead-letter spool and were replayed (then it is at most a warning). Also warns on invalid GBRAIN_BULK_* settings and unreadable audit files.`,
    thresholds: () => [
      byEnv('GBRAIN_BATCH_RETRY_WARN_SITE', {level: 'warn', comparison: '≥', unit: BATCHES, measure: 'at one site'}),
      ...ladder('GBRAIN_BATCH_RETRY_WARN_TOTAL', 'GBRAIN_BATCH_RETRY_FAIL_TOTAL', {comparison: '≥', unit: BATCHES, measure: 'in all'}),
    ],
  },
  {
    check: cycleFreshnessCheck,
    looksAt: 'When each source with a local path (not archived; only the --source one when given) last finished a full cycle (sources.config last_full_cycle_at). A source never cycled is a warning.',
    thresholds: () => ladder('GBRAIN_CYCLE_FRESHNESS_WARN_HOURS', 'GBRAIN_CYCLE_FRESHNESS_FAIL_HOURS', {comparison: '>', unit: 'h', measure: 'since the last full cycle'}),
  },
  {
    check: syncFreshnessCheck,
    looksAt: 'When the same sources were last synced (sources.last_sync_at). A source never synced fails; a sync time in the future is a warning.',
    thresholds: () => ladder('GBRAIN_SYNC_FRESHNESS_WARN_HOURS', 'GBRAIN_SYNC_FRESHNESS_FAIL_HOURS', {comparison: '>', unit: 'h', measure: 'since the last sync'}),
  },
  {
    check: poolReapHealthCheck,
    looksAt: `The pool-recovery rows of the audit trail from the last ${POOL_RECOVERY_WINDOW_HOURS} h: reaped connection pools and reconnects. A failed reconnect of a running process that no success followed fails; failures that recovered are a warning.`,
    thresholds: () => [fixed(POOL_REAP_WARN, {level: 'warn', comparison: '≥', unit: ['pool reap', 'pool reaps'], measure: 'in the window'})],
  },
  {
    check: engineProcessesCheck,
    looksAt: 'The state file of each running gbrain process (pool health, failing since when). State files of processes that are gone, or that cannot be read, are a warning.',
    thresholds: () => [fixed(PROCESS_FAILING_FAIL_MS / 1000, {level: 'fail', comparison: '>', unit: 's', measure: 'that a live process’s pool has been failing'})],
  },
  {
    check: retryConfigCheck,
    looksAt: `The batch-write retry policy in effect: GBRAIN_BULK_MAX_RETRIES (default ${RETRY.maxRetries}), GBRAIN_BULK_RETRY_BASE_MS (default ${RETRY.baseMs}) and GBRAIN_BULK_RETRY_MAX_MS (default ${RETRY.maxMs}). An invalid value fails.`,
    thresholds: () => [fixed(RETRY_MIN_WORST_CASE_MS / 1000, {level: 'warn', comparison: '<', unit: 's', measure: 'of worst-case total wait over all retries'})],
  },
  {
    check: deadLetterCheck,
    looksAt: 'The dead-letter spool: batches that could not be written after all retries and wait to be replayed, unreadable or corrupt entries, and the loss ledger (rows neither written nor spooled, e.g. on a full disk).',
    thresholds: () => [fixed(1, {level: 'fail', comparison: '≥', unit: ['entry', 'entries'], measure: 'waiting in the spool'})],
  },
  {
    check: diskSpaceCheck,
    looksAt: 'Free space, and write access, on the filesystems that hold the audit trail, the dead-letter spool and the run directory. A directory that is not writable fails.',
    thresholds: () => [
      fixed(FAIL_FREE_BYTES / MIB, {level: 'fail', comparison: '<', unit: 'MB', measure: 'free'}),
      fixed(WARN_FREE_BYTES / MIB, {level: 'warn', comparison: '<', unit: 'MB', measure: 'free'}),
      fixed(WARN_FREE_PCT, {level: 'warn', comparison: '<', unit: '%', measure: 'of the filesystem free'}),
    ],
  },
  {
    check: connectionSlotsCheck,
    looksAt: 'Client sessions against max_connections minus the slots reserved for superusers. Skipped behind a pooler (its numbers would be the pooler’s).',
    thresholds: () => ladder('GBRAIN_CONN_SLOTS_WARN_PCT', 'GBRAIN_CONN_SLOTS_FAIL_PCT', {comparison: '≥', unit: '%', measure: 'of connection slots in use'}),
  },
  {
    check: idleTransactionsCheck,
    looksAt: 'Sessions idle inside a transaction (they hold locks and slots), with pid, application name and age; never their query text.',
    thresholds: () => [byEnv('GBRAIN_IDLE_TX_WARN_MINUTES', {level: 'warn', comparison: '>', unit: 'min', measure: 'idle in a transaction'})],
  },
  {
    check: auditLogCheck,
    looksAt: `The audit directory: files and size per feature, files past the ${AUDIT_RETENTION_DAYS}-day retention, unreadable files, and permissions wider than the owner on the brain’s home, config.json and the audit, spool and run directories.`,
    thresholds: () => [fixed(AUDIT_RETENTION_DAYS, {level: 'warn', comparison: '>', unit: 'd', measure: 'old: audit files past the retention (by the ISO week in their name)'})],
  },
]

export const CATALOGUE: readonly CheckDef[] = ENTRIES.map((e) => e.check)

export const CHECK_NAMES: readonly string[] = CATALOGUE.map((c) => c.name)

/** The threshold at its default, in words: `warn > 6 h since the last full cycle`. */
export function thresholdRule(t: Pick<ListedThreshold, 'level' | 'comparison' | 'default' | 'unit' | 'measure'>): string {
  return `${t.level} ${t.comparison} ${t.default} ${t.unit} ${t.measure}`
}

/** …and what sets it: `(default; set by GBRAIN_CYCLE_FRESHNESS_WARN_HOURS)`, `(fixed)`. */
function thresholdText(t: Rule): string {
  return `${thresholdRule(t)} (${t.setting === null ? 'fixed' : `default; set by ${t.setting}`})`
}

/**
 * Every check in catalogue order, explained: category, what it needs, what it looks at, its
 * thresholds with their defaults and the env variable or flag that changes each. `budget` is the
 * doctor's per-check timeout flag, which `connection` fails on.
 */
export function describeChecks(budget: BudgetFlag): ListedCheck[] {
  return ENTRIES.map((e) => ({
    name: e.check.name,
    category: e.check.category,
    needs: e.check.gatedOnConnection || e.check.opensConnection ? 'database' : 'files',
    looks_at: e.looksAt,
    downstream_of: [...(e.check.downstreamOf ?? [])],
    thresholds: e.thresholds(budget).map((t) => ({level: t.level, comparison: t.comparison, default: t.default, unit: t.unit, measure: t.measure, setting: t.setting, text: thresholdText(t)})),
  }))
}

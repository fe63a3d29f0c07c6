/**
 * The catalogue, in its fixed order (checks.md): one line per check. Results are always reported
 * in this order. Each check explains itself for `gbrain doctor --list` from its own file
 * (`explain`: what it looks at, its thresholds from the constants its judge uses).
 */
import {auditLogCheck} from './audit-log.js'
import {batchRetryHealthCheck} from './batch-retry-health.js'
import type {CheckDef} from './check.js'
import {connectionSlotsCheck} from './connection-slots.js'
import {connectionCheck} from './connection.js'
import {cycleFreshnessCheck} from './cycle-freshness.js'
import {deadLetterCheck} from './dead-letter.js'
import {diskSpaceCheck} from './disk-space.js'
import {engineProcessesCheck} from './engine-processes.js'
import {idleTransactionsCheck} from './idle-transactions.js'
import {thresholdText, type BudgetFlag, type ListedCheck} from './listing.js'
import {pgliteLockCheck} from './pglite-lock.js'
import {poolReapHealthCheck} from './pool-reap-health.js'
import {retryConfigCheck} from './retry-config.js'
import {syncFreshnessCheck} from './sync-freshness.js'

export const CATALOGUE: readonly CheckDef[] = [
  connectionCheck,
  pgliteLockCheck,
  batchRetryHealthCheck,
  cycleFreshnessCheck,
  syncFreshnessCheck,
  poolReapHealthCheck,
  engineProcessesCheck,
  retryConfigCheck,
  deadLetterCheck,
  diskSpaceCheck,
  connectionSlotsCheck,
  idleTransactionsCheck,
  auditLogCheck,
]

export const CHECK_NAMES: readonly string[] = CATALOGUE.map((c) => c.name)

/**
 * Every check in catalogue order, explained: category, what it needs, what it looks at, its
 * thresholds with their defaults and the env variable or flag that changes each. `budget` is the
 * doctor's per-check timeout flag, which `connection` fails on.
 */
export function describeChecks(budget: BudgetFlag): ListedCheck[] {
  return CATALOGUE.map((c) => ({
    name: c.name,
    category: c.category,
    needs: c.gatedOnConnection || c.opensConnection ? 'database' : 'files',
    looks_at: c.explain.looksAt,
    downstream_of: [...(c.downstreamOf ?? [])],
    thresholds: c.explain.thresholds(budget).map((t) => ({
      level: t.level,
      comparison: t.comparison,
      default: t.default,
      unit: t.unit,
      measure: t.measure,
      setting: t.setting,
      text: thresholdText(t),
    })),
  }))
}

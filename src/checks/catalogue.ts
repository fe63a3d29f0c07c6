/**
 * The catalogue, in its fixed order (checks.md). Results are always reported in this order.
 */
import {auditLogCheck} from './audit-log.js'
import {batchRetryHealthCheck} from './batch-retry-health.js'
import type {CheckDef} from './check.js'
import {connectionSlotsCheck} from './connection-slots.js'
import {connectionCheck} from './connection.js'
import {cycleFreshnessCheck} from './cycle-freshness.js'
import type {DbCheckFacts} from './db-facts-type.js'
import {deadLetterCheck} from './dead-letter.js'
import {diskSpaceCheck} from './disk-space.js'
import {engineProcessesCheck} from './engine-processes.js'
import type {FileCheckFacts} from './facts-files.js'
import {idleTransactionsCheck} from './idle-transactions.js'
import {pgliteLockCheck} from './pglite-lock.js'
import {poolReapHealthCheck} from './pool-reap-health.js'
import {retryConfigCheck} from './retry-config.js'
import {syncFreshnessCheck} from './sync-freshness.js'

export type DoctorFacts = FileCheckFacts & DbCheckFacts

export const CATALOGUE: readonly CheckDef<DoctorFacts>[] = [
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
] as CheckDef<DoctorFacts>[]

export const CHECK_NAMES: readonly string[] = CATALOGUE.map((c) => c.name)

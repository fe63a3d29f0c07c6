/**
 * Typed guards for audit rows. The reader keeps rows with wrong field types or unknown outcomes
 * (checks judge them); a check narrows with these guards before trusting a field.
 */
import {BATCH_RETRY_OUTCOMES, POOL_RECOVERY_KINDS, type BatchRetryRow, type DbDisconnectRow, type PoolRecoveryRow} from './types.js'

type Obj = Record<string, unknown>

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)
const isTs = (x: unknown): boolean => typeof x === 'string' && Number.isFinite(Date.parse(x))
const isCount = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x >= 0
const isNonNegative = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0
const optional = (x: unknown, test: (v: unknown) => boolean): boolean => x === undefined || test(x)
const isString = (x: unknown): boolean => typeof x === 'string'
const oneOf =
  (values: readonly string[]) =>
  (x: unknown): boolean =>
    typeof x === 'string' && values.includes(x)

/** A well-formed `batch-retry` row (finite ts, integer counts, known outcome). */
export function isBatchRetryRow(x: unknown): x is BatchRetryRow {
  return (
    isObj(x) &&
    isTs(x.ts) &&
    isString(x.site) &&
    isCount(x.batch_size) &&
    isCount(x.attempt) &&
    (x.attempt as number) >= 1 &&
    oneOf(BATCH_RETRY_OUTCOMES)(x.outcome) &&
    isNonNegative(x.delay_ms) &&
    isString(x.error_message_summary) &&
    optional(x.error_code, isString) &&
    optional(x.spooled, (v) => typeof v === 'boolean') &&
    optional(x.dead_letter_id, isString)
  )
}

/** A well-formed `pool-recovery` row. */
export function isPoolRecoveryRow(x: unknown): x is PoolRecoveryRow {
  return (
    isObj(x) &&
    isTs(x.ts) &&
    oneOf(POOL_RECOVERY_KINDS)(x.kind) &&
    isCount(x.pid) &&
    optional(x.error_summary, isString) &&
    optional(x.duration_ms, isNonNegative)
  )
}

/** A well-formed `db-disconnect` row. */
export function isDbDisconnectRow(x: unknown): x is DbDisconnectRow {
  return (
    isObj(x) &&
    isTs(x.ts) &&
    oneOf(['postgres', 'pglite', 'unknown'])(x.engine_kind) &&
    oneOf(['module', 'instance', 'unknown'])(x.connection_style) &&
    Array.isArray(x.caller_stack) &&
    x.caller_stack.every(isString) &&
    isString(x.command) &&
    isCount(x.pid) &&
    optional(x.reason, isString)
  )
}

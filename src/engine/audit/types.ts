/**
 * Audit row formats, exactly as audit-formats.md describes them (gbrain-compatible: reading a
 * real gbrain audit directory works unchanged, and gbrain's doctor can read what we write).
 */

/** A parsed audit row, unvalidated (see the guards in guards.ts). */
export type AuditRow = Record<string, unknown>

/**
 * The features this codebase writes (the keys of {@link AuditRowMap}). gbrain also writes
 * `connection-events` files; nothing here reads their rows (prune lists them by file name only).
 */
export type WritableAuditFeature = keyof AuditRowMap

/**
 * `success` = a retry was **scheduled** (gbrain's name); `exhausted` = all attempts failed;
 * `recovered` (ours) = the batch landed after ≥ 1 retry.
 */
export type BatchRetryOutcome = 'success' | 'exhausted' | 'recovered'
export const BATCH_RETRY_OUTCOMES: readonly BatchRetryOutcome[] = ['success', 'exhausted', 'recovered']

/** `batch-retry`: one row per retry event of an engine batch write. */
export interface BatchRetryRow {
  /** ISO-8601 timestamp of the event. */
  ts: string
  /** The call site label. */
  site: string
  batch_size: number
  /** 1-based. On `exhausted` (ours): the true number of attempts made. */
  attempt: number
  outcome: BatchRetryOutcome
  /** The delay actually slept, in ms. */
  delay_ms: number
  error_message_summary: string
  /** SQLSTATE or driver code; omitted when none. */
  error_code?: string
  /** Ours, on `exhausted`: the rows went to the dead-letter spool. */
  spooled?: boolean
  /** Ours, on `exhausted` when spooled. */
  dead_letter_id?: string
}

export type PoolRecoveryKind = 'reap_detected' | 'reconnect_other' | 'reconnect_succeeded' | 'reconnect_failed'
export const POOL_RECOVERY_KINDS: readonly PoolRecoveryKind[] = [
  'reap_detected',
  'reconnect_other',
  'reconnect_succeeded',
  'reconnect_failed',
]

/** `pool-recovery`: one row per step of a reconnect. */
export interface PoolRecoveryRow {
  ts: string
  /** `reap_detected` when the trigger is a pooler reap (driver code `CONNECTION_ENDED`). */
  kind: PoolRecoveryKind
  pid: number
  error_summary?: string
  /** Ours, on the outcome rows. */
  duration_ms?: number
}

export type AuditEngineKind = 'postgres' | 'pglite' | 'unknown'
export type AuditConnectionStyle = 'module' | 'instance' | 'unknown'

/** `db-disconnect`: one row per `disconnect()`. */
export interface DbDisconnectRow {
  ts: string
  engine_kind: AuditEngineKind
  connection_style: AuditConnectionStyle
  /** At most 20 frames. */
  caller_stack: string[]
  /** `process.argv[2]`. */
  command: string
  pid: number
  /** Ours: `exit` for an ordinary end-of-command disconnect. */
  reason?: string
}

/** Row type per feature this codebase writes (`connection-events` files are only listed and pruned). */
export interface AuditRowMap {
  'batch-retry': BatchRetryRow
  'pool-recovery': PoolRecoveryRow
  'db-disconnect': DbDisconnectRow
}

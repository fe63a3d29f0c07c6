/**
 * The engine's public surface: what the rest of the code (checks, repair, commands, cli) may use.
 * Named exports only, so the surface is reviewable here. The drivers (postgres.js, PGlite) are not
 * in it: `open.ts` loads them lazily, so a command that never opens a database loads no driver.
 */
export {fastRetryRow} from './audit/fast-row.js'
export {isBatchRetryRow, isPoolRecoveryRow} from './audit/guards.js'
export {formatIsoWeek, weekEndsBefore} from './audit/iso-week.js'
export {listAuditFiles, scanWindow, type UnreadableFile, type WindowStats} from './audit/reader.js'
export {POOL_RECOVERY_KINDS, type AuditRow, type PoolRecoveryKind} from './audit/types.js'
export {worstCaseSleepMs} from './backoff.js'
export {BatchFailedError, type EngineEvent} from './base-engine.js'
export {NEXT_STEPS, classify, type Classified, type ErrorKind} from './classify.js'
export {parseDatabaseUrl, type ParsedDatabaseUrl} from './database-url.js'
export {resolvePaths, type BrainPaths} from './paths.js'
export {
  IN_FLIGHT_MS,
  inspectLock,
  lockDirOf,
  readLegacyLock,
  reapLock,
  reapable,
  type LegacyLock,
  type LockObservation,
} from './pglite/data-dir-lock.js'
export {lockNotice} from './pglite/lock-notice.js'
export {
  PGliteDataDirError,
  PGliteLockedError,
  describeLock,
  findOpenFailure,
  formatAge,
  holderLabel,
  type OpenCause,
  type OpenFix,
} from './pglite/open-errors.js'
export {ProcessStatePublisher, readProcessStates, type ReadProcessState} from './process-state.js'
export {DEFAULT_RETRY_POLICY, inspectRetryPolicy, type InspectedRetryPolicy, type RetryPolicyIssue} from './retry-policy.js'
export {RetryExhaustedError, withRetry} from './retry.js'
export {CorruptSpoolEntryError, DeadLetterSpool} from './spool/dead-letter.js'
export {LockedError} from './spool/lock.js'
export {prepareLedger, readLedger, type LedgerFacts} from './spool/loss-ledger.js'
export {replayDeadLetters} from './spool/replay.js'
export {type BatchWriter, type Engine, type Executor} from './types.js'

/**
 * Every fact a doctor check can need, by name, and how each is gathered. A check declares the
 * names it needs; the runner gathers each named fact once per run (shared by every check that
 * needs it) and hands the judges plain data. Gatherers take an abort signal and nothing a judge
 * decides with: thresholds are applied by the judges.
 */
import {type BrainPaths, inspectRetryPolicy, type InspectedRetryPolicy} from '../../engine/index.js'
import {gatherAuditFiles, type AuditFilesFacts} from './audit-files.js'
import {gatherBatchRetry, gatherPoolRecovery, type BatchRetryFacts, type PoolRecoveryFacts} from './audit-windows.js'
import type {ConnectionFacts, DbFacts, IdleTxFacts, LockFacts, SlotFacts, SourcesFacts} from './database.js'
import {gatherDisk, type DiskFacts} from './disk.js'
import {gatherProcesses, type ProcessFacts} from './processes.js'
import {gatherSpool, type SpoolFacts} from './spool.js'

export interface Facts {
  batchRetry: BatchRetryFacts
  poolRecovery: PoolRecoveryFacts
  spool: SpoolFacts
  processes: ProcessFacts
  auditFiles: AuditFilesFacts
  disk: DiskFacts
  /** The batch-write retry policy in effect, from the GBRAIN_BULK_* settings. */
  retryPolicy: InspectedRetryPolicy
  lock: LockFacts
  connection: ConnectionFacts
  sources: SourcesFacts
  slots: SlotFacts
  idleTransactions: IdleTxFacts
}

export type FactKey = keyof Facts

/** How each fact is gathered; `signal` aborts once every check waiting for it has given up. */
export type Gatherers<F = Facts> = {[K in keyof F]: (signal: AbortSignal) => Promise<F[K]>}

export type FileFactKey = 'batchRetry' | 'poolRecovery' | 'spool' | 'processes' | 'auditFiles' | 'disk' | 'retryPolicy'
export type DbFactKey = Exclude<FactKey, FileFactKey>

export interface FileGatherOptions {
  paths: BrainPaths
  /** The run's clock reading (ms since the epoch): every window ends here. */
  now: number
  env: NodeJS.ProcessEnv
}

/** The facts read from files (and the environment): no database involved. */
export function fileGatherers(o: FileGatherOptions): Gatherers<Pick<Facts, FileFactKey>> {
  const {paths, now} = o
  return {
    batchRetry: (signal) => gatherBatchRetry(paths.auditDir, now, signal),
    poolRecovery: (signal) => gatherPoolRecovery(paths.auditDir, now, signal),
    spool: (signal) => gatherSpool(paths.spoolDir, now, signal),
    processes: () => gatherProcesses(paths.runDir),
    auditFiles: (signal) => gatherAuditFiles(paths, now, signal),
    disk: () => gatherDisk(paths),
    retryPolicy: async () => inspectRetryPolicy(o.env),
  }
}

/** The facts the database gives, through the run's one read-only engine. */
export function dbGatherers(db: DbFacts): Gatherers<Pick<Facts, DbFactKey>> {
  return {
    // The connection and the lock are shared with the runner's gate: never cancelled by one check.
    connection: () => db.connection(),
    lock: () => db.lock(),
    sources: (signal) => db.sources(signal),
    slots: (signal) => db.slots(signal),
    idleTransactions: (signal) => db.idleTransactions(signal),
  }
}

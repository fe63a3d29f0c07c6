/**
 * The engine interface shared by the Postgres and PGlite engines, and the small data types the
 * rest of the tool sees. Nothing outside src/engine constructs a database client.
 */
import type {Classified} from './classify.js'

export type EngineKind = 'postgres' | 'pglite'

export interface QueryResult<T = Record<string, unknown>> {
  rows: T[]
  /** Rows affected (INSERT … ON CONFLICT DO NOTHING: rows actually inserted). */
  count: number
}

/** The one way engine users talk SQL: parameterised text, never string-built values. */
export interface Executor {
  /** With `signal`, an abort cancels the statement on the server where the engine can. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: {signal?: AbortSignal}): Promise<QueryResult<T>>
}

/**
 * A batch write that is safe to repeat: one atomic statement, deterministic row keys,
 * `ON CONFLICT DO NOTHING|UPDATE`. `target` names it in the dead-letter spool so a later
 * replay (another process) finds the same writer. Rows must survive a JSON round trip.
 */
export interface BatchWriter<R = unknown> {
  readonly target: string
  /** Returns the number of rows inserted (below rows.length means "already present"). */
  write(db: Executor, rows: readonly R[]): Promise<number>
}

export type EngineState = 'connected' | 'reconnecting' | 'broken' | 'closed'

/**
 * What a command's progress line shows (docs/cli.md, "Progress"): the database went away and
 * calls are being retried, a batch went to the dead-letter spool, calls land again after either.
 */
export type EngineEvent =
  | {type: 'retrying'; label: string; attempt: number; delayMs: number; kind: Classified['kind']; connectionLevel: boolean}
  | {type: 'spooled'; site: string; rows: number; spooledRows: number; kind: Classified['kind']; connectionLevel: boolean}
  | {type: 'recovered'}

export interface ClassifiedSummary {
  kind: Classified['kind']
  code?: string
  retryable: boolean
  message: string
  at: string
}

export interface HealthSnapshot {
  engine: EngineKind
  style: 'instance'
  state: EngineState
  connected_at: string | null
  last_ok_at: string | null
  last_error: ClassifiedSummary | null
  /** Since when calls have been failing (null when the last call succeeded). */
  failing_since: string | null
  consecutive_failures: number
  reconnects: {ok: number; failed: number}
  /** Increments on every successful swap; lets callers tell whether a pool was replaced. */
  generation: number
  pool_size: number
  prepare: boolean
}

export interface BatchOptions {
  signal?: AbortSignal
  /**
   * Override the policy's retries for this batch. A caller that just saw the database go away
   * (a batch spooled on a connection error) passes 0 so the rest of its work goes to the spool
   * after one attempt each instead of waiting out the whole budget batch after batch.
   */
  maxRetries?: number
}

export interface BatchOutcome {
  /** Rows the final statement inserted; fewer than sent means some were already present. */
  inserted: number
  attempts: number
}

export interface RunOptions {
  signal?: AbortSignal
  /** Override the batch retry policy's maxRetries for this call. */
  maxRetries?: number
}

export interface ReconnectOptions {
  /** The error that prompted the reconnect (audited, decides reap vs other). */
  error?: unknown
  /** Rebuild even when the current pool looks alive (a live-but-wedged pool). */
  force?: boolean
  /** Rebuild only if the pool is still this generation (someone else may have swapped it). */
  ifGeneration?: number
  /** Abort a rebuild that is waiting (e.g. for the embedded brain's lock); SIGTERM. */
  signal?: AbortSignal
}

export interface DisconnectOptions {
  reason?: string
  /** For good: the engine never opens again (a read-only run that is ending: the doctor). */
  final?: boolean
}

/** Counters since the engine was built. */
export interface EngineStats {
  batches: number
  retries: number
  spooled_batches: number
  spooled_rows: number
}

export interface Engine {
  readonly kind: EngineKind
  /** Build and validate a client, then publish it. Idempotent. */
  connect(): Promise<void>
  /** End what this handle owns, bounded and idempotent. A borrower only releases its handle. */
  disconnect(options?: DisconnectOptions): Promise<void>
  /** Build-then-swap, single flight. Rejects with the classified cause when the rebuild fails. */
  reconnect(options?: ReconnectOptions): Promise<void>
  /** One attempt under the engine's timer, re-establishing a missing client first. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: {signal?: AbortSignal}): Promise<QueryResult<T>>
  /** A non-batch call through the same retry + ensure-connected path as batches. */
  run<T>(label: string, fn: (db: Executor) => Promise<T>, options?: RunOptions): Promise<T>
  /** An idempotent batch write with retry, audit rows and the dead-letter spool. */
  batch<R>(site: string, rows: readonly R[], writer: BatchWriter<R>, options?: BatchOptions): Promise<BatchOutcome>
  health(): HealthSnapshot
  stats(): EngineStats
  /** Observe state changes (used by the process state publisher). Returns an unsubscribe. */
  onChange(listener: (health: HealthSnapshot) => void): () => void
  /** A handle for another component: same engine, but its disconnect() cannot close the pool. */
  borrow(): Engine
}

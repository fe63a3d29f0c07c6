/**
 * What both engines share: the lifecycle state machine (single-flight rebuild, every state change
 * through `transition`), the retried `run` path and the batch path (batch.ts), health
 * bookkeeping and observers. Subclasses supply how to get a live executor for an attempt and how
 * to rebuild (client-engine.ts for the real engines).
 *
 * Over 300 lines on purpose: the lifecycle, the retried access path and the health bookkeeping
 * are one state machine — an access path's failure triggers the single-flight rebuild on the
 * generation it ran on, and both feed the same health snapshot — so they share private state
 * that a split would have to expose. The batch path, audit rows and borrowed handles, which only
 * use that machine, live in batch.ts, lifecycle-rows.ts and borrow.ts.
 */
import type {AuditWriter} from './audit/index.js'
import {borrowEngine} from './borrow.js'
import {writeBatch, type BatchHost, type RetryHooks} from './batch.js'
import {classify, type Classified} from './classify.js'
import {systemClock, type Clock, type Rng} from '../shared/clock.js'
import {EngineClosedError} from './errors.js'
import {disconnectRow, reconnectEndRow, reconnectStartRow, type LifecycleRow} from './lifecycle-rows.js'
import {DEFAULT_RETRY_POLICY, type RetryPolicy} from './retry-policy.js'
import {DEFAULT_ATTEMPT_TIMEOUT_MS, RetryExhaustedError, withRetry, type ReconnectContext} from './retry.js'
import {DEFAULT_PROBE_INTERVAL_MS, type ReadinessProbe} from './probe-sleep.js'
import type {DeadLetterSpool} from './spool/dead-letter.js'
import {prepareLedger} from './spool/loss-ledger.js'
import type {
  BatchOptions,
  BatchOutcome,
  BatchWriter,
  DisconnectOptions,
  Engine,
  EngineEvent,
  EngineKind,
  EngineState,
  EngineStats,
  Executor,
  HealthSnapshot,
  QueryResult,
  ReconnectOptions,
  RunOptions,
} from './types.js'

/** What one rebuild knows, shared with the engine's half of it. */
export interface RebuildContext {
  started: number
  options: ReconnectOptions
  /** The error that prompted the rebuild, classified (undefined for a plain connect / force). */
  classified: Classified | undefined
  previousState: EngineState
  /** Whether a client was published when the rebuild began. */
  hadClient: boolean
  /** The engine's first connect: nothing published yet, nothing failed (no pool-recovery rows). */
  initial: boolean
}

/**
 * The engine's lifecycle as one value: `connected` since when, `reconnecting` since when and why,
 * `broken` (the last rebuild failed or the client was lost; the next call rebuilds) or `closed`.
 */
export type Lifecycle =
  | {state: 'connected'; since: number}
  | {state: 'reconnecting'; since: number; cause: Classified | undefined}
  | {state: 'broken'; since: number}
  | {state: 'closed'}

export interface BaseEngineOptions {
  retry?: RetryPolicy
  attemptTimeoutMs?: number
  audit?: AuditWriter | null
  spool?: DeadLetterSpool | null
  clock?: Clock
  rng?: Rng
  /** Told at once when calls start retrying, a batch goes to the spool, and calls land again. */
  onEvent?: (event: EngineEvent) => void
  /** Spacing of readiness probes during a backoff after a connection failure (default 100 ms). */
  probeIntervalMs?: number
}

export {BatchFailedError} from './batch-error.js'
export type {EngineEvent} from './types.js'
export type {LifecycleRow} from './lifecycle-rows.js'

export abstract class BaseEngine implements Engine {
  abstract readonly kind: EngineKind
  protected readonly clock: Clock
  protected readonly rng: Rng | undefined
  protected readonly retryPolicy: RetryPolicy
  protected readonly attemptTimeoutMs: number
  protected readonly probeIntervalMs: number
  readonly audit: AuditWriter | null
  readonly spool: DeadLetterSpool | null
  private ledgerReady: Promise<boolean> | undefined
  private ledgerMade = false

  /** Where the engine is in its lifecycle; changed only by {@link transition}. */
  private lifecycle: Lifecycle = {state: 'closed'}
  protected generation = 0
  /** When the engine last became connected (kept through later states, for the health snapshot). */
  private connectedAt: number | null = null
  private lastOkAt: number | null = null
  private lastError: HealthSnapshot['last_error'] = null
  private failingSince: number | null = null
  private consecutiveFailures = 0
  protected reconnects = {ok: 0, failed: 0}
  private listeners = new Set<(h: HealthSnapshot) => void>()
  private counters: EngineStats = {batches: 0, retries: 0, spooled_batches: 0, spooled_rows: 0}
  private readonly onEvent: ((event: EngineEvent) => void) | undefined
  /** A retrying or spooled event was told and no call has landed since. */
  private troubled = false

  constructor(options: BaseEngineOptions) {
    this.clock = options.clock ?? systemClock
    this.rng = options.rng
    this.retryPolicy = options.retry ?? {...DEFAULT_RETRY_POLICY}
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS
    this.probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS
    this.audit = options.audit ?? null
    this.spool = options.spool ?? null
    this.onEvent = options.onEvent
  }

  abstract disconnect(options?: DisconnectOptions): Promise<void>
  /** Whether a live client (pool or instance) is published. */
  protected abstract hasClient(): boolean
  /**
   * The engine-specific half of a rebuild: build (or reopen) and prove a client, then publish it
   * in place of the old one. Throws when no client could be built.
   */
  protected abstract replaceClient(ctx: RebuildContext): Promise<void>
  /**
   * Tidy up after `replaceClient` failed and move to `broken` (or `closed`), writing the
   * `reconnect_failed` row unless `ctx.initial` ({@link reconnectEndRow}).
   */
  protected abstract afterFailedRebuild(error: unknown, ctx: RebuildContext): Promise<void>
  /** Asks whether the server accepts connections again, to end a backoff early (none: PGlite). */
  protected readinessProbe(): ReadinessProbe | undefined {
    return undefined
  }

  private inflight: Promise<void> | null = null
  /** Set by `disconnect({final: true})`: no self-healing reopen after that. */
  protected closedForGood = false

  /** The rebuild in flight, if any (disconnect waits for it). */
  protected get rebuilding(): Promise<void> | null {
    return this.inflight
  }

  /** The lifecycle state (the health snapshot's `state`). */
  protected get state(): EngineState {
    return this.lifecycle.state
  }

  /**
   * The one place the lifecycle changes: the new state, the health snapshot told to observers
   * when the state changed, and the audit row that belongs to the step. The row is written after
   * the change, in call order (the returned promise resolves once it is written) — or, with
   * `rowFirst`, written and awaited before the change (a disconnect is recorded before the
   * engine closes, as it always was). Resolves to the state that was left.
   */
  protected transition(next: Lifecycle, row?: LifecycleRow, order: {rowFirst?: boolean} = {}): Promise<EngineState> {
    if (order.rowFirst && row) return this.writeRow(row).then(() => this.enter(next))
    const left = this.enter(next)
    return row ? this.writeRow(row).then(() => left) : Promise.resolve(left)
  }

  private enter(next: Lifecycle): EngineState {
    const left = this.lifecycle.state
    this.lifecycle = next
    if (next.state === 'connected') this.connectedAt = next.since
    if (next.state !== left) this.emit()
    return left
  }

  private async writeRow(row: LifecycleRow): Promise<void> {
    if (row.feature === 'pool-recovery') await this.audit?.append('pool-recovery', row.row)
    else await this.audit?.append('db-disconnect', row.row)
  }

  /** Build and validate a client, then publish it. Idempotent. */
  async connect(): Promise<void> {
    if (this.hasClient()) return
    await this.reconnect({})
  }

  /**
   * Single flight: concurrent callers share the rebuild in flight. Without `force`, a live
   * client is kept when the caller's failure was on an older generation (someone already swapped
   * it) or when nothing failed at all (`reconnect()` means "ensure connected").
   */
  async reconnect(options: ReconnectOptions = {}): Promise<void> {
    if (this.closedForGood) throw new EngineClosedError()
    if (this.inflight) return this.inflight
    if (!options.force && this.hasClient()) {
      if (options.ifGeneration !== undefined && options.ifGeneration !== this.generation) return
      if (options.ifGeneration === undefined && options.error === undefined) return
    }
    this.inflight = this.rebuild(options).finally(() => {
      this.inflight = null
    })
    return this.inflight
  }

  /**
   * One rebuild: state and audit rows around the engine's `replaceClient`. The first connect of
   * an engine (nothing published yet, nothing failed) writes no pool-recovery rows.
   */
  private async rebuild(options: ReconnectOptions): Promise<void> {
    const hadClient = this.hasClient()
    const ctx: RebuildContext = {
      started: this.clock.now(),
      options,
      classified: options.error === undefined ? undefined : classify(options.error),
      previousState: this.state,
      hadClient,
      initial: !hadClient && this.generation === 0 && options.error === undefined,
    }
    const entered = this.transition(
      {state: 'reconnecting', since: ctx.started, cause: ctx.classified},
      ctx.initial ? undefined : reconnectStartRow(ctx),
    )
    if (!ctx.initial) await entered
    try {
      await this.replaceClient(ctx)
    } catch (e) {
      if (!ctx.initial) this.reconnects.failed += 1
      this.noteFailure(e)
      await this.afterFailedRebuild(e, ctx)
      throw e
    }
    this.generation += 1
    if (!ctx.initial) this.reconnects.ok += 1
    const written = this.transition(
      {state: 'connected', since: this.clock.now()},
      ctx.initial ? undefined : reconnectEndRow(this.clock, ctx.started),
    )
    this.noteOk()
    await written
  }

  /** A borrower released its handle: the `db-disconnect` row, and nothing closes. */
  async recordDisconnect(reason: string | undefined): Promise<void> {
    await this.audit?.append('db-disconnect', disconnectRow(this.clock, this.kind, reason).row)
  }
  protected abstract poolSize(): number
  protected abstract prepareEnabled(): boolean
  /** A live executor for one attempt (ensure-connected), and the pool generation it belongs to. */
  protected abstract acquire(signal?: AbortSignal): Promise<{db: Executor; generation: number}>

  // ---------------------------------------------------------------- health bookkeeping

  health(): HealthSnapshot {
    const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString())
    return {
      engine: this.kind,
      style: 'instance',
      state: this.state,
      connected_at: iso(this.connectedAt),
      last_ok_at: iso(this.lastOkAt),
      last_error: this.lastError,
      failing_since: iso(this.failingSince),
      consecutive_failures: this.consecutiveFailures,
      reconnects: {...this.reconnects},
      generation: this.generation,
      pool_size: this.poolSize(),
      prepare: this.prepareEnabled(),
    }
  }

  stats(): EngineStats {
    return {...this.counters}
  }

  onChange(listener: (h: HealthSnapshot) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  protected emit(): void {
    const snapshot = this.health()
    for (const l of this.listeners) {
      try {
        l(snapshot)
      } catch {
        // An observer must never break the engine.
      }
    }
  }

  /** Tell the event observer (never breaking the engine); `recovered` only after trouble was told. */
  private tell(event: EngineEvent): void {
    if (event.type === 'recovered' && !this.troubled) return
    this.troubled = event.type !== 'recovered'
    try {
      this.onEvent?.(event)
    } catch {
      // An observer must never break the engine.
    }
  }

  protected noteOk(): void {
    const wasFailing = this.consecutiveFailures > 0
    this.lastOkAt = this.clock.now()
    this.consecutiveFailures = 0
    this.failingSince = null
    if (this.state === 'broken') void this.transition({state: 'connected', since: this.lastOkAt})
    else if (wasFailing) this.emit()
  }

  protected noteFailure(error: unknown, classified: Classified = classify(error)): void {
    if (classified.kind === 'aborted') return
    this.lastError = {
      kind: classified.kind,
      code: classified.code,
      retryable: classified.retryable,
      message: classified.message,
      at: new Date(this.clock.now()).toISOString(),
    }
    if (classified.connectionLevel) {
      this.consecutiveFailures += 1
      this.failingSince ??= this.clock.now()
    }
    this.emit()
  }

  // ---------------------------------------------------------------- access paths

  async query<T = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options: {signal?: AbortSignal} = {},
  ): Promise<QueryResult<T>> {
    return this.run(text.slice(0, 40), (db) => db.query<T>(text, params), {signal: options.signal, maxRetries: 0})
  }

  async run<T>(label: string, fn: (db: Executor) => Promise<T>, options: RunOptions = {}): Promise<T> {
    return this.retrying(label, fn, options.signal, options.maxRetries ?? this.retryPolicy.maxRetries, undefined)
  }

  private retrying<T>(
    label: string,
    fn: (db: Executor) => Promise<T>,
    signal: AbortSignal | undefined,
    maxRetries: number,
    hooks: RetryHooks | undefined,
  ): Promise<T> {
    let generation = -1
    return withRetry(
      async ({attempt, signal: attemptSignal}) => {
        hooks?.onAttempt?.(attempt)
        const acquired = await this.acquire(signal)
        generation = acquired.generation
        try {
          // The attempt's signal (its timeout, or the caller's abort) cancels the statement on the server.
          const result = await fn(withAttemptSignal(acquired.db, attemptSignal))
          this.noteOk()
          // A call landed: only that ends the trouble (a rebuilt pool alone proves little).
          this.tell({type: 'recovered'})
          return result
        } catch (e) {
          this.noteFailure(e)
          throw e
        }
      },
      {
        // Named, not spread: an object literal that spreads and then adds a dozen properties cost
        // ~20 µs a call (a CPU profile of engine.batch), a measurable share of a small batch.
        baseMs: this.retryPolicy.baseMs,
        maxMs: this.retryPolicy.maxMs,
        jitter: this.retryPolicy.jitter,
        maxRetries,
        signal,
        label,
        attemptTimeoutMs: this.attemptTimeoutMs,
        clock: this.clock,
        rng: this.rng,
        onRetry: async (ev) => {
          this.counters.retries += 1
          this.tell({
            type: 'retrying',
            label,
            attempt: ev.attempt + 1,
            delayMs: ev.delayMs,
            kind: ev.classified.kind,
            connectionLevel: ev.classified.connectionLevel,
          })
          await hooks?.onRetry?.(ev)
        },
        reconnect: (ctx) => this.reconnectFor(ctx, generation),
        probe: this.readinessProbe(),
        probeIntervalMs: this.probeIntervalMs,
      },
    ).catch((e: unknown) => {
      // Timeouts and failed reconnects never reached noteFailure inside the attempt.
      if (e instanceof RetryExhaustedError) this.noteFailure(e.lastError, e.classified)
      throw e
    })
  }

  /** The retry loop's reconnect hook: swap the pool the failed attempt ran on, once. */
  protected async reconnectFor(ctx: ReconnectContext, generation: number): Promise<void> {
    if (!ctx.classified.connectionLevel) return
    await this.reconnect({error: ctx.error, ifGeneration: generation})
  }

  async batch<R>(site: string, rows: readonly R[], writer: BatchWriter<R>, options: BatchOptions = {}): Promise<BatchOutcome> {
    this.counters.batches += 1
    // The loss ledger is made while there is room, before the first batch (loss-ledger.ts).
    if (this.spool && !this.ledgerMade) await (this.ledgerReady ??= prepareLedger(this.spool.dir).finally(() => (this.ledgerMade = true)))
    return writeBatch(this.batchHost, site, rows, writer, options.signal, options.maxRetries ?? this.retryPolicy.maxRetries)
  }

  private host: BatchHost | undefined
  /** What the batch path sees of the engine (made once, not per batch). */
  private get batchHost(): BatchHost {
    return (this.host ??= {
      clock: this.clock,
      audit: this.audit,
      spool: this.spool,
      counters: this.counters,
      retrying: (label, fn, signal, maxRetries, hooks) => this.retrying(label, fn, signal, maxRetries, hooks),
      tell: (event) => this.tell(event),
    })
  }

  borrow(): Engine {
    return borrowEngine(this)
  }
}

/** An executor whose statements are also cancelled when `signal` aborts (an attempt's timeout). */
function withAttemptSignal(db: Executor, signal: AbortSignal): Executor {
  return {
    query: (text, params, options = {}) =>
      db.query(text, params, {signal: options.signal ? AbortSignal.any([signal, options.signal]) : signal}),
  }
}

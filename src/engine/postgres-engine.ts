/**
 * The Postgres engine on postgres.js 3.4.9.
 *
 * - connect: build a pool, prove it with `SELECT 1` under our own timer, only then publish it;
 *   a candidate that fails is ended (bounded) and never published.
 * - reconnect: build-then-swap, single flight. The new pool is built and proven in a local
 *   variable; only then is it swapped in and the old one ended (bounded). On failure the
 *   candidate is ended and the old pool stays, so the engine keeps working and heals on the next
 *   call. A fresh pool answers in ~30 ms after a restart where the old one takes 1.4–11.7 s and
 *   then fails with a stale 57P01 (postgres-driver.md §1.4).
 * - readiness probe: while a retry sleeps its backoff after a connection failure, a raw startup
 *   packet every 100 ms (readiness-probe.ts), one per engine (shared-probe.ts), ends the sleep
 *   once the server accepts sessions.
 * - every call runs under the engine's own timer; `fetch_types: false` (its async startup query
 *   can crash the process behind a pooler); no `reserve()` and no `sql.begin` for batches.
 */
import net from 'node:net'
import postgres from 'postgres'
import {withTimer} from '../shared/clock.js'
import {parseDatabaseUrl, type ParsedDatabaseUrl} from './database-url.js'
import {AttemptTimeoutError} from './errors.js'
import type {BaseEngineOptions, RebuildContext} from './base-engine.js'
import {ClientEngine, type ClosedBy} from './client-engine.js'
import type {ReadinessProbe} from './probe-sleep.js'
import {probePostgres, probeTargetFor} from './readiness-probe.js'
import {sharedProbe} from './shared-probe.js'
import type {Executor, QueryResult} from './types.js'

type Sql = postgres.Sql<Record<string, never>>

export interface PostgresEngineOptions extends BaseEngineOptions {
  url: string
  /** Pool size per pool (GBRAIN_POOL_SIZE, default 10). */
  poolSize?: number
  /** Overrides the URL / GBRAIN_PREPARE / port-6543 decision. */
  prepare?: boolean
  /** Tags every session of every pool this engine builds (tests and the doctor find them). */
  applicationName?: string
  /** Our timer on connect + validate (default 5000 ms). */
  connectTimeoutMs?: number
  /** Bound on ending a pool (default 2000 ms); `end()` can hang behind a pooler. */
  endTimeoutMs?: number
  env?: NodeJS.ProcessEnv
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000
const DEFAULT_END_TIMEOUT_MS = 2000
/** Sockets a validation probe may open before the startup loop (#1193) is declared. */
const STARTUP_STORM_SOCKETS = 3
/** Bound on one readiness probe (a silent listener); our connect timer when that is shorter. */
const PROBE_TIMEOUT_MS = 1000

export class PostgresEngine extends ClientEngine<Sql> {
  readonly kind = 'postgres' as const
  readonly target: ParsedDatabaseUrl
  readonly applicationName: string
  private readonly size: number
  private readonly prepare: boolean
  private readonly connectTimeoutMs: number
  private readonly endTimeoutMs: number
  /** Pools being ended; close() waits for them so nothing outlives the engine. */
  private retiring = new Set<Promise<void>>()
  private builds = 0
  private readonly probe: ReadinessProbe

  constructor(options: PostgresEngineOptions) {
    super(options)
    const env = options.env ?? process.env
    this.target = parseDatabaseUrl(options.url, env)
    this.size = options.poolSize ?? 10
    this.prepare = options.prepare ?? this.target.prepare.value
    this.applicationName = options.applicationName ?? `gbrain-${process.pid}`
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    this.endTimeoutMs = options.endTimeoutMs ?? DEFAULT_END_TIMEOUT_MS
    const probeTarget = probeTargetFor(this.target.clientUrl, env)
    const probeTimeoutMs = Math.min(this.connectTimeoutMs, PROBE_TIMEOUT_MS)
    // One probe per interval for the whole engine, however many calls are sleeping a backoff.
    this.probe = sharedProbe((signal) => probePostgres(probeTarget, signal, this.clock, probeTimeoutMs), this.clock, this.probeIntervalMs)
  }

  protected override readinessProbe(): ReadinessProbe {
    return this.probe
  }

  protected poolSize(): number {
    return this.size
  }

  protected prepareEnabled(): boolean {
    return this.prepare
  }

  /** How many pools this engine has built (tests assert single flight with it). */
  get poolsBuilt(): number {
    return this.builds
  }

  /**
   * `onSocket` is told of every socket the pool opens. postgres.js 3.4.9 reconnects with zero
   * delay when the server closes a socket during startup (#1193: ~650 connects/s, and the query
   * never settles), and its `onclose` hook is not called on that path: counting sockets is the
   * only way to see the loop from outside.
   */
  private buildClient(onSocket?: () => void): Sql {
    this.builds += 1
    return postgres(this.target.clientUrl, {
      ...(onSocket
        ? {
            socket: (o: {host: string[]; port: number[]; path?: string}) => {
              onSocket()
              const s = o.path ? net.connect({path: o.path}) : net.connect({host: o.host[0]!, port: o.port[0] ?? 5432})
              Object.assign(s, {host: o.path ? undefined : o.host[0], port: o.port[0]})
              return s
            },
          }
        : {}),
      max: this.size,
      prepare: this.prepare,
      fetch_types: false,
      // The driver's own connect timer is a backstop; ours (connectTimeoutMs) fires first.
      connect_timeout: Math.ceil(this.connectTimeoutMs / 1000) + 1,
      connection: {application_name: this.applicationName},
      onnotice: () => {},
    })
  }

  /** Build a pool and prove it; never returns an unvalidated client. */
  private async buildValidated(): Promise<Sql> {
    // A probe needs one socket. More than a few means the server (or a pooler / proxy in front
    // of it) closes new connections during startup and postgres.js is looping: fail the probe
    // now instead of letting the loop run until our timer, and end the candidate (which stops it).
    let storm!: (e: Error) => void
    const stormed = new Promise<never>((_, reject) => (storm = reject))
    stormed.catch(() => {})
    let opened = 0
    const candidate = this.buildClient(() => {
      opened += 1
      if (opened === STARTUP_STORM_SOCKETS + 1) {
        storm(
          Object.assign(
            new Error(
              `the server closed ${STARTUP_STORM_SOCKETS} new connections during startup (connection closed by a pooler, proxy or server)`,
            ),
            {code: 'CONNECTION_CLOSED'},
          ),
        )
      }
    })
    try {
      await withTimer(
        this.clock,
        Promise.race([candidate.unsafe('select 1'), stormed]),
        this.connectTimeoutMs,
        () => new AttemptTimeoutError(this.connectTimeoutMs, 'connect'),
      )
      return candidate
    } catch (e) {
      void this.retire(candidate, 0)
      throw e
    }
  }

  /** End a pool in the background, bounded: sockets are destroyed after `seconds`. */
  private retire(sql: Sql, seconds = this.endTimeoutMs / 1000): Promise<void> {
    const ending = withTimer(
      this.clock,
      Promise.resolve(sql.end({timeout: seconds})),
      seconds * 1000 + 1000,
      () => new Error('end() did not settle'),
    )
      .catch(() => {})
      .finally(() => this.retiring.delete(ending))
    this.retiring.add(ending)
    return ending
  }

  /** Build-then-swap: the candidate is proven before it replaces the old pool. */
  protected async replaceClient(): Promise<void> {
    this.publish(await this.buildValidated())
  }

  protected override discardAfterFailedRebuild(ctx: RebuildContext): void {
    // A call timed out on the current pool and no replacement could be built. Its statement
    // may still be queued (PgBouncer holds it while the server is down and runs it when the
    // server returns: a write the caller was told failed, and whose rows are in the spool).
    // Only closing the connection drops it (a CancelRequest does not, in PgBouncer 1.18), so
    // end that pool now; the next call rebuilds from the saved config (ensure-connected).
    const {options} = ctx
    if (
      ctx.classified?.code === 'ATTEMPT_TIMEOUT' &&
      this.client &&
      (options.ifGeneration === undefined || options.ifGeneration === this.generation)
    ) {
      this.unpublish()
    }
  }

  protected executorFor(sql: Sql): Executor {
    return executorFor(sql)
  }

  /** A healthy pool gets the end timeout to finish what is in flight; any other is destroyed at once. */
  protected endClient(sql: Sql, healthy: boolean): void {
    void this.retire(sql, healthy ? undefined : 0)
  }

  protected async afterClosed(by: ClosedBy): Promise<void> {
    if (by === 'disconnect') await Promise.all([...this.retiring])
  }
}

/** The shared Executor over postgres.js: parameterised text via `unsafe`, no type fetch. */
function executorFor(sql: Sql): Executor {
  return {
    async query<T>(text: string, params: readonly unknown[] = [], options: {signal?: AbortSignal} = {}): Promise<QueryResult<T>> {
      const q = sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])
      const {signal} = options
      // A hung statement (e.g. blocked on a lock) is cancelled on the server when the caller gives up.
      const onAbort = (): void => void Promise.resolve(q.cancel()).catch(() => {})
      if (signal?.aborted) onAbort()
      signal?.addEventListener('abort', onAbort, {once: true})
      try {
        const result = await q
        return {rows: [...result] as unknown as T[], count: result.count ?? result.length}
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },
  }
}

/**
 * Build the engine for a resolved target with everything wired: the audit writer, the
 * dead-letter spool, the retry policy from GBRAIN_BULK_* and the pool size from
 * GBRAIN_POOL_SIZE (both validated: a bad value is a ConfigError with the fix). Engine modules
 * are imported lazily so commands that never touch a database load no driver.
 */
import {AuditWriter} from './audit/writer.js'
import {systemClock, type Clock} from '../shared/clock.js'
import {ConfigError} from '../shared/errors.js'
import {loadRetryPolicy} from './retry-policy.js'
import {DeadLetterSpool} from './spool/dead-letter.js'
import type {EngineEvent} from './base-engine.js'
import type {PGliteLockOptions} from './pglite-engine.js'
import type {Engine} from './types.js'

/**
 * What the engine needs of a resolved target, as plain data. The config layer's
 * `ResolvedTarget` has this shape; the engine does not import config/ (config imports the
 * engine's URL parsing and paths, so the other direction would be a cycle).
 */
export type EngineTarget =
  | {engine: 'postgres'; url: {clientUrl: string}; paths: {auditDir: string; spoolDir: string}}
  | {engine: 'pglite'; dataDir: string; paths: {auditDir: string; spoolDir: string}}

export interface OpenOptions {
  /** Time for the engine and its audit writer (tests pass a fake clock). */
  clock?: Clock
  env?: NodeJS.ProcessEnv
  applicationName?: string
  connectTimeoutMs?: number
  attemptTimeoutMs?: number
  /** Embedded: create the data dir when there is none (only `init` does; default false). */
  createIfMissing?: boolean
  /** The embedded brain's lock: wait, reap, events (ignored for Postgres). */
  lock?: PGliteLockOptions
  /** Retrying, spooling, landing again: for a command's progress line. */
  onEvent?: (event: EngineEvent) => void
}

/** The bundled CLI's loader hands in its `import` for the embedded drivers (bin/load.js). */
export {setDriverImporter} from './pglite/driver-import.js'

export function poolSizeFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.GBRAIN_POOL_SIZE
  if (raw === undefined || raw.trim() === '') return 10
  if (!/^\d{1,4}$/.test(raw.trim()) || Number(raw) < 1) {
    throw new ConfigError(`GBRAIN_POOL_SIZE must be an integer ≥ 1, got ${JSON.stringify(raw)}`, 'export GBRAIN_POOL_SIZE=10')
  }
  return Number(raw)
}

export async function openEngine(target: EngineTarget, options: OpenOptions = {}): Promise<Engine> {
  const env = options.env ?? process.env
  // Validated for every engine: a bad value is refused the same way whatever the target
  // (PGlite has one session and no pool, so it does not use the value).
  const poolSize = poolSizeFromEnv(env)
  const clock = options.clock ?? systemClock
  const common = {
    clock,
    retry: loadRetryPolicy(env),
    audit: new AuditWriter({dir: target.paths.auditDir, clock}),
    spool: new DeadLetterSpool(target.paths.spoolDir),
    ...(options.attemptTimeoutMs !== undefined ? {attemptTimeoutMs: options.attemptTimeoutMs} : {}),
    ...(options.onEvent ? {onEvent: options.onEvent} : {}),
  }
  if (target.engine === 'postgres') {
    const {PostgresEngine} = await import('./postgres-engine.js')
    return new PostgresEngine({
      ...common,
      url: target.url.clientUrl,
      env,
      poolSize,
      ...(options.applicationName ? {applicationName: options.applicationName} : {}),
      ...(options.connectTimeoutMs !== undefined ? {connectTimeoutMs: options.connectTimeoutMs} : {}),
    })
  }
  const {PGliteEngine} = await import('./pglite-engine.js')
  return new PGliteEngine({
    ...common,
    dataDir: target.dataDir,
    createIfMissing: options.createIfMissing ?? false,
    ...(options.lock ? {lock: options.lock} : {}),
  })
}

/** The embedded driver's engine class, loaded on first use (for a caller with its own options: the doctor's probe). */
export async function loadPGliteEngine(): Promise<typeof import('./pglite-engine.js').PGliteEngine> {
  return (await import('./pglite-engine.js')).PGliteEngine
}

/** The Postgres driver's engine class, loaded on first use. */
export async function loadPostgresEngine(): Promise<typeof import('./postgres-engine.js').PostgresEngine> {
  return (await import('./postgres-engine.js')).PostgresEngine
}

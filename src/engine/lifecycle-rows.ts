/**
 * The audit rows the engine's lifecycle writes (audit-formats.md): `pool-recovery` around each
 * rebuild (reap vs other, outcome and duration) and `db-disconnect` for each disconnect, with the
 * caller's stack. Built here; written by the base engine's `transition`.
 */
import type {DbDisconnectRow, PoolRecoveryRow} from './audit/index.js'
import type {Classified} from './classify.js'
import type {Clock} from '../shared/clock.js'
import {summarizeError} from '../shared/redact.js'
import type {EngineKind, ReconnectOptions} from './types.js'

/** The audit row a lifecycle step writes. */
export type LifecycleRow = {feature: 'pool-recovery'; row: PoolRecoveryRow} | {feature: 'db-disconnect'; row: DbDisconnectRow}

/** The `pool-recovery` row that opens a reconnect (reap when the driver says CONNECTION_ENDED). */
export function reconnectStartRow(ctx: {started: number; options: ReconnectOptions; classified: Classified | undefined}): LifecycleRow {
  const c = ctx.classified
  return {
    feature: 'pool-recovery',
    row: {
      ts: new Date(ctx.started).toISOString(),
      kind: c?.code === 'CONNECTION_ENDED' ? 'reap_detected' : 'reconnect_other',
      pid: process.pid,
      ...(c ? {error_summary: c.message} : ctx.options.force ? {error_summary: 'forced reconnect'} : {}),
    },
  }
}

/** The `pool-recovery` row that closes a reconnect, with its duration. */
export function reconnectEndRow(clock: Clock, started: number, error?: unknown): LifecycleRow {
  return {
    feature: 'pool-recovery',
    row: {
      ts: new Date(clock.now()).toISOString(),
      kind: error === undefined ? 'reconnect_succeeded' : 'reconnect_failed',
      pid: process.pid,
      ...(error === undefined ? {} : {error_summary: summarizeError(error)}),
      duration_ms: Math.round(clock.now() - started),
    },
  }
}

/** The `db-disconnect` row (reason `exit` marks an ordinary end of command). */
export function disconnectRow(
  clock: Clock,
  kind: EngineKind,
  reason: string | undefined,
): {feature: 'db-disconnect'; row: DbDisconnectRow} {
  return {
    feature: 'db-disconnect',
    row: {
      ts: new Date(clock.now()).toISOString(),
      engine_kind: kind,
      connection_style: 'instance',
      caller_stack: callerStack(),
      command: process.argv[2] ?? '',
      pid: process.pid,
      ...(reason ? {reason} : {}),
    },
  }
}

/** Up to 20 frames of the caller's stack, for `db-disconnect` rows. */
export function callerStack(): string[] {
  const stack = new Error('stack').stack ?? ''
  return stack
    .split('\n')
    .slice(2)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at '))
    .slice(0, 20)
}

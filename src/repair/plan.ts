/**
 * What repair would do now, derived from a doctor run's structured details (never its prose),
 * read through the checks' own detail types and the same pool rule `--reconnect` acts on.
 */
import {detailsOf} from '../checks/details.js'
import {poolNeedsReconnect} from '../checks/pool-health.js'
import type {Report} from '../checks/types.js'
import type {ActionName} from './types.js'
import {plural} from '../shared/plural.js'

export interface PlannedRepair {
  action: ActionName
  because: string
  command: string
}

/** Live engine processes whose pool needs a reconnect (the rule `--reconnect` acts on). */
export function liveNeedingReconnect(checks: Report['checks']): number {
  return (detailsOf(checks, 'engine_processes').processes ?? []).filter(
    (p) =>
      p.alive !== false &&
      poolNeedsReconnect({
        state: p.state ?? null,
        consecutive_failures: p.consecutive_failures ?? null,
        failing: (p.failing_for_s ?? null) !== null,
      }),
  ).length
}

export function planRepairs(report: Report): PlannedRepair[] {
  const checks = report.checks
  const plan: PlannedRepair[] = []
  const lock = detailsOf(checks, 'pglite_lock')
  if (lock.state === 'abandoned' || (lock.state === 'held' && lock.alive === false)) {
    plan.push({
      action: 'unlock',
      because:
        lock.state === 'abandoned'
          ? 'an abandoned lock directory on the embedded brain'
          : `a lock left by dead pid ${String(lock.pid)}${lock.subcommand ? ` (gbrain ${lock.subcommand})` : ''}`,
      command: 'gbrain repair --unlock',
    })
  }
  const conn = checks.find((c) => c.name === 'connection')
  const procs = detailsOf(checks, 'engine_processes')
  const needsReconnect = liveNeedingReconnect(checks)
  // A brain that cannot be opened for what it is (wrong major, damaged) is not healed by reconnecting.
  const connCause = detailsOf(checks, 'connection').cause ?? 'unreachable'
  const connFails = conn?.status === 'fail' && !['wrong_major', 'damaged', 'missing'].includes(connCause)
  if (connFails || (procs.failing?.length ?? 0) > 0 || (procs.stale?.length ?? 0) > 0 || needsReconnect > 0) {
    const why = [
      connFails ? `connection fails (${connCause})` : '',
      procs.failing?.length ? `${plural(procs.failing.length, 'live process', 'live processes')} with a failing pool` : '',
      procs.stale?.length ? `${plural(procs.stale.length, 'stale process state file')}` : '',
    ].filter(Boolean)
    plan.push({
      action: 'reconnect',
      because: why.join('; ') || 'a live process reports a broken pool',
      command: 'gbrain repair --reconnect',
    })
  }
  const dl = detailsOf(checks, 'dead_letter')
  if ((dl.entries ?? 0) > 0) {
    plan.push({
      action: 'replay',
      because: `${plural(dl.entries ?? 0, 'dead-letter entry', 'dead-letter entries')} (${dl.rows ?? 0} rows) waiting`,
      command: 'gbrain repair --replay',
    })
  }
  const expired = detailsOf(checks, 'audit_log').expired_files ?? []
  if (expired.length > 0) {
    plan.push({
      action: 'prune-audit',
      because: `${plural(expired.length, 'audit file')} older than the retention`,
      command: 'gbrain repair --prune-audit --older-than 30d',
    })
  }
  return plan
}

/**
 * What repair would do now, derived from a doctor run's structured details (never its prose).
 */
import type {Report} from '../checks/types.js'
import type {ActionName} from './types.js'
import {plural} from '../engine/plural.js'

export interface PlannedRepair {
  action: ActionName
  because: string
  command: string
}

export function planRepairs(report: Report): PlannedRepair[] {
  const by = new Map(report.checks.map((c) => [c.name, c]))
  const plan: PlannedRepair[] = []
  const lock = by.get('pglite_lock')
  const lockDetails = (lock?.details ?? {}) as {state?: string; alive?: boolean; pid?: unknown; subcommand?: string | null}
  if (lockDetails.state === 'abandoned' || (lockDetails.state === 'held' && lockDetails.alive === false)) {
    plan.push({
      action: 'unlock',
      because: lockDetails.state === 'abandoned' ? 'an abandoned lock directory on the embedded brain' : `a lock left by dead pid ${String(lockDetails.pid)}${lockDetails.subcommand ? ` (gbrain ${lockDetails.subcommand})` : ''}`,
      command: 'gbrain repair --unlock',
    })
  }
  const conn = by.get('connection')
  const procs = by.get('engine_processes')
  const procDetails = (procs?.details ?? {}) as {failing?: unknown[]; stale?: unknown[]; processes?: {state?: string | null; consecutive_failures?: number | null; alive?: boolean}[]}
  const brokenLive = (procDetails.processes ?? []).filter((p) => p.alive !== false && ((p.consecutive_failures ?? 0) > 0 || p.state === 'broken')).length
  // A brain that cannot be opened for what it is (wrong major, damaged) is not healed by reconnecting.
  const connCause = String((conn?.details as {cause?: string} | undefined)?.cause ?? 'unreachable')
  const connFails = conn?.status === 'fail' && !['wrong_major', 'damaged', 'missing'].includes(connCause)
  if (connFails || (procDetails.failing?.length ?? 0) > 0 || (procDetails.stale?.length ?? 0) > 0 || brokenLive > 0) {
    const why = [
      connFails ? `connection fails (${connCause})` : '',
      procDetails.failing?.length ? `${plural(procDetails.failing.length, 'live process', 'live processes')} with a failing pool` : '',
      procDetails.stale?.length ? `${plural(procDetails.stale.length, 'stale process state file')}` : '',
    ].filter(Boolean)
    plan.push({action: 'reconnect', because: why.join('; ') || 'a live process reports a broken pool', command: 'gbrain repair --reconnect'})
  }
  const dl = by.get('dead_letter')
  const dlDetails = (dl?.details ?? {}) as {entries?: number; rows?: number}
  if ((dlDetails.entries ?? 0) > 0) {
    plan.push({action: 'replay', because: `${plural(dlDetails.entries ?? 0, 'dead-letter entry', 'dead-letter entries')} (${dlDetails.rows ?? 0} rows) waiting`, command: 'gbrain repair --replay'})
  }
  const audit = by.get('audit_log')
  const expired = ((audit?.details ?? {}) as {expired_files?: unknown[]}).expired_files ?? []
  if (expired.length > 0) {
    plan.push({action: 'prune-audit', because: `${plural(expired.length, 'audit file')} older than the retention`, command: 'gbrain repair --prune-audit --older-than 30d'})
  }
  return plan
}

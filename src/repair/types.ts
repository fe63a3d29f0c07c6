/** The repair vocabulary: per action `{name, status, detail}` (cli.md). */
import type {Clock} from '../shared/clock.js'
import type {ProgressCounts} from '../shared/counts.js'

export type ActionName = 'unlock' | 'reconnect' | 'replay' | 'prune-audit'

/** Every action, in the order `--all` runs them (the lock first: the others may need the brain). */
export const ACTIONS: readonly ActionName[] = ['unlock', 'reconnect', 'replay', 'prune-audit']
export type ActionStatus = 'applied' | 'skipped' | 'failed' | 'would_apply'

export interface ActionResult {
  name: ActionName
  status: ActionStatus
  detail: string
  /** Structured facts (per process, per entry…), so no consumer parses `detail`. */
  data?: Record<string, unknown>
}

export interface RepairContext {
  dryRun: boolean
  /** Progress lines for stderr (the command shows them on a TTY). */
  progress: (line: string) => void
  /** Counts of a long action (the replay), for the command's progress line with rate and ETA. */
  counts?: (counts: ProgressCounts) => void
  /** Say what the action waits for (the brain opening); returns the end of the wait. */
  wait?: (what: string) => () => void
  signal?: AbortSignal
  /** Deadlines, waits and durations (default the system clock; tests pass a fake one). */
  clock?: Clock
}

/** The checks each action is meant to heal; repair re-runs them afterwards. */
export const ACTION_CHECKS: Record<ActionName, string[]> = {
  unlock: ['pglite_lock', 'connection'],
  reconnect: ['connection', 'engine_processes'],
  replay: ['dead_letter', 'batch_retry_health'],
  'prune-audit': ['audit_log'],
}

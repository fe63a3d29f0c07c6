/**
 * `doctor --auto-heal`'s policy, pure: from what repair would do now (`planRepairs`), which
 * actions heal on their own. An action heals only warnings: every check it concerns is at most a
 * warning and at least one warns. A failure is never healed: it is reported as needing
 * attention with its repair command. `reconnect` heals live processes only (the connection
 * itself answers); an action that needs the database waits while the connection does not
 * answer; an action healed within the minimum interval is skipped, with when (and every one is
 * skipped when the history that says so cannot be read).
 */
import type {CheckResult, Report} from '../checks/types.js'
import {liveNeedingReconnect, type PlannedRepair} from './plan.js'
import {ACTION_CHECKS, type ActionName} from './types.js'

/** Actions that open the database. */
const NEEDS_DATABASE: ReadonlySet<ActionName> = new Set(['reconnect', 'replay'])

export type HealSkipReason = 'healed_recently' | 'history_unreadable' | 'database_unreachable' | 'no_live_process'

export interface HealSkip {
  action: ActionName
  reason: HealSkipReason
  /** Why, in words. */
  detail: string
  /** healed_recently: when the last heal was applied (ISO 8601). */
  last_healed_at?: string
}

export interface NeedsAttention {
  check: string
  status: CheckResult['status']
  message: string
  /** The command that fixes it (a repair command when one applies), or null when none is known. */
  command: string | null
}

export interface HealPlan {
  /** What to run now, in `planRepairs`' order. */
  heal: PlannedRepair[]
  skipped: HealSkip[]
  /** Every failing check, with its fix: never healed automatically. */
  needs_attention: NeedsAttention[]
}

export interface HealPolicyInput {
  report: Pick<Report, 'checks'>
  /** `planRepairs(report)`. */
  plan: readonly PlannedRepair[]
  /** When each action was last applied by a heal (ISO 8601), from the history; null when it could not be read. */
  lastHealed: Partial<Record<ActionName, string>> | null
  nowMs: number
  minIntervalMs: number
}

export function planHeal(input: HealPolicyInput): HealPlan {
  const status = new Map(input.report.checks.map((c) => [c.name, c.status]))
  const connectionOk = status.get('connection') === 'ok'
  const heal: PlannedRepair[] = []
  const skipped: HealSkip[] = []
  for (const p of input.plan) {
    const concerned = ACTION_CHECKS[p.action]
    const statuses = concerned.map((n) => status.get(n))
    // Never a failure (it needs attention, below), and only where something warns.
    if (statuses.includes('fail') || !statuses.includes('warn')) continue
    if (NEEDS_DATABASE.has(p.action) && !connectionOk) {
      skipped.push({
        action: p.action,
        reason: 'database_unreachable',
        detail: `the connection check is ${status.get('connection') ?? 'not run'}: ${p.action} needs the database`,
      })
      continue
    }
    if (p.action === 'reconnect' && liveNeedingReconnect(input.report.checks) === 0) {
      skipped.push({action: p.action, reason: 'no_live_process', detail: 'no live engine process needs a reconnect'})
      continue
    }
    if (input.lastHealed === null) {
      skipped.push({
        action: p.action,
        reason: 'history_unreadable',
        detail: 'the history cannot be read, so the minimum interval cannot be honoured',
      })
      continue
    }
    const last = input.lastHealed[p.action]
    const lastMs = last === undefined ? NaN : Date.parse(last)
    // A heal dated in the future (a clock set back) counts as recent: never heal in a loop.
    if (Number.isFinite(lastMs) && input.nowMs - lastMs < input.minIntervalMs) {
      skipped.push({
        action: p.action,
        reason: 'healed_recently',
        detail: `healed at ${last}, within the minimum interval`,
        last_healed_at: last,
      })
      continue
    }
    heal.push(p)
  }
  const needs_attention = needsAttention(input.report, input.plan)
  return {heal, skipped, needs_attention}
}

/** Every failing check, with the repair command that concerns it, else its own first fix command. */
export function needsAttention(report: Pick<Report, 'checks'>, plan: readonly PlannedRepair[]): NeedsAttention[] {
  const repairFor = new Map<string, string>()
  for (const p of plan) for (const name of ACTION_CHECKS[p.action]) if (!repairFor.has(name)) repairFor.set(name, p.command)
  return report.checks
    .filter((c) => c.status === 'fail')
    .map((c) => ({check: c.name, status: c.status, message: c.message, command: repairFor.get(c.name) ?? c.fix?.commands[0] ?? null}))
}

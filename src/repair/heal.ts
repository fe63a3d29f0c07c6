/**
 * One `gbrain doctor --auto-heal` after its first doctor run: the policy (`planHeal`) picks the
 * warnings to heal, the shared repair session runs them and the whole doctor runs again, and
 * the result says, per check the heals concern, its status before and after. The command reads
 * the history, opens the engine, prints and records; the decisions are here and in heal-plan.ts.
 */
import {AUDIT_RETENTION_DAYS} from '../checks/facts/audit-files.js'
import type {Report} from '../checks/types.js'
import type {ResolvedTarget} from '../config/resolve.js'
import type {Engine} from '../engine/index.js'
import {needsAttention, planHeal, type HealSkip, type NeedsAttention} from './heal-plan.js'
import {planRepairs} from './plan.js'
import {runSession} from './session.js'
import {ACTION_CHECKS, type ActionName, type ActionResult, type RepairContext} from './types.js'

/** `heal` in `doctor --auto-heal --json` (docs/report.schema.json). */
export interface HealSection {
  dry_run: boolean
  min_interval_s: number
  /** Each action attempted (a dry run: `would_apply`), in order, with the checks it concerns. */
  actions: (ActionResult & {concerns: string[]})[]
  /** The checks the attempted actions concern: status before and after. */
  checks: {name: string; before: string; after: string}[]
  skipped: HealSkip[]
  /** Failing checks after the run, never healed automatically, with the command that fixes each. */
  needs_attention: NeedsAttention[]
}

export interface HealInput {
  before: Report
  target: ResolvedTarget
  /** When each action was last applied by a heal; null when the history could not be read. */
  lastHealed: Partial<Record<ActionName, string>> | null
  nowMs: number
  minIntervalMs: number
  open: () => Promise<Engine>
  /** The whole doctor again, as the command first ran it. */
  recheck: () => Promise<Report>
  afterAction?: (name: ActionName) => void
  afterActions?: () => void
}

export type HealOutcome = {interrupted: true; actions: ActionResult[]} | {interrupted: false; after: Report; heal: HealSection}

const statusOf = (r: Report, name: string): string => r.checks.find((c) => c.name === name)?.status ?? 'not_run'

export async function runHeal(input: HealInput, ctx: RepairContext): Promise<HealOutcome> {
  const policy = planHeal({
    report: input.before,
    plan: planRepairs(input.before),
    lastHealed: input.lastHealed,
    nowMs: input.nowMs,
    minIntervalMs: input.minIntervalMs,
  })
  const requested = policy.heal.map((p) => p.action)
  let actions: ActionResult[] = []
  let after = input.before
  if (requested.length > 0) {
    const s = await runSession(
      {
        requested,
        before: input.before,
        target: input.target,
        timeoutMs: RECONNECT_WAIT_MS,
        olderThanMs: AUDIT_RETENTION_MS,
        open: input.open,
        ...(input.afterAction ? {afterAction: input.afterAction} : {}),
        ...(input.afterActions ? {afterActions: input.afterActions} : {}),
        recheck: () => input.recheck(),
      },
      ctx,
    )
    if (s.interrupted) return s
    actions = s.actions
    after = s.after
  }
  // Nothing to heal: the first run is the answer (the checks are not run twice).
  const concerned = [...new Set(requested.flatMap((a) => ACTION_CHECKS[a]))]
  return {
    interrupted: false,
    after,
    heal: {
      dry_run: ctx.dryRun,
      min_interval_s: Math.round(input.minIntervalMs / 1000),
      actions: actions.map((a) => ({...a, concerns: ACTION_CHECKS[a.name]})),
      checks: concerned.map((name) => ({name, before: statusOf(input.before, name), after: statusOf(after, name)})),
      skipped: policy.skipped,
      needs_attention: needsAttention(after, planRepairs(after)),
    },
  }
}

/** How long a heal's reconnect waits for the database (it only heals when the database answers). */
const RECONNECT_WAIT_MS = 10_000
/** The audit retention a heal prunes to: the audit_log check's (what made it warn). */
const AUDIT_RETENTION_MS = AUDIT_RETENTION_DAYS * 86_400_000

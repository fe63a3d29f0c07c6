/**
 * What is left for other commands once repair has done what it can: every check that still
 * needs attention and that no repair action concerns (a stale source, a permissions problem…)
 * with the command that fixes it, taken from the check's own fix — so `gbrain repair` always
 * leads somewhere green. Derived from structured results, never from prose.
 */
import type {CheckResult, Report} from '../checks/types.js'
import {ACTION_CHECKS, ACTIONS, type ActionResult} from './types.js'

export interface NextStep {
  /** The checks this step answers (one command often fixes several: cycle and sync freshness). */
  checks: string[]
  status: CheckResult['status']
  /** The check's message: why this step. */
  because: string
  /** Paste-ready commands (never `gbrain repair …`: those are the plan). */
  commands: string[]
}

const REPAIRED_HERE = new Set(ACTIONS.flatMap((a) => ACTION_CHECKS[a]))

/** Checks repair does not act on that still need attention, each with its own fix commands. */
export function nextSteps(report: Pick<Report, 'checks'>, actions: readonly ActionResult[] = []): NextStep[] {
  const steps: NextStep[] = []
  for (const c of report.checks) {
    if (c.status !== 'fail' && c.status !== 'warn' && c.status !== 'unknown') continue
    if (REPAIRED_HERE.has(c.name)) continue
    const commands = (c.fix?.commands ?? []).filter((cmd) => !/^gbrain repair\b/.test(cmd))
    if (commands.length === 0) continue
    const same = steps.find((s) => s.commands.join('\n') === commands.join('\n'))
    if (same) same.checks.push(c.name)
    else steps.push({checks: [c.name], status: c.status, because: c.message, commands})
  }
  // Replayed rows land, but a source is stamped only by a full cycle over it.
  const replayed = actions.find((a) => a.name === 'replay' && a.status === 'applied')
  if (replayed && !steps.some((s) => s.commands.some((cmd) => /^gbrain cycle\b/.test(cmd)))) {
    steps.push({
      checks: ['cycle_freshness'],
      status: 'ok',
      because: 'the replayed rows are in, but their sources stay unstamped until the next full cycle',
      commands: ['gbrain cycle'],
    })
  }
  return steps
}

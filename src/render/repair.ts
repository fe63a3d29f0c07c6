/**
 * `gbrain repair` for a person: the plan (what applies now, nothing changed), what each action
 * did, "N fixed, M remaining", and what other commands fix. Pure: each string is one message the
 * command logs as it is (its log makes it terminal-safe), so a fix's command stays under its line.
 */
import type {PlannedRepair} from '../repair/plan.js'
import type {NextStep} from '../repair/next-steps.js'
import type {ActionResult} from '../repair/types.js'

const GLYPH: Record<ActionResult['status'], string> = {
  applied: '✓ applied',
  skipped: '- skipped',
  failed: '✗ failed',
  would_apply: '→ would apply',
}

/** What other commands fix, after what repair did (nothing when nothing is left). */
function repairNextLines(next: readonly NextStep[]): string[] {
  if (next.length === 0) return []
  const lines = [next.length === 1 ? 'Not for repair — this command fixes it:' : 'Not for repair — these commands fix them:']
  for (const n of next) {
    lines.push(`  ${n.checks.join(', ')}: ${n.because}`)
    for (const cmd of n.commands) lines.push(`      ${cmd}`)
  }
  return lines
}

/** `gbrain repair` with no action: the repairs that apply now, then what other commands fix. */
export function repairPlanLines(plan: readonly PlannedRepair[], next: readonly NextStep[]): string[] {
  const lines =
    plan.length === 0
      ? ['Nothing for repair to do now.']
      : [
          'Repairs that apply now (nothing has been changed):',
          ...plan.map((p) => `  → ${p.action.padEnd(12)} ${p.because}\n      ${p.command}`),
          'Run them all: gbrain repair --all',
        ]
  return [...lines, ...repairNextLines(next)]
}

/** After acting: a line per action, "N fixed, M remaining" (not on a dry run), what other commands fix. */
export function repairResultLines(result: {
  actions: readonly ActionResult[]
  dryRun: boolean
  fixed: readonly string[]
  remaining: readonly string[]
  next: readonly NextStep[]
}): string[] {
  const lines = result.actions.map((a) => `${GLYPH[a.status].padEnd(14)} ${a.name.padEnd(12)} ${a.detail}`)
  if (!result.dryRun) {
    const r = result.remaining
    lines.push(`${result.fixed.length} fixed, ${r.length} remaining${r.length ? ` (${r.join(', ')} still failing: gbrain doctor)` : ''}`)
  }
  return [...lines, ...repairNextLines(result.next)]
}

/**
 * `doctor --auto-heal` for a person, after the report: what was healed and whether its checks are
 * now fixed or still warning, what was skipped and why (healed within the minimum interval: when),
 * and what needs attention (failures, never healed automatically) with the command that fixes
 * each. Pure: each string is one line, redacted and terminal-safe (outside text cannot break it).
 */
import type {HealSection} from '../repair/heal.js'
import {safeLine} from '../shared/safe-text.js'
import {clean} from './text.js'

/** Text from outside on one printable line: redacted, no control, no workflow command, one line. */
const one = (v: unknown): string => safeLine(clean(v))

const ATTENTION = new Set(['fail', 'warn'])

/** The auto-heal section's lines (no trailing newline on each). */
export function healLines(heal: HealSection): string[] {
  const lines: string[] = [heal.dry_run ? 'Auto-heal (dry run, nothing changed):' : 'Auto-heal:']
  if (heal.actions.length === 0 && heal.skipped.length === 0) lines.push('  nothing to heal: no warning a repair action fixes')
  for (const a of heal.actions) {
    const checks = heal.checks.filter((c) => a.concerns.includes(c.name))
    const trail = checks.map((c) => `${c.name} ${c.before} → ${c.after}`).join(', ')
    let verdict: string
    if (a.status === 'would_apply') verdict = '→ would heal'
    else if (a.status === 'failed') verdict = '✗ failed'
    else if (a.status === 'skipped') verdict = '- skipped'
    else
      verdict = checks.some((c) => c.after === 'fail')
        ? '✗ still failing'
        : checks.some((c) => ATTENTION.has(c.after))
          ? '! still warning'
          : '✓ fixed'
    lines.push(`  ${verdict.padEnd(16)} ${a.name.padEnd(12)} ${one(a.detail)}${trail && a.status !== 'would_apply' ? ` (${trail})` : ''}`)
  }
  for (const s of heal.skipped) lines.push(`  ${'- skipped'.padEnd(16)} ${s.action.padEnd(12)} ${one(s.detail)}`)
  if (heal.needs_attention.length > 0) {
    lines.push('Needs attention (failures are never healed automatically):')
    for (const n of heal.needs_attention) lines.push(`  ✗ ${one(n.check)}: ${n.command === null ? 'gbrain doctor -v' : one(n.command)}`)
  }
  return lines
}

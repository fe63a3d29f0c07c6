/**
 * How a check explains itself for `gbrain doctor --list`: what it looks at and its thresholds,
 * written in the check's own file from the constants its judge uses (so the listing cannot drift
 * from them), in the shapes below. The catalogue only orders the checks.
 */
import {THRESHOLD_DEFAULTS, type ThresholdVariable} from './thresholds.js'
import type {Category} from './types.js'

/** The flag that bounds each check (`doctor --timeout`), as the command declares it. */
export interface BudgetFlag {
  flag: string
  /** The default as written, e.g. `5s`. */
  default: string
  /** The same in milliseconds. */
  ms: number
}

/** One threshold of a check, as `--list` shows it. */
export interface ListedThreshold {
  level: 'warn' | 'fail'
  comparison: '>' | '≥' | '<'
  /** The value the check uses unless its setting says otherwise. */
  default: number
  unit: string
  /** What is compared, after the value: `since the last full cycle`. */
  measure: string
  /** The env variable or flag that changes it; null when it is fixed. */
  setting: string | null
  /** The whole threshold in words: `warn > 6 h since the last full cycle (default; set by GBRAIN_…)`. */
  text: string
}

/** One check, as `gbrain doctor --list` shows it (table and JSON: the same fields). */
export interface ListedCheck {
  name: string
  category: Category
  /** `database`: needs a live database (skipped under --fast); `files`: reads files only. */
  needs: 'files' | 'database'
  looks_at: string
  /** Checks whose failure explains this one's (empty when none). */
  downstream_of: string[]
  thresholds: ListedThreshold[]
}

/** A threshold before it is put in words. */
export type Rule = Omit<ListedThreshold, 'text'>

/** What a check says about itself in `--list`. */
export interface Explanation {
  looksAt: string
  /** Its thresholds; `budget` is the doctor's per-check timeout flag (`connection` fails on it). */
  thresholds: (budget: BudgetFlag) => Rule[]
}

/** A threshold before its value: a counted unit is given as [one, many] and agrees with the value. */
type Shape = Omit<ListedThreshold, 'text' | 'default' | 'setting' | 'unit'> & {unit: string | readonly [string, string]}

const rule = (t: Shape, value: number, setting: string | null): Rule => ({
  ...t,
  default: value,
  unit: typeof t.unit === 'string' ? t.unit : value === 1 ? t.unit[0] : t.unit[1],
  setting,
})
/** A threshold an env variable overrides, at its default. */
export const byEnv = (name: ThresholdVariable, t: Shape): Rule => rule(t, THRESHOLD_DEFAULTS[name], name)
/** A warn/fail pair of env variables over the same measure. */
export const ladder = (warn: ThresholdVariable, fail: ThresholdVariable, t: Omit<Shape, 'level'>): Rule[] => [
  byEnv(warn, {...t, level: 'warn'}),
  byEnv(fail, {...t, level: 'fail'}),
]
/** A threshold written into the check. */
export const fixed = (value: number, t: Shape): Rule => rule(t, value, null)

/** The threshold at its default, in words: `warn > 6 h since the last full cycle`. */
export function thresholdRule(t: Pick<ListedThreshold, 'level' | 'comparison' | 'default' | 'unit' | 'measure'>): string {
  return `${t.level} ${t.comparison} ${t.default} ${t.unit} ${t.measure}`
}

/** …and what sets it: `(default; set by GBRAIN_CYCLE_FRESHNESS_WARN_HOURS)`, `(fixed)`. */
export function thresholdText(t: Rule): string {
  return `${thresholdRule(t)} (${t.setting === null ? 'fixed' : `default; set by ${t.setting}`})`
}

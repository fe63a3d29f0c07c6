/**
 * Doctor thresholds are data: each has a default (gbrain's where gbrain has the check) and an env
 * override. An invalid override is a usage error (ConfigError, exit 64) carrying a paste-ready
 * fix — never a silent fallback to the default (gbrain falls back with a console warning).
 *
 * The doctor command calls {@link validateThresholds} once, before any check runs, and hands the
 * typed result to every judge. `GBRAIN_BULK_*` retry settings are not thresholds: an invalid one
 * must not stop the doctor; `batch_retry_health` and `retry_config` report it.
 */
import {ConfigError} from '../shared/errors.js'

export type ThresholdSource = 'default' | `env:${string}`

export interface ThresholdValue {
  value: number
  source: ThresholdSource
}

export interface ThresholdRule {
  /** Inclusive lower bound. Default 0 (negative values are always rejected). */
  min?: number
  /** Exclusive lower bound (e.g. `gt: 0` for "a positive number of hours"). */
  gt?: number
  /** Inclusive upper bound. */
  max?: number
  /** Whole numbers only ("5", not "5.0"). */
  integer?: boolean
}

const INT_RE = /^\d{1,9}$/
const DECIMAL_RE = /^\d{1,9}(?:\.\d{1,9})?$/

function describeRule(rule: ThresholdRule): string {
  const kind = rule.integer ? 'an integer' : 'a number'
  const bounds: string[] = []
  if (rule.gt !== undefined) bounds.push(`> ${rule.gt}`)
  else bounds.push(`≥ ${rule.min ?? 0}`)
  if (rule.max !== undefined) bounds.push(`≤ ${rule.max}`)
  return `${kind} ${bounds.join(' and ')}`
}

/**
 * One threshold from `env[name]`: unset or blank → the default; otherwise a strict decimal
 * (no sign, exponent, hex, `Infinity` or inner spaces; surrounding whitespace is ignored) that
 * satisfies `rule`. Throws ConfigError with the fix `export NAME=<default>`.
 */
export function readThreshold(env: NodeJS.ProcessEnv, name: string, defaultValue: number, rule: ThresholdRule = {}): ThresholdValue {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return {value: defaultValue, source: 'default'}
  const text = raw.trim()
  const shaped = rule.integer ? INT_RE.test(text) : DECIMAL_RE.test(text)
  const value = shaped ? Number(text) : Number.NaN
  const min = rule.min ?? 0
  const ok =
    Number.isFinite(value) && value >= min && (rule.gt === undefined || value > rule.gt) && (rule.max === undefined || value <= rule.max)
  if (!ok) {
    throw new ConfigError(`${name} must be ${describeRule(rule)}, got ${JSON.stringify(raw)}`, `export ${name}=${defaultValue}`)
  }
  return {value, source: `env:${name}`}
}

export interface Ladder {
  warn: ThresholdValue
  fail: ThresholdValue
}

/**
 * A "higher is worse" warn/fail pair. Each value is read with {@link readThreshold}; then
 * warn > fail is rejected (warn = fail is allowed: fail wins). The fix moves the value that was
 * not overridden (an operator who raised warn to 30 h wants fail at least that high); when both
 * were overridden it lowers warn to fail.
 */
export function readLadder(
  env: NodeJS.ProcessEnv,
  warnName: string,
  warnDefault: number,
  failName: string,
  failDefault: number,
  rule: ThresholdRule = {},
): Ladder {
  const warn = readThreshold(env, warnName, warnDefault, rule)
  const fail = readThreshold(env, failName, failDefault, rule)
  if (warn.value > fail.value) {
    const fix =
      warn.source !== 'default' && fail.source === 'default' ? `export ${failName}=${warn.value}` : `export ${warnName}=${fail.value}`
    throw new ConfigError(`${warnName} (${warn.value}) must be ≤ ${failName} (${fail.value})`, fix)
  }
  return {warn, fail}
}

/** Every doctor threshold env var and its default (checks.md). */
export const THRESHOLD_DEFAULTS = {
  GBRAIN_BATCH_RETRY_WARN_SITE: 3,
  GBRAIN_BATCH_RETRY_WARN_TOTAL: 5,
  GBRAIN_BATCH_RETRY_FAIL_TOTAL: 20,
  GBRAIN_CYCLE_FRESHNESS_WARN_HOURS: 6,
  GBRAIN_CYCLE_FRESHNESS_FAIL_HOURS: 24,
  GBRAIN_SYNC_FRESHNESS_WARN_HOURS: 24,
  GBRAIN_SYNC_FRESHNESS_FAIL_HOURS: 72,
  GBRAIN_CONN_SLOTS_WARN_PCT: 80,
  GBRAIN_CONN_SLOTS_FAIL_PCT: 95,
  GBRAIN_IDLE_TX_WARN_MINUTES: 5,
  GBRAIN_DEAD_LETTER_FAIL_HOURS: 24,
} as const

export type ThresholdVariable = keyof typeof THRESHOLD_DEFAULTS

/** The thresholds every check uses, validated, with where each value came from. */
export interface Thresholds {
  batchRetry: {warnSite: number; warnTotal: number; failTotal: number}
  cycleFreshness: {warnHours: number; failHours: number}
  syncFreshness: {warnHours: number; failHours: number}
  connectionSlots: {warnPct: number; failPct: number}
  idleTransactions: {warnMinutes: number}
  /** An intact spool younger than this warns; older, it fails (nobody replayed it). */
  deadLetter: {failHours: number}
  /** `default` or `env:<NAME>` per variable. */
  sources: Record<ThresholdVariable, ThresholdSource>
}

const COUNT: ThresholdRule = {integer: true, min: 1}
const HOURS: ThresholdRule = {gt: 0}
const PCT: ThresholdRule = {gt: 0, max: 100}
const MINUTES: ThresholdRule = {gt: 0}

/**
 * Read and validate every threshold env var (call once, before the checks run). Every invalid
 * value is reported at once: one problem throws its own ConfigError; several throw one whose
 * message joins them and whose fix is a single `export A=… B=…` line.
 */
export function validateThresholds(env: NodeJS.ProcessEnv = process.env): Thresholds {
  const problems: ConfigError[] = []
  const sources = {} as Record<ThresholdVariable, ThresholdSource>
  const attempt = <T>(read: () => T, fallback: T): T => {
    try {
      return read()
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e
      problems.push(e)
      return fallback
    }
  }
  const one = (name: ThresholdVariable, rule: ThresholdRule): number => {
    const t = attempt(() => readThreshold(env, name, THRESHOLD_DEFAULTS[name], rule), {
      value: THRESHOLD_DEFAULTS[name],
      source: 'default' as const,
    })
    sources[name] = t.source
    return t.value
  }
  const ladder = (warnName: ThresholdVariable, failName: ThresholdVariable, rule: ThresholdRule): [number, number] => {
    const fallback: Ladder = {
      warn: {value: THRESHOLD_DEFAULTS[warnName], source: 'default'},
      fail: {value: THRESHOLD_DEFAULTS[failName], source: 'default'},
    }
    // Report a bad value of either variable first; the order check only makes sense on valid values.
    const before = problems.length
    const warn = one(warnName, rule)
    const fail = one(failName, rule)
    if (problems.length > before) return [warn, fail]
    const l = attempt(() => readLadder(env, warnName, THRESHOLD_DEFAULTS[warnName], failName, THRESHOLD_DEFAULTS[failName], rule), fallback)
    return [l.warn.value, l.fail.value]
  }

  const warnSite = one('GBRAIN_BATCH_RETRY_WARN_SITE', COUNT)
  const [warnTotal, failTotal] = ladder('GBRAIN_BATCH_RETRY_WARN_TOTAL', 'GBRAIN_BATCH_RETRY_FAIL_TOTAL', COUNT)
  const [cycleWarn, cycleFail] = ladder('GBRAIN_CYCLE_FRESHNESS_WARN_HOURS', 'GBRAIN_CYCLE_FRESHNESS_FAIL_HOURS', HOURS)
  const [syncWarn, syncFail] = ladder('GBRAIN_SYNC_FRESHNESS_WARN_HOURS', 'GBRAIN_SYNC_FRESHNESS_FAIL_HOURS', HOURS)
  const [slotsWarn, slotsFail] = ladder('GBRAIN_CONN_SLOTS_WARN_PCT', 'GBRAIN_CONN_SLOTS_FAIL_PCT', PCT)
  const idleWarn = one('GBRAIN_IDLE_TX_WARN_MINUTES', MINUTES)
  const deadLetterFail = one('GBRAIN_DEAD_LETTER_FAIL_HOURS', HOURS)

  const first = problems[0]
  if (first !== undefined) {
    if (problems.length === 1) throw first
    const exports = problems.map((p) => p.fix.replace(/^export /, ''))
    throw new ConfigError(problems.map((p) => p.message).join('; '), `export ${exports.join(' ')}`)
  }
  return {
    batchRetry: {warnSite, warnTotal, failTotal},
    cycleFreshness: {warnHours: cycleWarn, failHours: cycleFail},
    syncFreshness: {warnHours: syncWarn, failHours: syncFail},
    connectionSlots: {warnPct: slotsWarn, failPct: slotsFail},
    idleTransactions: {warnMinutes: idleWarn},
    deadLetter: {failHours: deadLetterFail},
    sources,
  }
}

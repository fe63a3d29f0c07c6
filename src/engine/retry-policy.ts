/**
 * The batch-write retry policy and where each value came from. Defaults: 3 retries, base
 * 1000 ms, cap 10000 ms, decorrelated jitter; overridable by GBRAIN_BULK_MAX_RETRIES (int ≥ 0),
 * GBRAIN_BULK_RETRY_BASE_MS (int > 0), GBRAIN_BULK_RETRY_MAX_MS (int ≥ base).
 *
 * `inspectRetryPolicy` never throws (the doctor reports problems); `loadRetryPolicy` throws a
 * ConfigError carrying a paste-ready fix (commands refuse to run on a bad value).
 */
import type {BackoffPolicy} from './backoff.js'
import {ConfigError} from '../shared/errors.js'

export interface RetryPolicy extends BackoffPolicy {
  maxRetries: number
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 3,
  baseMs: 1000,
  maxMs: 10_000,
  jitter: 'decorrelated',
})

export type SettingSource = 'default' | `env:${string}`

export interface RetryPolicyIssue {
  variable: string
  value: string
  message: string
  /** A paste-ready fix, e.g. `export GBRAIN_BULK_MAX_RETRIES=3`. */
  fix: string
}

export interface InspectedRetryPolicy {
  policy: RetryPolicy
  sources: Record<'maxRetries' | 'baseMs' | 'maxMs', SettingSource>
  issues: RetryPolicyIssue[]
}

const VARS = {
  maxRetries: 'GBRAIN_BULK_MAX_RETRIES',
  baseMs: 'GBRAIN_BULK_RETRY_BASE_MS',
  maxMs: 'GBRAIN_BULK_RETRY_MAX_MS',
} as const

/** Upper ends of the GBRAIN_BULK_* ranges. */
export const MAX_RETRIES_LIMIT = 100
export const MAX_DELAY_LIMIT_MS = 3_600_000

/** Parse a strict non-negative decimal integer ("3", not "3.0", "3e0", " 3", "-1"). */
function parseStrictInt(raw: string): number | undefined {
  if (!/^\d{1,9}$/.test(raw)) return undefined
  return Number(raw)
}

export function inspectRetryPolicy(env: NodeJS.ProcessEnv = process.env): InspectedRetryPolicy {
  const policy: RetryPolicy = {...DEFAULT_RETRY_POLICY}
  const sources: InspectedRetryPolicy['sources'] = {maxRetries: 'default', baseMs: 'default', maxMs: 'default'}
  const issues: RetryPolicyIssue[] = []

  const read = (key: keyof typeof VARS, min: number, max: number, what: string): void => {
    const variable = VARS[key]
    const raw = env[variable]
    if (raw === undefined || raw.trim() === '') return
    const value = parseStrictInt(raw.trim())
    if (value === undefined || value < min || value > max) {
      issues.push({
        variable,
        value: raw,
        message:
          value !== undefined && value > max
            ? `${variable} must be at most ${max}, got ${JSON.stringify(raw)}`
            : `${variable} must be ${what}, got ${JSON.stringify(raw)}`,
        fix: `export ${variable}=${DEFAULT_RETRY_POLICY[key]}`,
      })
      return
    }
    policy[key] = value
    sources[key] = `env:${variable}`
  }

  // Documented ranges (docs/cli.md): up to 100 retries; delays up to one hour each.
  read('maxRetries', 0, MAX_RETRIES_LIMIT, 'an integer ≥ 0')
  read('baseMs', 1, MAX_DELAY_LIMIT_MS, 'an integer > 0 (milliseconds)')
  read('maxMs', 1, MAX_DELAY_LIMIT_MS, 'an integer > 0 (milliseconds)')

  if (policy.maxMs < policy.baseMs) {
    const variable = sources.maxMs === 'default' ? VARS.baseMs : VARS.maxMs
    issues.push({
      variable,
      value: String(env[variable] ?? ''),
      message: `${VARS.maxMs} (${policy.maxMs}) must be ≥ ${VARS.baseMs} (${policy.baseMs})`,
      fix:
        sources.maxMs === 'default'
          ? `export ${VARS.maxMs}=${policy.baseMs}`
          : `export ${VARS.maxMs}=${Math.max(policy.baseMs, DEFAULT_RETRY_POLICY.maxMs)}`,
    })
    policy.maxMs = policy.baseMs
  }
  return {policy, sources, issues}
}

/** The effective policy, or a ConfigError naming the first bad variable and its fix. */
export function loadRetryPolicy(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const {policy, issues} = inspectRetryPolicy(env)
  const first = issues[0]
  if (first) throw new ConfigError(first.message, first.fix)
  return policy
}

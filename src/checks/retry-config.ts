/**
 * `retry_config` (retry). The effective batch-write retry policy and where each value came from
 * (`GBRAIN_BULK_MAX_RETRIES`, `GBRAIN_BULK_RETRY_BASE_MS`, `GBRAIN_BULK_RETRY_MAX_MS`; defaults
 * 3 / 1000 / 10000). Invalid → fail with the paste-ready fix. A worst-case total wait shorter than
 * 5 s (a typical pooler circuit-breaker recovery) → warn. observed_value is that worst case, in
 * ms; unlike the other thresholds here, lower is worse.
 */
import {worstCaseSleepMs, DEFAULT_RETRY_POLICY, type InspectedRetryPolicy} from '../engine/index.js'
import {redactForStorage as redact} from '../shared/redact.js'
import {defineCheck} from './check.js'
import {Findings} from './findings.js'
import {issueDetails} from './wording.js'
import type {CheckOutcome} from './types.js'
import {fixed} from './listing.js'

/** Warn below this worst-case total sleep. */
export const RETRY_MIN_WORST_CASE_MS = 5000

const VARS = {maxRetries: 'GBRAIN_BULK_MAX_RETRIES', baseMs: 'GBRAIN_BULK_RETRY_BASE_MS', maxMs: 'GBRAIN_BULK_RETRY_MAX_MS'} as const

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

export function judgeRetryConfig(inspected: InspectedRetryPolicy, minWorstCaseMs = RETRY_MIN_WORST_CASE_MS): CheckOutcome {
  const {policy, sources, issues} = inspected
  const worst = worstCaseSleepMs(policy, policy.maxRetries)
  const overridden = (Object.keys(VARS) as Array<keyof typeof VARS>).filter((k) => sources[k] !== 'default')
  const origin = overridden.length === 0 ? 'all defaults' : `from ${overridden.map((k) => VARS[k]).join(', ')}`
  const summary =
    `${policy.maxRetries} retries, base ${policy.baseMs} ms, cap ${policy.maxMs} ms, ${policy.jitter} jitter ` +
    `(${origin}); worst-case total wait ${secs(worst)}.`

  const found = new Findings()
  if (issues.length > 0) {
    found.add('fail', `Invalid retry settings: ${issues.map((i) => redact(i.message)).join('; ')} (the default is used instead).`, {
      text: 'Set each invalid variable to a valid value (or unset it to use the default).',
      commands: issues.map((i) => i.fix),
    })
  }
  if (worst < minWorstCaseMs) {
    // Raise every overridden value that is below its default back to the default.
    const raise = (Object.keys(VARS) as Array<keyof typeof VARS>).filter(
      (k) => sources[k] !== 'default' && policy[k] < DEFAULT_RETRY_POLICY[k],
    )
    found.add(
      'warn',
      `Worst-case total wait ${secs(worst)} is shorter than a typical pooler circuit-breaker recovery (${secs(minWorstCaseMs)}): ` +
        `batches may exhaust their retries during a blip the pooler would survive.`,
      {text: 'Allow more or longer retries.', commands: raise.map((k) => `export ${VARS[k]}=${DEFAULT_RETRY_POLICY[k]}`)},
    )
  }
  return found.outcome(found.any ? `${found.messages.join(' ')} Effective: ${summary}` : `Batch retries: ${summary}`, {
    details: {
      policy: {max_retries: policy.maxRetries, base_ms: policy.baseMs, max_ms: policy.maxMs, jitter: policy.jitter},
      sources: {max_retries: sources.maxRetries, base_ms: sources.baseMs, max_ms: sources.maxMs},
      worst_case_sleep_ms: worst,
      min_worst_case_ms: minWorstCaseMs,
      threshold_direction: 'lower_is_worse',
      issues: issueDetails(issues),
    },
    observed_value: worst,
    observed_unit: 'ms',
    threshold: {warn: minWorstCaseMs},
  })
}

export const retryConfigCheck = defineCheck({
  name: 'retry_config',
  category: 'retry',
  gatedOnConnection: false,
  needs: ['retryPolicy'],
  judge: (f) => judgeRetryConfig(f.retryPolicy),
  explain: {
    looksAt: `The batch-write retry policy in effect: GBRAIN_BULK_MAX_RETRIES (default ${DEFAULT_RETRY_POLICY.maxRetries}), GBRAIN_BULK_RETRY_BASE_MS (default ${DEFAULT_RETRY_POLICY.baseMs}) and GBRAIN_BULK_RETRY_MAX_MS (default ${DEFAULT_RETRY_POLICY.maxMs}). An invalid value fails.`,
    thresholds: () => [
      fixed(RETRY_MIN_WORST_CASE_MS / 1000, {
        level: 'warn',
        comparison: '<',
        unit: 's',
        measure: 'of worst-case total wait over all retries',
      }),
    ],
  },
})

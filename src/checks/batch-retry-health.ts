/**
 * `batch_retry_health` (retry) — gbrain-compatible. Judges the `batch-retry` audit rows of the
 * last 24 h; works without a database. The ladder (checks.md):
 *
 * 1. Invalid `GBRAIN_BULK_*` settings → at least warn, naming the variable and its fix; the
 *    ladder below still runs and the worse verdict wins (gbrain stops here, hiding an incident).
 * 2. An unreadable audit file → at least warn, naming the file; readable files still count.
 * 3. Exhausted total ≥ FAIL_TOTAL (20) → fail (sustained incident).
 * 4. One site ≥ WARN_SITE (3), or total ≥ WARN_TOTAL (5) → warn, naming the worst site.
 * 5. Otherwise ok.
 *
 * When every exhausted row went to the dead-letter spool and every one of those entries has
 * since been replayed (its id is gone from the spool), nothing was lost and the outage is over:
 * it is reported in the message and details but the ladder says ok (gbrain's own rows are never
 * spooled, so gbrain's files keep gbrain's verdict). Corrupt lines are reported in every branch.
 */
import type {RetryPolicyIssue} from '../engine/index.js'
import {redactForStorage as redact} from '../shared/redact.js'
import {defineCheck} from './check.js'
import type {BatchRetryFacts} from './facts/audit-windows.js'
import {Findings, type Level} from './findings.js'
import {issueDetails, plural, unreadableAuditFiles, unreadableAuditFix, unreadableFileCommand} from './wording.js'
import type {Thresholds} from './thresholds.js'
import type {CheckOutcome} from './types.js'
import {byEnv, ladder} from './listing.js'
import {BATCH_RETRY_WINDOW_HOURS} from './facts/audit-windows.js'

export interface BatchRetryHealthInput {
  facts: BatchRetryFacts
  /** Every entry id present in the dead-letter spool; null when the spool could not be listed. */
  spoolIds: readonly string[] | null
  /** `inspectRetryPolicy(env).issues`. */
  retryIssues: readonly RetryPolicyIssue[]
  /** The effective max retries (to suggest a higher one). */
  maxRetries: number
  thresholds: Thresholds['batchRetry']
}

function notes(f: BatchRetryFacts): string {
  const n: string[] = []
  if (f.corrupt_lines > 0) n.push(`${plural(f.corrupt_lines, 'corrupt JSONL line')} skipped`)
  if (f.bad_ts_rows > 0) n.push(`${plural(f.bad_ts_rows, 'row')} with an unparseable ts skipped`)
  if (f.malformed_rows > 0) n.push(plural(f.malformed_rows, 'malformed row'))
  return n.length > 0 ? ` (note: ${n.join('; ')})` : ''
}

/** The pure judge: plain data in, outcome out. */
export function judgeBatchRetryHealth(input: BatchRetryHealthInput): CheckOutcome {
  const {facts: f, thresholds: t} = input
  const total = f.exhausted_total
  const hours = f.window.hours

  // Worst site: most exhausted rows, then name order (by_site is sorted).
  let worst: {site: string; exhausted: number} | null = null
  for (const [site, c] of Object.entries(f.by_site)) {
    if (c.exhausted > 0 && (worst === null || c.exhausted > worst.exhausted)) worst = {site, exhausted: c.exhausted}
  }

  // Spooled exhausted rows: replayed when their entry is gone from the spool.
  const present = input.spoolIds === null ? null : new Set(input.spoolIds)
  let replayed = 0
  for (const row of f.spooled_exhausted) {
    if (present !== null && row.dead_letter_id !== undefined && !present.has(row.dead_letter_id)) replayed += 1
  }
  const spooled = Object.values(f.by_site).reduce((n, c) => n + c.spooled, 0)
  const pending = Math.max(0, spooled - replayed)
  const allReplayed = total > 0 && !f.spooled_exhausted_truncated && spooled === total && replayed === total

  // Worse verdict first; on a tie, configuration before files before the ladder (the order added).
  const found = new Findings({worstFirst: true})

  // 1. Invalid GBRAIN_BULK_* settings.
  if (input.retryIssues.length > 0) {
    const text = input.retryIssues.map((i) => `${redact(i.message)} (fix: ${i.fix})`).join('; ')
    found.add('warn', `GBRAIN_BULK_* env override invalid: ${text}.`, {
      text: 'Correct the invalid GBRAIN_BULK_* setting (batch writes fall back to the default for it).',
      commands: input.retryIssues.map((i) => i.fix),
    })
  }

  // 2. Unreadable audit files.
  if (f.unreadable_files.length > 0) {
    found.add('warn', `${unreadableAuditFiles(f.unreadable_files)}; the readable files were counted.`, {
      text: unreadableAuditFix('the'),
      commands: f.unreadable_files.map((u) => unreadableFileCommand(u.file, u.error)),
    })
  }

  // 3–5. The exhausted ladder.
  let level: Level = 'ok'
  if (total >= t.failTotal) level = 'fail'
  else if ((worst !== null && worst.exhausted >= t.warnSite) || total >= t.warnTotal) level = 'warn'
  // A healed outage (every exhausted batch spooled, every entry replayed since) lost nothing and
  // is over: reported, but it no longer warns (issue 12: repair leads to green).
  const healed = level !== 'ok' && allReplayed
  if (healed) level = 'ok'

  const worstText = worst === null ? '' : ` (worst: ${worst.site} = ${worst.exhausted})`
  const retryNote =
    f.retries_scheduled > 0 || f.recovered > 0
      ? ` ${plural(f.retries_scheduled, 'transient retry', 'transient retries')} scheduled, ${plural(f.recovered, 'batch', 'batches')} recovered after retrying.`
      : ''
  const rowsNote =
    total > 0
      ? ` Rows: ${f.rows_lost} lost, ${f.rows_spooled} spooled` +
        (spooled > 0 ? ` (${plural(replayed, 'batch', 'batches')} replayed, ${pending} pending replay)` : '') +
        '.'
      : ''
  const replayCmd = pending > 0 ? ['gbrain repair --replay'] : []
  const raise = `export GBRAIN_BULK_MAX_RETRIES=${Math.max(input.maxRetries + 2, 5)}`
  if (total === 0) {
    found.add(level, `No exhausted batch retries in last ${hours}h.${retryNote}${notes(f)}`)
  } else if (healed) {
    found.add(
      level,
      `${total} exhausted batch retries in last ${hours}h${worstText}, all spooled and since replayed: nothing lost, the outage is over.${rowsNote}${retryNote}${notes(f)}`,
    )
  } else if (level === 'ok') {
    found.add(
      level,
      `${plural(total, 'exhausted batch retry', 'exhausted batch retries')} in last ${hours}h (below per-site threshold of ${t.warnSite}; worst: ${worst?.site} = ${worst?.exhausted}).${rowsNote}${retryNote}${notes(f)}`,
    )
  } else if (level === 'fail') {
    found.add(
      level,
      `${total} exhausted batch retries in last ${hours}h${worstText}. Sustained circuit-breaker incident: ` +
        `check the pooler/database; consider raising GBRAIN_BULK_MAX_RETRIES or a direct connection.${rowsNote}${retryNote}${notes(f)}`,
      {
        text: 'Check the pooler and the database, then raise the retry budget or connect directly (bypassing the pooler).',
        commands: ['gbrain doctor --only connection', raise, ...replayCmd],
      },
    )
  } else {
    found.add(
      level,
      `${total} exhausted batch retries in last ${hours}h${worstText}. Tune via GBRAIN_BULK_MAX_RETRIES / GBRAIN_BULK_RETRY_MAX_MS.` +
        `${rowsNote}${retryNote}${notes(f)}`,
      {
        text: 'Check the pooler and the database; if the blips are expected, give batches more retries.',
        commands: ['gbrain doctor --only connection', raise, ...replayCmd],
      },
    )
  }

  return found.outcome(found.messages.join(' '), {
    details: {
      exhausted_total: total,
      by_site: f.by_site,
      worst_site: worst,
      retries_scheduled: f.retries_scheduled,
      recovered: f.recovered,
      rows_lost: f.rows_lost,
      rows_spooled: f.rows_spooled,
      replayed,
      pending_replay: pending,
      healed_by_replay: healed,
      corrupt_lines: f.corrupt_lines,
      bad_ts_rows: f.bad_ts_rows,
      malformed_rows: f.malformed_rows,
      files_scanned: f.files_scanned.length,
      files: f.files_scanned,
      unreadable_files: f.unreadable_files,
      invalid_settings: issueDetails(input.retryIssues),
      window: f.window,
      thresholds: {warn_site: t.warnSite, warn_total: t.warnTotal, fail_total: t.failTotal},
    },
    observed_value: total,
    observed_unit: 'count',
    threshold: {warn: t.warnTotal, fail: t.failTotal},
  })
}

const BATCHES = ['exhausted batch', 'exhausted batches'] as const

export const batchRetryHealthCheck = defineCheck({
  name: 'batch_retry_health',
  category: 'retry',
  gatedOnConnection: false,
  downstreamOf: ['connection'],
  needs: ['batchRetry', 'spool', 'retryPolicy'],
  judge(f, ctx) {
    // The spool matters only when there is something to match against it.
    const spoolIds = f.batchRetry.spooled_exhausted.length === 0 ? [] : f.spool.list_error === null ? f.spool.ids : null
    return judgeBatchRetryHealth({
      facts: f.batchRetry,
      spoolIds,
      retryIssues: f.retryPolicy.issues,
      maxRetries: f.retryPolicy.policy.maxRetries,
      thresholds: ctx.thresholds.batchRetry,
    })
  },
  counts: {noun: ['exhausted batch', 'exhausted batches']},
  explain: {
    looksAt: `The batch-retry rows of the audit trail from the last ${BATCH_RETRY_WINDOW_HOURS} h: batches that exhausted their retries, per site, and whether their rows went to the dead-letter spool and were replayed (then it is at most a warning). Also warns on invalid GBRAIN_BULK_* settings and unreadable audit files.`,
    thresholds: () => [
      byEnv('GBRAIN_BATCH_RETRY_WARN_SITE', {level: 'warn', comparison: '≥', unit: BATCHES, measure: 'at one site'}),
      ...ladder('GBRAIN_BATCH_RETRY_WARN_TOTAL', 'GBRAIN_BATCH_RETRY_FAIL_TOTAL', {comparison: '≥', unit: BATCHES, measure: 'in all'}),
    ],
  },
})

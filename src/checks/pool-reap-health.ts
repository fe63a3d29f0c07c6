/**
 * `pool_reap_health` (pool) — gbrain-compatible. Judges the `pool-recovery` audit rows of the
 * last hour; works without a database.
 *
 * - A `reconnect_failed` that no later `reconnect_succeeded` of the same pid followed → fail
 *   ("reconnect is throwing").
 * - Failures of processes that have since exited → ok, reported: nothing is failing now, so a
 *   healed outage stops warning once it is over (issue 12); whether the database answers now is
 *   `connection`'s verdict, rows that did not land are `batch_retry_health`'s and `dead_letter`'s.
 * - Failures that were each followed by a success → warn ("N failed reconnects, recovered at T").
 *   gbrain fails on any failure in the hour, which keeps the doctor red for an hour after an
 *   outage that already healed.
 * - ≥ 10 reaps → warn (pooler thrash).
 * - An unreadable audit file → at least warn (it may hide a failure).
 * - Otherwise ok — reported, not omitted (gbrain omits it).
 */
import {defineCheck} from './check.js'
import type {PoolRecoveryFacts} from './facts/audit-windows.js'
import {plural, unreadableAuditFiles, unreadableAuditFix, unreadableFileCommand} from './wording.js'
import {Findings} from './findings.js'
import {reconnectStillFailing} from './pool-health.js'
import type {CheckOutcome} from './types.js'
import {fixed} from './listing.js'
import {POOL_RECOVERY_WINDOW_HOURS} from './facts/audit-windows.js'

/** Reaps in the window at which the pool counts as thrashing (gbrain's). */
export const POOL_REAP_WARN = 10

export interface PoolReapHealthInput {
  facts: PoolRecoveryFacts
  /** Default {@link POOL_REAP_WARN}. */
  reapWarn?: number
}

export function judgePoolReapHealth(input: PoolReapHealthInput): CheckOutcome {
  const f = input.facts
  const reapWarn = input.reapWarn ?? POOL_REAP_WARN
  const hours = f.window.hours
  // Only a process that is still running can still be "throwing"; one that exited after failing
  // (e.g. a `gbrain cycle` that spooled its batches) is history: reported, not a failure.
  const unrecovered = f.pids.filter(reconnectStillFailing)
  const exited = f.pids.filter((p) => !p.recovered && p.alive === false)
  const recoveredFailing = f.pids.filter((p) => p.failures > 0 && p.recovered)

  const corruptNote = f.corrupt_lines > 0 ? ` (note: ${plural(f.corrupt_lines, 'corrupt JSONL line')} skipped)` : ''
  const reapsNote = `${plural(f.reaps, 'pooler reap')} detected`
  const found = new Findings()

  if (unrecovered.length > 0) {
    const failures = unrecovered.reduce((n, p) => n + p.failures, 0)
    const who = unrecovered
      .map((p) => `pid ${p.pid} last failed at ${p.last_failure_at}${p.last_failure_error ? `: ${p.last_failure_error}` : ''}`)
      .join('; ')
    found.add(
      'fail',
      `DB reconnect FAILED ${failures}× in last ${hours}h with no recovery since (${who}; ${reapsNote}) ` +
        `— reconnect is throwing; check DB reachability / credentials.`,
      {
        text: 'Check that the database is reachable and the credentials are valid, then reconnect the live engine processes.',
        commands: ['gbrain doctor --only connection', 'gbrain repair --reconnect'],
      },
    )
  } else if (exited.length > 0) {
    const who = exited.map((p) => `pid ${p.pid} last failed at ${p.last_failure_at}`).join('; ')
    found.add(
      'ok',
      `${plural(f.failures, 'failed reconnect')} in last ${hours}h by ${plural(exited.length, 'process', 'processes')} that exited without recovering ` +
        `(${who}; ${reapsNote}); no running process is failing: the outage is history.`,
    )
  } else if (f.failures > 0) {
    const recoveredAt = recoveredFailing
      .map((p) => p.last_success_at)
      .filter((x): x is string => x !== null)
      .sort()
      .at(-1)
    found.add(
      'warn',
      `${plural(f.failures, 'failed reconnect')} in last ${hours}h, recovered at ${recoveredAt ?? 'an unknown time'} (${reapsNote}).`,
      {
        text: 'The engine healed itself; if this repeats, check the pooler and the database.',
        commands: ['gbrain doctor --only connection'],
      },
    )
  } else if (f.reaps >= reapWarn) {
    found.add('warn', `DB pool reaped ${f.reaps}× in last ${hours}h (self-heal recovered each) — pooler thrash.`, {
      text: 'The pooler is closing idle client connections: raise its client idle timeout or lower the pool size (GBRAIN_POOL_SIZE).',
      commands: [],
    })
  } else {
    found.add(
      'ok',
      f.reaps === 0 && f.recoveries === 0
        ? `No pool reaps or reconnects in last ${hours}h.`
        : `${reapsNote} and ${plural(f.recoveries, 'successful reconnect')} in last ${hours}h, no failures.`,
    )
  }

  if (f.unreadable_files.length > 0) {
    // An unreadable file may hide a failure: at least a warning. A verdict that already has a fix keeps its sentence.
    const commands = f.unreadable_files.map((u) => unreadableFileCommand(u.file, u.error))
    found.add('warn', `${unreadableAuditFiles(f.unreadable_files)}.`, found.any ? {commands} : {text: unreadableAuditFix('the'), commands})
  }

  return found.outcome(found.messages.join(' ') + corruptNote, {
    details: {
      reaps: f.reaps,
      recoveries: f.recoveries,
      failures: f.failures,
      other_triggers: f.other_triggers,
      unrecovered_pids: unrecovered.map((p) => p.pid),
      exited_pids: exited.map((p) => p.pid),
      pids: f.pids,
      last_event: f.last_event,
      corrupt_lines: f.corrupt_lines,
      bad_ts_rows: f.bad_ts_rows,
      malformed_rows: f.malformed_rows,
      files_scanned: f.files_scanned.length,
      files: f.files_scanned,
      unreadable_files: f.unreadable_files,
      window: f.window,
    },
    observed_value: f.reaps,
    observed_unit: 'count',
    threshold: {warn: reapWarn},
  })
}

export const poolReapHealthCheck = defineCheck({
  name: 'pool_reap_health',
  category: 'pool',
  gatedOnConnection: false,
  downstreamOf: ['connection'],
  needs: ['poolRecovery'],
  judge: (f) => judgePoolReapHealth({facts: f.poolRecovery}),
  counts: {noun: ['pool reap', 'pool reaps']},
  explain: {
    looksAt: `The pool-recovery rows of the audit trail from the last ${POOL_RECOVERY_WINDOW_HOURS} h: reaped connection pools and reconnects. A failed reconnect of a running process that no success followed fails; failures that recovered are a warning.`,
    thresholds: () => [
      fixed(POOL_REAP_WARN, {level: 'warn', comparison: '≥', unit: ['pool reap', 'pool reaps'], measure: 'in the window'}),
    ],
  },
})

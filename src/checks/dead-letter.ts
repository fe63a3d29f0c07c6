/**
 * `dead_letter` (storage). Batches the engine could not land after all retries wait in the
 * dead-letter spool, with the fix `gbrain repair --replay`. An intact spool (every entry read and
 * valid, no loss in the ledger) whose oldest entry is younger than GBRAIN_DEAD_LETTER_FAIL_HOURS
 * (24) → warn: the rows are durable on disk and a replay lands them (issue 14: what
 * `doctor --auto-heal` heals). Older → fail (nobody replayed it). Unreadable or corrupt entries
 * (and an unreadable spool directory) → fail, naming them, and then waiting entries fail too. A loss recorded in the loss ledger (rows neither landed nor spooled, e.g.
 * on a full disk that also lost the audit row) → fail with ROWS LOST. Never prints row
 * contents: only ids, sites, counts and ages.
 */
import {defineCheck} from './check.js'
import type {SpoolFacts} from './facts/spool.js'
import {Findings} from './findings.js'
import {plural} from './wording.js'
import {shellQuote} from '../shared/shell-quote.js'
import type {CheckOutcome} from './types.js'
import {byEnv, fixed} from './listing.js'
import type {Thresholds} from './thresholds.js'

const HOUR_MS = 3_600_000

function age(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172_800) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86_400)} d`
}

/** `dead_letter` details (what the repair plan reads). */
export interface DeadLetterDetails {
  dir: string
  entries: number
  rows: number
  oldest_age_s: number | null
  by_site: SpoolFacts['by_site']
  corrupt: Array<{id: string; reason: string}>
  list_error: string | null
  ledger: {
    file: string
    exists: boolean
    lost_rows: number
    records: SpoolFacts['ledger']['records']
    corrupt_slots: number
    error: string | null
  }
}

/** Every entry was read and is valid, and the loss ledger records nothing and is usable. */
function intact(spool: SpoolFacts): boolean {
  const l = spool.ledger
  return spool.list_error === null && spool.corrupt.length === 0 && l.records.length === 0 && l.error === null && l.corrupt_slots === 0
}

export function judgeDeadLetter(spool: SpoolFacts, t: Thresholds['deadLetter']): CheckOutcome {
  const found = new Findings()
  const failMs = t.failHours * HOUR_MS

  if (spool.list_error !== null) {
    found.add('fail', `Dead-letter spool ${spool.dir} unreadable (${spool.list_error}): spooled rows cannot be checked.`, {
      text: 'Make the spool directory readable by its owner.',
      commands: [`chmod 700 ${shellQuote(spool.dir)}`],
    })
  }
  if (spool.entries > 0) {
    const sites = Object.entries(spool.by_site)
      .map(([site, s]) => `${site} = ${s.entries}`)
      .join(', ')
    const oldest = spool.oldest_age_ms ?? 0
    const safe = intact(spool) && oldest < failMs
    const why = safe
      ? 'safe on disk until replayed'
      : oldest >= failMs
        ? `not replayed within ${t.failHours} h; the rows are not in the database until replayed`
        : 'the rows are not in the database until replayed'
    found.add(
      safe ? 'warn' : 'fail',
      `${plural(spool.entries, 'batch', 'batches')} (${plural(spool.rows, 'row')}) waiting in the dead-letter spool, ` +
        `oldest ${age(oldest)} old (by site: ${sites}); ${why}.`,
      {
        text: 'Replay the spool once the database is reachable (idempotent; each entry is removed only after its rows landed).',
        commands: ['gbrain repair --replay'],
      },
    )
  }
  if (spool.corrupt.length > 0) {
    found.add(
      'fail',
      `${plural(spool.corrupt.length, 'corrupt spool entry', 'corrupt spool entries')}: ${spool.corrupt.map((c) => `${c.id} (${c.reason})`).join(', ')}.`,
      {
        text: 'Corrupt entries are never deleted automatically: inspect each one, then move it out of the spool.',
        commands: spool.corrupt.map((c) => `mv ${shellQuote(c.file)} ${shellQuote(`${c.file}.corrupt`)}`),
      },
    )
  }

  const ledger = spool.ledger
  const lost = ledger.records.reduce((n, r) => n + r.lost_rows, 0)
  if (ledger.records.length > 0) {
    const last = ledger.records.reduce((a, b) => (a.last_at >= b.last_at ? a : b))
    found.add(
      'fail',
      `ROWS LOST: ${plural(lost, 'row')} in ${plural(
        ledger.records.reduce((n, r) => n + r.lost_batches, 0),
        'batch',
        'batches',
      )} could be neither landed nor spooled ` +
        `(${plural(ledger.records.length, 'process', 'processes')}; last at ${last.last_at}, site ${last.last_site}: ${last.last_error}); recorded in ${ledger.file}.`,
      {
        text: 'Free space where the spool lives, rerun the cycle (it re-reads the sources; rows land idempotently), then remove the ledger (the next cycle makes it again).',
        commands: ['gbrain cycle', `rm ${shellQuote(ledger.file)}`],
      },
    )
  }
  if (ledger.error !== null || ledger.corrupt_slots > 0) {
    found.add(
      'fail',
      `The loss ledger ${ledger.file} is unusable (${ledger.error ?? `${plural(ledger.corrupt_slots, 'corrupt slot')}`}): a loss on a full disk could go unrecorded.`,
      {
        text: 'Remove it; the next cycle makes it again.',
        commands: [`rm ${shellQuote(ledger.file)}`],
      },
    )
  }

  return found.outcome(found.any ? found.messages.join(' ') : 'Dead-letter spool is empty.', {
    details: {
      dir: spool.dir,
      entries: spool.entries,
      rows: spool.rows,
      oldest_age_s: spool.oldest_age_ms === null ? null : Math.round(spool.oldest_age_ms / 1000),
      by_site: spool.by_site,
      corrupt: spool.corrupt.map((c) => ({id: c.id, reason: c.reason})),
      list_error: spool.list_error,
      ledger: {
        file: ledger.file,
        exists: ledger.exists,
        lost_rows: lost,
        records: ledger.records,
        corrupt_slots: ledger.corrupt_slots,
        error: ledger.error,
      },
    } satisfies DeadLetterDetails,
    observed_value: spool.entries + spool.corrupt.length,
    observed_unit: 'count',
    threshold: {warn: 1},
  })
}

export const deadLetterCheck = defineCheck({
  name: 'dead_letter',
  category: 'storage',
  gatedOnConnection: false,
  downstreamOf: ['connection'],
  needs: ['spool'],
  judge: (f, ctx) => judgeDeadLetter(f.spool, ctx.thresholds.deadLetter),
  counts: {noun: ['spool entry', 'spool entries']},
  explain: {
    looksAt:
      'The dead-letter spool: batches that could not be written after all retries and wait to be replayed (a warning while every entry is intact and the oldest is younger than the fail age: the rows are safe on disk), unreadable or corrupt entries and the loss ledger (rows neither written nor spooled, e.g. on a full disk), which always fail.',
    thresholds: () => [
      fixed(1, {level: 'warn', comparison: '≥', unit: ['entry', 'entries'], measure: 'waiting in the spool'}),
      byEnv('GBRAIN_DEAD_LETTER_FAIL_HOURS', {level: 'fail', comparison: '≥', unit: 'h', measure: 'since the oldest entry was spooled'}),
    ],
  },
})

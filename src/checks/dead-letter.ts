/**
 * `dead_letter` (storage). Batches the engine could not land after all retries wait in the
 * dead-letter spool: any entry → fail (its rows are at risk until replayed) with
 * `gbrain repair --replay`. Unreadable or corrupt entries (and an unreadable spool directory) →
 * fail, naming them. A loss recorded in the loss ledger (rows neither landed nor spooled, e.g.
 * on a full disk that also lost the audit row) → fail with ROWS LOST. Never prints row
 * contents: only ids, sites, counts and ages.
 */
import {defineCheck} from './check.js'
import type {SpoolFacts} from './facts/spool.js'
import {Findings} from './findings.js'
import {plural} from './wording.js'
import {shellQuote} from '../shared/shell-quote.js'
import type {CheckOutcome} from './types.js'
import {fixed} from './listing.js'

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

export function judgeDeadLetter(spool: SpoolFacts): CheckOutcome {
  const found = new Findings()

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
    found.add(
      'fail',
      `${plural(spool.entries, 'batch', 'batches')} (${plural(spool.rows, 'row')}) waiting in the dead-letter spool, ` +
        `oldest ${age(spool.oldest_age_ms ?? 0)} old (by site: ${sites}); the rows are not in the database until replayed.`,
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
    threshold: {fail: 1},
  })
}

export const deadLetterCheck = defineCheck({
  name: 'dead_letter',
  category: 'storage',
  gatedOnConnection: false,
  downstreamOf: ['connection'],
  needs: ['spool'],
  judge: (f) => judgeDeadLetter(f.spool),
  counts: {noun: ['spool entry', 'spool entries']},
  explain: {
    looksAt:
      'The dead-letter spool: batches that could not be written after all retries and wait to be replayed, unreadable or corrupt entries, and the loss ledger (rows neither written nor spooled, e.g. on a full disk).',
    thresholds: () => [fixed(1, {level: 'fail', comparison: '≥', unit: ['entry', 'entries'], measure: 'waiting in the spool'})],
  },
})

/** What the database checks read: the gathered facts, the clock and their thresholds. */
import type {DbFacts} from './facts-db.js'

export interface DbThresholds {
  cycleWarnHours: number
  cycleFailHours: number
  syncWarnHours: number
  syncFailHours: number
  slotsWarnPct: number
  slotsFailPct: number
  idleTxWarnMinutes: number
}

export interface DbCheckFacts {
  db: DbFacts
  now: number
  dbThresholds: DbThresholds
}

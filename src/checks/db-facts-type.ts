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

import type {Thresholds} from './thresholds.js'

export function dbThresholds(t: Thresholds): DbThresholds {
  return {
    cycleWarnHours: t.cycleFreshness.warnHours,
    cycleFailHours: t.cycleFreshness.failHours,
    syncWarnHours: t.syncFreshness.warnHours,
    syncFailHours: t.syncFreshness.failHours,
    slotsWarnPct: t.connectionSlots.warnPct,
    slotsFailPct: t.connectionSlots.failPct,
    idleTxWarnMinutes: t.idleTransactions.warnMinutes,
  }
}

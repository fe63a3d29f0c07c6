/**
 * The dead-letter spool as the doctor sees it: every entry read one at a time and kept only as a
 * summary (ids, sites, counts, ages — never rows), corrupt entries, and the loss ledger.
 */
import {AbortedError} from '../../shared/errors.js'
import {summarizeError} from '../../shared/redact.js'
import {CorruptSpoolEntryError, DeadLetterSpool, readLedger, type LedgerFacts} from '../../engine/index.js'
import {checkAbort, errnoCode, modeOf} from './fs.js'

export interface SpoolEntrySummary {
  id: string
  site: string
  target: string
  rows: number
  attempts: number
  created_at: string
  /** now − created_at (or the file's mtime when created_at does not parse), ≥ 0. */
  age_ms: number
  /** Classified kind of the last error (`connection`, `auth`, …); never the rows. */
  error_kind: string
}

export interface SpoolFacts {
  dir: string
  /** Whether the spool directory exists. */
  exists: boolean
  /** Why the directory could not be listed (ENOENT is not an error), or null. */
  list_error: string | null
  /** Readable, valid entries. */
  entries: number
  rows: number
  oldest_age_ms: number | null
  by_site: Record<string, {entries: number; rows: number}>
  items: SpoolEntrySummary[]
  /** Entries that could not be read or validated (never deleted automatically). */
  corrupt: Array<{id: string; file: string; reason: string}>
  /** Every entry id present, valid or corrupt (an exhausted row whose id is absent was replayed). */
  ids: string[]
  /** Permission bits of the directory, or null when absent. */
  dir_mode: number | null
  /** The loss ledger: rows lost when even the spool could not take them (loss-ledger.ts). */
  ledger: LedgerFacts
}

/** List and read every spool entry, keeping only summaries (never rows). */
export async function gatherSpool(spoolDir: string, now: number, signal?: AbortSignal): Promise<SpoolFacts> {
  const spool = new DeadLetterSpool(spoolDir)
  const facts: SpoolFacts = {
    dir: spoolDir,
    exists: false,
    list_error: null,
    entries: 0,
    rows: 0,
    oldest_age_ms: null,
    by_site: {},
    items: [],
    corrupt: [],
    ids: [],
    dir_mode: await modeOf(spoolDir),
    ledger: await readLedger(spoolDir),
  }
  let listing: Awaited<ReturnType<DeadLetterSpool['list']>>
  try {
    listing = await spool.list()
  } catch (e) {
    facts.exists = errnoCode(e) !== 'ENOENT'
    facts.list_error = summarizeError(e)
    return facts
  }
  facts.exists = facts.dir_mode !== null
  const bySite = new Map<string, {entries: number; rows: number}>()
  for (const item of listing) {
    checkAbort(signal)
    facts.ids.push(item.id)
    try {
      const entry = await spool.read(item.id)
      const created = Date.parse(entry.created_at)
      const age = Math.max(0, now - (Number.isFinite(created) ? created : item.mtimeMs))
      const rows = entry.rows.length
      facts.entries += 1
      facts.rows += rows
      facts.oldest_age_ms = facts.oldest_age_ms === null ? age : Math.max(facts.oldest_age_ms, age)
      const s = bySite.get(entry.site) ?? {entries: 0, rows: 0}
      s.entries += 1
      s.rows += rows
      bySite.set(entry.site, s)
      facts.items.push({
        id: entry.id,
        site: entry.site,
        target: entry.target,
        rows,
        attempts: typeof entry.attempts === 'number' ? entry.attempts : 0,
        created_at: entry.created_at,
        age_ms: age,
        error_kind: typeof entry.error?.kind === 'string' ? entry.error.kind : 'unknown',
      })
    } catch (e) {
      if (e instanceof AbortedError) throw e
      const reason = e instanceof CorruptSpoolEntryError ? e.message.replace(/^dead-letter entry \S+ is corrupt: /, '') : summarizeError(e)
      facts.corrupt.push({id: item.id, file: item.file, reason})
    }
  }
  facts.by_site = Object.fromEntries([...bySite.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  return facts
}

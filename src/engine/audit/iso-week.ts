/**
 * ISO-8601 week arithmetic for audit file rotation (audit-formats.md "Files and rotation").
 * Everything is UTC: weeks start on Monday 00:00Z and week 1 holds the year's first Thursday.
 */

const DAY_MS = 86_400_000
/** Length of one ISO week in milliseconds. */
export const WEEK_MS = 7 * DAY_MS

/** Date.UTC without its two-digit-year quirk (Date.UTC(50, 0, 1) is 1950). */
function utc(year: number, month: number, day: number): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month, day)
  return d.getTime()
}

/** An ISO week: the ISO week-numbering year (not always the calendar year) and the week 1–53. */
export interface IsoWeek {
  isoYear: number
  week: number
}

/** The ISO week holding `date` (UTC). Throws RangeError for an invalid Date. */
export function isoWeekOf(date: Date): IsoWeek {
  const ms = date.getTime()
  if (!Number.isFinite(ms)) throw new RangeError(`expected a valid Date, got ${String(date)}`)
  const midnight = Math.floor(ms / DAY_MS) * DAY_MS
  const weekday = (new Date(midnight).getUTCDay() + 6) % 7 // Monday = 0
  const thursday = new Date(midnight + (3 - weekday) * DAY_MS)
  const isoYear = thursday.getUTCFullYear()
  const dayOfYear = Math.floor((thursday.getTime() - utc(isoYear, 0, 1)) / DAY_MS)
  return {isoYear, week: Math.floor(dayOfYear / 7) + 1}
}

/** Format an ISO week as `2026-W53`. */
export function formatIsoWeek({isoYear, week}: IsoWeek): string {
  return `${String(isoYear).padStart(4, '0')}-W${String(week).padStart(2, '0')}`
}

/** `2026-W53` for 2027-01-01: the ISO week key of `date`, in UTC. Throws RangeError for an invalid Date. */
export function isoWeekKey(date: Date): string {
  return formatIsoWeek(isoWeekOf(date))
}

/** Monday 00:00Z of an ISO week. Throws RangeError unless `isoYear` is an integer and `week` an integer 1–53. */
export function isoWeekStart(isoYear: number, week: number): Date {
  if (!Number.isInteger(isoYear)) throw new RangeError(`expected an integer ISO year, got ${isoYear}`)
  if (!Number.isInteger(week) || week < 1 || week > 53) throw new RangeError(`expected an ISO week 1–53, got ${week}`)
  const jan4 = utc(isoYear, 0, 4)
  const jan4Weekday = (new Date(jan4).getUTCDay() + 6) % 7
  return new Date(jan4 - jan4Weekday * DAY_MS + (week - 1) * WEEK_MS)
}

/** Whether `isoYear` has a week 53. */
export function hasWeek53(isoYear: number): boolean {
  return isoWeekOf(new Date(utc(isoYear, 11, 28))).week === 53
}

/** `<feature>-<ISO-year>-W<NN>.jsonl`, from the week holding `date`. */
export function auditFileName(feature: string, date: Date): string {
  return `${feature}-${isoWeekKey(date)}.jsonl`
}

const FILE_RE = /^([A-Za-z0-9][A-Za-z0-9_-]*)-(\d{4})-W(\d{2})\.jsonl$/

/**
 * Parse `<feature>-<ISO-year>-W<NN>.jsonl`. Returns null for anything else, including a week
 * that does not exist in that year (W00, W54, or W53 of a 52-week year).
 */
export function parseAuditFileName(name: string): {feature: string; isoYear: number; week: number} | null {
  const m = FILE_RE.exec(name)
  if (!m) return null
  const feature = m[1]!
  const isoYear = Number(m[2])
  const week = Number(m[3])
  if (week < 1 || week > 53 || (week === 53 && !hasWeek53(isoYear))) return null
  return {feature, isoYear, week}
}

/**
 * Whether the whole ISO week lies strictly before `cutoffMs` (its end, the next Monday 00:00Z,
 * is at or before the cutoff) — the retention rule of `repair --prune-audit`.
 */
export function weekEndsBefore(isoYear: number, week: number, cutoffMs: number): boolean {
  return isoWeekStart(isoYear, week).getTime() + WEEK_MS <= cutoffMs
}

/**
 * The keys of every ISO week a window [fromMs, toMs] touches, oldest first (a window of ≤ 7 days
 * touches at most two). Empty when the bounds are not finite or `fromMs > toMs`.
 */
export function weeksTouching(fromMs: number, toMs: number): string[] {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs > toMs) return []
  const first = isoWeekOf(new Date(fromMs))
  const keys: string[] = []
  for (let start = isoWeekStart(first.isoYear, first.week).getTime(); start <= toMs; start += WEEK_MS) {
    keys.push(isoWeekKey(new Date(start)))
  }
  return keys
}

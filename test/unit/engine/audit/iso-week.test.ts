import {describe, expect, it} from 'vitest'
import fc from 'fast-check'
import {
  WEEK_MS,
  auditFileName,
  hasWeek53,
  isoWeekKey,
  isoWeekOf,
  isoWeekStart,
  parseAuditFileName,
  weekEndsBefore,
  weeksTouching,
} from '../../../../src/engine/audit/iso-week.js'

const d = (iso: string): Date => new Date(iso)

/** An independent reference (the thursday-rounding formulation gbrain uses). */
function referenceKey(date: Date): string {
  const t = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
  const day = t.getUTCDay() || 7
  t.setUTCDate(t.getUTCDate() + 4 - day)
  const year = t.getUTCFullYear()
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7)
  return `${year}-W${String(week).padStart(2, '0')}`
}

describe('isoWeekKey', () => {
  it.each([
    ['2027-01-01T00:00:00Z', '2026-W53'],
    ['2024-01-01T00:00:00Z', '2024-W01'],
    ['2026-01-05T00:00:00Z', '2026-W02'],
    ['2026-01-04T23:59:59.999Z', '2026-W01'],
    ['2025-12-29T00:00:00Z', '2026-W01'],
    ['2021-01-03T12:00:00Z', '2020-W53'],
    ['2019-12-30T00:00:00Z', '2020-W01'],
    ['2024-12-30T00:00:00Z', '2025-W01'],
    ['2026-12-28T00:00:00Z', '2026-W53'],
  ])('%s → %s', (iso, key) => {
    expect(isoWeekKey(d(iso))).toBe(key)
  })

  it('is computed in UTC, not local time', () => {
    // Sunday 23:30 at UTC-2 is already Monday in UTC.
    expect(isoWeekKey(d('2026-01-04T23:30:00-02:00'))).toBe('2026-W02')
  })

  it('rejects an invalid Date', () => {
    expect(() => isoWeekKey(new Date('nope'))).toThrow(RangeError)
  })
})

describe('auditFileName / parseAuditFileName', () => {
  it('names the file from the event date', () => {
    expect(auditFileName('batch-retry', d('2027-01-01T10:00:00Z'))).toBe('batch-retry-2026-W53.jsonl')
    expect(auditFileName('pool-recovery', d('2024-01-01T00:00:00Z'))).toBe('pool-recovery-2024-W01.jsonl')
  })

  it('parses valid names', () => {
    expect(parseAuditFileName('batch-retry-2026-W53.jsonl')).toEqual({feature: 'batch-retry', isoYear: 2026, week: 53})
    expect(parseAuditFileName('connection-events-2024-W01.jsonl')).toEqual({feature: 'connection-events', isoYear: 2024, week: 1})
  })

  it.each([
    'batch-retry-2025-W53.jsonl', // 2025 has 52 weeks
    'batch-retry-2026-W00.jsonl',
    'batch-retry-2026-W54.jsonl',
    'batch-retry-2026-W1.jsonl',
    'batch-retry-2026-W01.json',
    'batch-retry-2026-W01.jsonl.bak',
    '-2026-W01.jsonl',
    'notes.txt',
    '.batch-retry-2026-W01.jsonl',
  ])('rejects %s', (name) => {
    expect(parseAuditFileName(name)).toBeNull()
  })
})

describe('isoWeekStart', () => {
  it('is Monday 00:00Z', () => {
    expect(isoWeekStart(2026, 53).toISOString()).toBe('2026-12-28T00:00:00.000Z')
    expect(isoWeekStart(2024, 1).toISOString()).toBe('2024-01-01T00:00:00.000Z')
    expect(isoWeekStart(2026, 1).toISOString()).toBe('2025-12-29T00:00:00.000Z')
  })

  it('rejects nonsense', () => {
    expect(() => isoWeekStart(2026, 0)).toThrow(RangeError)
    expect(() => isoWeekStart(2026, 54)).toThrow(RangeError)
    expect(() => isoWeekStart(2026.5, 1)).toThrow(RangeError)
  })

  it('knows which years have a week 53', () => {
    expect([2015, 2020, 2026, 2032].map(hasWeek53)).toEqual([true, true, true, true])
    expect([2021, 2024, 2025].map(hasWeek53)).toEqual([false, false, false])
  })
})

const dates = fc.date({min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true})

describe('properties', () => {
  it('the week start is a Monday ≤ date < start + 7 d, and the key round-trips', () => {
    fc.assert(
      fc.property(dates, (date) => {
        const {isoYear, week} = isoWeekOf(date)
        const start = isoWeekStart(isoYear, week)
        expect(start.getUTCDay()).toBe(1)
        expect(start.getUTCHours() + start.getUTCMinutes() + start.getUTCSeconds() + start.getUTCMilliseconds()).toBe(0)
        expect(start.getTime()).toBeLessThanOrEqual(date.getTime())
        expect(date.getTime()).toBeLessThan(start.getTime() + WEEK_MS)
        expect(isoWeekKey(start)).toBe(isoWeekKey(date))
        expect(parseAuditFileName(auditFileName('batch-retry', date))).toEqual({feature: 'batch-retry', isoYear, week})
      }),
      {numRuns: 2000},
    )
  })

  it('agrees with an independent reference implementation', () => {
    fc.assert(
      fc.property(dates, (date) => {
        expect(isoWeekKey(date)).toBe(referenceKey(date))
      }),
      {numRuns: 2000},
    )
  })
})

describe('weeksTouching', () => {
  const now = Date.parse('2026-01-05T10:00:00Z') // Monday of 2026-W02

  it('a 24 h window across Monday midnight touches two weeks, oldest first', () => {
    expect(weeksTouching(now - 86_400_000, now)).toEqual(['2026-W01', '2026-W02'])
  })

  it('a window inside one week touches one', () => {
    expect(weeksTouching(now, now + 3_600_000)).toEqual(['2026-W02'])
  })

  it('a 7 d window touches the current and the previous week', () => {
    const wed = Date.parse('2026-01-07T12:00:00Z')
    expect(weeksTouching(wed - 7 * 86_400_000, wed)).toEqual(['2026-W01', '2026-W02'])
  })

  it('30 days across the year boundary', () => {
    const to = Date.parse('2027-01-10T00:00:00Z')
    expect(weeksTouching(to - 30 * 86_400_000, to)).toEqual(['2026-W50', '2026-W51', '2026-W52', '2026-W53', '2027-W01'])
  })

  it('an empty or inverted window touches nothing', () => {
    expect(weeksTouching(now, now - 1)).toEqual([])
    expect(weeksTouching(Number.NaN, now)).toEqual([])
    expect(weeksTouching(now, now)).toEqual(['2026-W02'])
  })

  it('property: ≤ 7 d windows touch 1 or 2 consecutive weeks, from key(from) to key(to)', () => {
    fc.assert(
      fc.property(dates, fc.integer({min: 0, max: 7 * 86_400_000}), (date, len) => {
        const to = date.getTime()
        const keys = weeksTouching(to - len, to)
        expect(keys.length === 1 || keys.length === 2).toBe(true)
        expect(keys[0]).toBe(isoWeekKey(new Date(to - len)))
        expect(keys.at(-1)).toBe(isoWeekKey(new Date(to)))
      }),
      {numRuns: 2000},
    )
  })
})

describe('weekEndsBefore (retention)', () => {
  it('a week lies before the cutoff only when its end (next Monday) is ≤ cutoff', () => {
    const end = Date.parse('2026-01-05T00:00:00Z') // end of 2026-W01
    expect(weekEndsBefore(2026, 1, end)).toBe(true)
    expect(weekEndsBefore(2026, 1, end - 1)).toBe(false)
    expect(weekEndsBefore(2026, 2, end)).toBe(false)
  })
})

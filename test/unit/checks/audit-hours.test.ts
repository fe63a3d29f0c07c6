/**
 * The HTML report's hourly audit counts: which hour a row falls in, per-site series by outcome,
 * the largest sites shown and the rest summed, bounded tracking of distinct sites, reconnects and
 * disconnects, and the gatherer over real files (hostile lines skipped, not thrown on).
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
  gatherAuditHours,
  hourCounter,
  hourIndex,
  MAX_SITE_CHARS,
  MAX_TRACKED_SITES,
  OTHER_SITE,
  SHOWN_SITES,
} from '../../../src/checks/facts/audit-hours.js'
import {isoWeekKey} from '../../../src/engine/audit/iso-week.js'
import {removeHomes, tempDir} from '../../helpers/doctor-kit.js'

const H = 3_600_000
const NOW = Date.parse('2026-03-10T12:30:00.000Z')
const FROM = NOW - 24 * H

afterAll(() => removeHomes())

describe('hourIndex', () => {
  it('puts the window start in hour 0, the end in hour 23, and anything outside at -1', () => {
    expect(hourIndex(FROM, FROM, 24)).toBe(0)
    expect(hourIndex(FROM + H - 1, FROM, 24)).toBe(0)
    expect(hourIndex(FROM + H, FROM, 24)).toBe(1)
    expect(hourIndex(NOW - 1, FROM, 24)).toBe(23)
    expect(hourIndex(NOW, FROM, 24)).toBe(23)
    expect(hourIndex(FROM - 1, FROM, 24)).toBe(-1)
    expect(hourIndex(NOW + 1, FROM, 24)).toBe(-1)
    expect(hourIndex(Number.NaN, FROM, 24)).toBe(-1)
  })
})

describe('hourCounter', () => {
  it('counts each outcome per site and hour, and reconnects and disconnects per hour', () => {
    const c = hourCounter(NOW)
    c.retryRow({site: 'cycle.links', outcome: 'success'}, NOW - 10)
    c.retryRow({site: 'cycle.links', outcome: 'success'}, NOW - 20)
    c.retryRow({site: 'cycle.links', outcome: 'exhausted'}, NOW - 30)
    c.retryRow({site: 'cycle.pages', outcome: 'recovered'}, FROM + 5)
    c.retryRow({site: 'cycle.pages', outcome: 'bogus'}, FROM + 5)
    c.retryRow({site: 42, outcome: 'success'}, FROM + 2 * H)
    c.recoveryRow({kind: 'reap_detected'}, NOW - 5)
    c.recoveryRow({kind: 'reconnect_failed'}, NOW - 5)
    c.recoveryRow({kind: 'reconnect_succeeded'}, NOW - 2 * H)
    c.disconnectRow({reason: 'exit'}, NOW - 5)
    c.disconnectRow({}, NOW - 5)
    const r = c.result({skipped: 3, unreadable: 1})
    expect(r.window).toEqual({from: new Date(FROM).toISOString(), to: new Date(NOW).toISOString(), hours: 24})
    expect(r.starts).toHaveLength(24)
    expect(r.starts[23]).toBe(new Date(FROM + 23 * H).toISOString())
    expect(r.sites.map((s) => [s.site, s.total])).toEqual([
      ['cycle.links', 3],
      ['(unknown)', 1],
      ['cycle.pages', 1],
    ])
    const links = r.sites[0]!
    expect(links.retries[23]).toBe(2)
    expect(links.exhausted[23]).toBe(1)
    expect(links.retries.reduce((a, b) => a + b)).toBe(2)
    expect(r.sites[2]!.recovered[0]).toBe(1)
    expect(r.reconnects[23]).toBe(1)
    expect(r.reconnects_failed[23]).toBe(1)
    expect(r.reconnects[22]).toBe(1) // 2 h before the end: 22 h into the window
    expect(r.disconnects[23]).toBe(1)
    expect(r.skipped_rows).toBe(3 + 1) // the bogus outcome
    expect(r.unreadable_files).toBe(1)
  })

  it(`shows the ${SHOWN_SITES} largest sites and sums the rest as ${OTHER_SITE}; hostile names are cut, not dropped`, () => {
    const c = hourCounter(NOW)
    for (let s = 0; s < SHOWN_SITES + 3; s++) for (let k = 0; k <= s; k++) c.retryRow({site: `site-${s}`, outcome: 'success'}, NOW - 1)
    const long = `<script>${'x'.repeat(10_000)}`
    c.retryRow({site: long, outcome: 'exhausted'}, NOW - 1)
    const r = c.result({skipped: 0, unreadable: 0})
    expect(r.sites).toHaveLength(SHOWN_SITES + 1)
    expect(r.sites[0]!.site).toBe(`site-${SHOWN_SITES + 2}`)
    const other = r.sites.at(-1)!
    expect(other.site).toBe(OTHER_SITE)
    // sites 0, 1, 2 (1 + 2 + 3 rows) and the long one (1 row) are the smallest
    expect(other.total).toBe(1 + 2 + 3 + 1)
    expect(other.exhausted[23]).toBe(1)
    expect(r.sites.reduce((n, s) => n + s.total, 0)).toBe(((SHOWN_SITES + 3) * (SHOWN_SITES + 4)) / 2 + 1)
    const c2 = hourCounter(NOW)
    c2.retryRow({site: long, outcome: 'success'}, NOW - 1)
    expect(c2.result({skipped: 0, unreadable: 0}).sites[0]!.site).toHaveLength(MAX_SITE_CHARS)
  })

  it(`tracks at most ${MAX_TRACKED_SITES} distinct sites; later ones count as ${OTHER_SITE}`, () => {
    const c = hourCounter(NOW)
    for (let s = 0; s < MAX_TRACKED_SITES + 500; s++) c.retryRow({site: `s${s}`, outcome: 'success'}, NOW - 1)
    const r = c.result({skipped: 0, unreadable: 0})
    expect(r.sites.reduce((n, s) => n + s.total, 0)).toBe(MAX_TRACKED_SITES + 500)
    expect(r.sites.at(-1)).toMatchObject({site: OTHER_SITE, total: MAX_TRACKED_SITES + 500 - SHOWN_SITES})
  })
})

describe('gatherAuditHours', () => {
  it('reads the three features from files, skipping corrupt lines and rows outside the window', async () => {
    const dir = path.join(tempDir('gbrain-hours-'), 'audit')
    mkdirSync(dir, {recursive: true})
    const week = isoWeekKey(new Date(NOW))
    const ts = (ms: number): string => new Date(ms).toISOString()
    const retry = (ms: number, outcome: string, site = 'cycle.links'): string =>
      JSON.stringify({ts: ts(ms), site, batch_size: 10, attempt: 1, outcome, delay_ms: 5, error_message_summary: 'x'})
    writeFileSync(
      path.join(dir, `batch-retry-${week}.jsonl`),
      [
        retry(NOW - 60_000, 'success'),
        retry(NOW - 50_000, 'exhausted'),
        retry(NOW - 25 * H, 'success'), // before the window
        'not json {',
        '{"ts":"yesterday-ish","site":"a","outcome":"success"}',
        retry(NOW - 5 * H, 'recovered', 'cycle.pages\u0000\u001b[31m'),
      ].join('\n') + '\n',
    )
    writeFileSync(
      path.join(dir, `pool-recovery-${week}.jsonl`),
      `${JSON.stringify({ts: ts(NOW - 1000), kind: 'reconnect_failed', pid: 7})}\n${JSON.stringify({ts: ts(NOW - 900), kind: 'reconnect_succeeded', pid: 7})}\n`,
    )
    writeFileSync(path.join(dir, `db-disconnect-${week}.jsonl`), `${JSON.stringify({ts: ts(NOW - 800), reason: 'exit', pid: 7})}\n`)
    const r = await gatherAuditHours(dir, NOW)
    expect(r.sites.map((s) => s.site)).toEqual(['cycle.links', 'cycle.pages\u0000\u001b[31m'])
    expect(r.sites[0]!.retries[23]).toBe(1)
    expect(r.sites[0]!.exhausted[23]).toBe(1)
    expect(r.sites[1]!.recovered[19]).toBe(1) // 5 h before the end
    expect(r.reconnects[23]).toBe(2)
    expect(r.reconnects_failed[23]).toBe(1)
    expect(r.disconnects.every((n) => n === 0)).toBe(true)
    expect(r.skipped_rows).toBe(2) // the corrupt line and the unreadable ts
    expect(r.unreadable_files).toBe(0)
  })
})

/**
 * The byte-level fast path must agree with the ordinary parse path on every line: it may only
 * decline (null), never misread.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {fastRetryRow} from '../../../../src/engine/audit/fast-row.js'
import {isBatchRetryRow} from '../../../../src/engine/audit/guards.js'
import {scanWindow} from '../../../../src/engine/audit/reader.js'
import {auditFileName} from '../../../../src/engine/audit/iso-week.js'
import {gatherBatchRetry} from '../../../../src/checks/facts/audit-windows.js'

const TS = '2026-11-28T10:00:00.000Z'
const line = (o: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(o))
const ours = (outcome: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ts: TS,
  site: 'cycle.pages',
  batch_size: 500,
  attempt: 1,
  outcome,
  delay_ms: 0,
  error_message_summary: 'connect ECONNREFUSED',
  ...extra,
})

describe('fastRetryRow', () => {
  it('reads our writer’s success and recovered rows, with and without error_code', () => {
    for (const outcome of ['success', 'recovered'] as const) {
      const b = line(ours(outcome))
      expect(fastRetryRow(b, 0, b.length)).toEqual({site: 'cycle.pages', outcome})
      const c = line(ours(outcome, {error_code: 'ECONNREFUSED'}))
      expect(fastRetryRow(c, 0, c.length)).toEqual({site: 'cycle.pages', outcome})
    }
  })

  it.each([
    ['exhausted rows', ours('exhausted', {spooled: true})],
    [
      'gbrain’s key order (ts last)',
      {site: 'x', batch_size: 1, attempt: 1, outcome: 'success', delay_ms: 0, error_message_summary: 'e', ts: TS},
    ],
    ['escapes in a string', ours('success', {error_message_summary: 'a "quoted" \\ thing'})],
    ['non-ASCII site', ours('success', {site: 'café'})],
    ['attempt 0', ours('success', {attempt: 0})],
    ['a fraction', ours('success', {delay_ms: 1.5})],
    ['an unknown extra field', ours('success', {spooled: false})],
    ['an unknown outcome', ours('successful')],
  ])('declines %s', (_name, row) => {
    const b = line(row)
    expect(fastRetryRow(b, 0, b.length)).toBeNull()
  })

  it('never disagrees with JSON.parse + the guard (property)', () => {
    const str = fc.string({maxLength: 20})
    const row = fc.record(
      {
        ts: fc.constant(TS),
        site: str,
        batch_size: fc.oneof(fc.integer({min: -2, max: 1000}), fc.double()),
        attempt: fc.integer({min: -1, max: 9}),
        outcome: fc.constantFrom('success', 'recovered', 'exhausted', 'other'),
        delay_ms: fc.integer({min: 0, max: 10_000}),
        error_message_summary: str,
      },
      {requiredKeys: ['ts']},
    )
    fc.assert(
      fc.property(row, fc.option(str, {nil: undefined}), (r, code) => {
        const obj = code === undefined ? r : {...r, error_code: code}
        const b = line(obj)
        const fast = fastRetryRow(b, 0, b.length)
        if (fast === null) return
        const parsed = JSON.parse(b.toString()) as Record<string, unknown>
        expect(isBatchRetryRow(parsed)).toBe(true)
        expect(fast).toEqual({site: parsed.site, outcome: parsed.outcome})
      }),
    )
  })
})

describe('gatherBatchRetry with the fast path', () => {
  it('aggregates exactly what the parse-every-line path does', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-fast-'))
    const now = Date.parse('2026-11-28T12:00:00Z')
    const rows: Record<string, unknown>[] = []
    for (let i = 0; i < 300; i++) {
      const ts = new Date(now - i * 240_000).toISOString()
      const site = ['cycle.pages', 'cycle.links', 'café', 'a"b'][i % 4]!
      const outcome = ['success', 'recovered', 'success', 'exhausted'][i % 4]!
      rows.push(
        i % 7 === 0
          ? {site, batch_size: 10, attempt: 2, outcome, delay_ms: 5, error_message_summary: 'x', ts} // gbrain order
          : {
              ts,
              site,
              batch_size: 10,
              attempt: 2,
              outcome,
              delay_ms: 5,
              error_message_summary: i % 5 === 0 ? 'with "quotes"' : 'x',
              ...(outcome === 'exhausted' ? {spooled: i % 2 === 0} : {}),
            },
      )
    }
    writeFileSync(path.join(dir, auditFileName('batch-retry', new Date(now))), rows.map((r) => JSON.stringify(r)).join('\n') + '\n{bad\n')
    const facts = await gatherBatchRetry(dir, now)
    // The reference: every line parsed.
    const ref = {scheduled: 0, recovered: 0, exhausted: 0, bySite: new Map<string, number[]>()}
    await scanWindow({dir, feature: 'batch-retry', windowMs: 86_400_000, now}, (row) => {
      const s = String(row.site)
      const v = ref.bySite.get(s) ?? [0, 0, 0]
      if (row.outcome === 'success') {
        ref.scheduled++
        v[0]!++
      }
      if (row.outcome === 'recovered') {
        ref.recovered++
        v[1]!++
      }
      if (row.outcome === 'exhausted') {
        ref.exhausted++
        v[2]!++
      }
      ref.bySite.set(s, v)
    })
    expect(facts.retries_scheduled).toBe(ref.scheduled)
    expect(facts.recovered).toBe(ref.recovered)
    expect(facts.exhausted_total).toBe(ref.exhausted)
    for (const [s, [sch, rec, exh]] of ref.bySite) {
      expect(facts.by_site[s]).toMatchObject({retries_scheduled: sch, recovered: rec, exhausted: exh})
    }
    expect(facts.corrupt_lines).toBe(1)
    expect(ref.scheduled).toBeGreaterThan(0)
  })
})

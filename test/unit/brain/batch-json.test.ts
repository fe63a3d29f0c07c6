/**
 * The cycle's batches travel as one JSON text parameter (writers.ts `rowsParam`), read back by
 * PostgreSQL's JSON parser, which rejects the `\udXXX` escape of a lone UTF-16 surrogate. A
 * summary cut mid-pair must store U+FFFD (what the driver's UTF-8 encoding of a text parameter
 * stored before), and nothing else in the text may change.
 */
import {describe, expect, it} from 'vitest'
import {rowsParam} from '../../../src/brain/writers.js'

describe('rowsParam', () => {
  it('is the rows as JSON when every string is well formed, hostile text included', () => {
    const rows = [
      {slug: 'a', summary: 'quote " backslash \\ newline \n tab \t nul \u0000 emoji 😀 $1; drop table pages; --'},
      {slug: 'b', summary: 'a literal \\ud800 written as text'},
    ]
    const json = rowsParam(rows)
    expect(json).toBe(JSON.stringify(rows))
    expect(JSON.parse(json)).toEqual(rows)
  })

  it('turns a lone surrogate into U+FFFD and keeps its neighbours', () => {
    const cut = '😀😀'.slice(0, 3) // a whole emoji, then a high surrogate alone
    const rows = [{summary: cut}, {summary: `x\udc00y`}, {summary: '\\\ud800'}]
    const back = JSON.parse(rowsParam(rows)) as Array<{summary: string}>
    expect(back.map((r) => r.summary)).toEqual(['😀\ufffd', 'x\ufffdy', '\\\ufffd'])
    expect(rowsParam(rows)).not.toMatch(/\\ud[89a-f]/)
  })
})

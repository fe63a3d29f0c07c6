/**
 * The classifier's codes are data: one row in CODE_RULES drives both the lookup by an error's
 * `code` and the scan of message text (`connect ECONNREFUSED 127.0.0.1:5432`), so a new
 * retryable code is one table row. And each kind's next steps live in one table.
 */
import {describe, expect, it} from 'vitest'
import {CODE_RULES, MESSAGE_CODE_RE, messageCodePattern, rule} from '../../../src/engine/classify-rules.js'
import {classify, KIND_HINTS, NEXT_STEPS, type Classified} from '../../../src/engine/classify.js'

const verdict = (c: Classified): Partial<Classified> => ({
  kind: c.kind,
  retryable: c.retryable,
  inDoubt: c.inDoubt,
  connectionLevel: c.connectionLevel,
  hint: c.hint,
  code: c.code,
})

describe('classify rules: one table drives both lookup paths', () => {
  const rows = Object.entries(CODE_RULES)

  it.each(rows.filter(([, r]) => r.inMessage))('%s: found by code and in message text, with one verdict', (code, r) => {
    const message = `connect ${code} 10.1.2.3:5432`
    const byCode = classify(Object.assign(new Error(message), {code}))
    const byText = classify(new Error(message))
    expect(byCode.kind).toBe(r.kind)
    expect(byCode.retryable).toBe(r.retryable)
    expect(verdict(byText)).toEqual(verdict(byCode))
  })

  it.each(rows.filter(([, r]) => !r.inMessage))('%s: found by code only', (code, r) => {
    expect(classify(Object.assign(new Error('boom'), {code})).kind).toBe(r.kind)
    expect(classify(new Error(`connect ${code} 10.1.2.3:5432`)).kind).toBe('unknown')
  })

  it('the message scan lists exactly the rows marked inMessage', () => {
    const scanned = MESSAGE_CODE_RE.source
      .replace(/^\\b\(|\)\\b$/g, '')
      .split('|')
      .sort()
    expect(scanned).toEqual(
      rows
        .filter(([, r]) => r.inMessage)
        .map(([code]) => code)
        .sort(),
    )
  })

  it('a new row marked inMessage is found in message text with no other change', () => {
    const re = messageCodePattern({...CODE_RULES, EBRANDNEW: rule('network', {retryable: true, connectionLevel: true, inMessage: true})})
    expect(re.exec('connect EBRANDNEW 10.1.2.3:5432')?.[1]).toBe('EBRANDNEW')
    expect(re.exec('connect ECONNREFUSED 10.1.2.3:5432')?.[1]).toBe('ECONNREFUSED')
    expect(re.exec('connect EBRANDNEWER 10.1.2.3:5432')).toBeNull()
  })

  it('named flags default to false', () => {
    expect(rule('syntax')).toEqual({kind: 'syntax', retryable: false, inDoubt: false, connectionLevel: false})
    expect(rule('reset', {retryable: true, inDoubt: true, connectionLevel: true})).toEqual({
      kind: 'reset',
      retryable: true,
      inDoubt: true,
      connectionLevel: true,
    })
  })
})

describe('next steps: one table per kind', () => {
  it('the hints are the hint column of NEXT_STEPS', () => {
    expect(Object.keys(KIND_HINTS).sort()).toEqual(Object.keys(NEXT_STEPS).sort())
    for (const [kind, steps] of Object.entries(NEXT_STEPS)) expect(KIND_HINTS[kind as keyof typeof KIND_HINTS]).toBe(steps.hint)
  })

  it('connection fixes exist for the causes a person can act on', () => {
    const withFix = Object.entries(NEXT_STEPS)
      .filter(([, s]) => s.connectionFix !== null)
      .map(([k]) => k)
      .sort()
    expect(withFix).toEqual([
      'auth',
      'dns',
      'refused',
      'shutdown',
      'starting_up',
      'timeout',
      'tls',
      'too_many_connections',
      'unknown_database',
      'unknown_role',
    ])
  })
})

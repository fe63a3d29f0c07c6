import {describe, expect, it} from 'vitest'
import {Findings} from '../../../src/checks/findings.js'
import {unreadableAuditFiles, unreadableAuditFix, unreadableFileCommand} from '../../../src/checks/wording.js'

describe('Findings', () => {
  it('nothing found: ok, no fix', () => {
    const f = new Findings()
    expect(f.any).toBe(false)
    expect(f.outcome('all good', {observed_value: 0})).toEqual({status: 'ok', message: 'all good', observed_value: 0})
  })

  it('the worst level wins; the fix joins texts and keeps each command once, ok findings add none', () => {
    const f = new Findings()
      .add('warn', 'a', {text: 'Do A.', commands: ['x', 'y']})
      .add('ok', 'fine', {text: 'never shown', commands: ['z']})
      .add('fail', 'b', {text: 'Do B.', commands: ['y', 'w']})
      .add('warn', 'c', {commands: ['v']})
    expect(f.status).toBe('fail')
    expect(f.messages).toEqual(['a', 'fine', 'b', 'c'])
    expect(f.fix).toEqual({text: 'Do A. Do B.', commands: ['x', 'y', 'w', 'v']})
    const o = f.outcome('m', {details: {k: 1}, threshold: {fail: 1}})
    expect(Object.keys(o)).toEqual(['status', 'message', 'details', 'threshold', 'fix'])
  })

  it('worstFirst orders messages and fixes by severity, ties in the order added', () => {
    const f = new Findings({worstFirst: true})
      .add('warn', 'w1', {text: 'W1.'})
      .add('ok', 'o')
      .add('fail', 'f', {text: 'F.'})
      .add('warn', 'w2', {text: 'W2.'})
    expect(f.messages).toEqual(['f', 'w1', 'w2', 'o'])
    expect(f.fix?.text).toBe('F. W1. W2.')
  })
})

describe('shared wording', () => {
  it('names unreadable audit files one way, with a fix per kind of failure', () => {
    expect(unreadableAuditFiles([{file: '/a/x.jsonl', error: 'EACCES'}])).toBe('1 audit file unreadable: /a/x.jsonl (EACCES)')
    expect(
      unreadableAuditFiles([
        {file: '/a', error: 'E1'},
        {file: '/b', error: 'E2'},
      ]),
    ).toBe('2 audit files unreadable: /a (E1), /b (E2)')
    expect(unreadableAuditFix('each')).toBe('Make each audit file readable by its owner (or move a non-file out of the audit directory).')
    expect(unreadableFileCommand('/h/audit/f.jsonl', 'EACCES')).toBe('chmod 600 /h/audit/f.jsonl')
    expect(unreadableFileCommand('/h/audit/f.jsonl', 'EISDIR')).toBe('mv /h/audit/f.jsonl /h/audit/f.jsonl.not-audit')
    expect(unreadableFileCommand('/h/audit/f.jsonl', 'ENOTDIR')).toBe('mv /h/audit /h/audit.not-audit')
  })
})

/** The one sanitiser under every printer (shared/safe-text.ts): terminal-safe, no workflow command, ellipsized at a word. */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {ellipsize, safeLine, workflowSafe} from '../../../src/shared/safe-text.js'

describe('ellipsize', () => {
  it('keeps text that fits and cuts long text at a word, never mid-word (issue 10: the lock message cut at 200 characters)', () => {
    expect(ellipsize('gbrain serve', 80)).toBe('gbrain serve')
    expect(ellipsize('bun /opt/gbrain/bin/gbrain serve --port 8080 --data-dir /home/ops/brain', 40)).toBe(
      'bun /opt/gbrain/bin/gbrain serve --port…',
    )
  })
  it('cuts a single long word (nothing better) with the ellipsis, within the bound, on a code point', () => {
    expect(ellipsize('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`)
    expect(ellipsize(`${'a'.repeat(8)}😀😀`, 10)).toBe(`${'a'.repeat(8)}…`)
  })
  it('never exceeds the bound, for any text', () => {
    fc.assert(
      fc.property(fc.string({maxLength: 300}), fc.integer({min: 2, max: 200}), (s, max) => {
        const out = ellipsize(s, max)
        expect(out.length).toBeLessThanOrEqual(max)
        if (s.length <= max) expect(out).toBe(s)
        else expect(out.endsWith('…')).toBe(true)
      }),
    )
  })
})

describe('safeLine / workflowSafe', () => {
  it('one line, no control character, no workflow command', () => {
    expect(safeLine('a\n::error::x\r\n##[warning]y\u001b[31m\u0007')).toBe('a ::error::x # #[warning]y\uFFFD')
    expect(workflowSafe('::x\n  ::y\nok ::z')).toBe(': :x\n  : :y\nok ::z')
  })
})

/**
 * No credential leaves through a renderer: a password planted in every free-text field of a
 * report (messages, details — values, keys, nested —, fixes, commands, units, perf labels, the
 * target, stacks) never appears in any output of any format, whatever text surrounds it.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {Report} from '../../../src/checks/types.js'
import {
  jsonReport,
  renderDebugStacks,
  renderGithub,
  renderGithubStepSummary,
  renderJson,
  renderJsonError,
  renderJunit,
  renderNagios,
  renderPrometheus,
  renderTable,
} from '../../../src/render/index.js'
import {SECRET_KV, SECRET_PIECES, SECRET_URL, secretReport} from './fixtures.js'

/** Every output a command can produce from a report, in every mode. */
function allOutputs(report: Report, text: string): [string, string][] {
  return [
    ['table', renderTable(report)],
    ['table verbose debug wide', renderTable(report, {verbose: true, debug: true, width: 1000})],
    ['table ascii colour', renderTable(report, {unicode: false, color: true, verbose: true, debug: true})],
    ['table narrow', renderTable(report, {width: 40, verbose: true, debug: true})],
    ['table quiet', renderTable(report, {quiet: true})],
    ['debug stacks', renderDebugStacks(report)],
    ['json', renderJson(report)],
    ['json object', JSON.stringify(jsonReport(report))],
    ['json error', renderJsonError({code: 'X', message: text, hint: text})],
    ['junit', renderJunit(report)],
    ['github', renderGithub(report)],
    ['github summary', renderGithubStepSummary(report)],
    ['nagios', renderNagios(report)],
    ['prometheus', renderPrometheus(report)],
  ]
}

function expectNoSecret(report: Report, text: string): void {
  for (const [name, out] of allOutputs(report, text)) {
    for (const piece of SECRET_PIECES) expect(out.includes(piece), `${name} leaks ${piece}`).toBe(false)
  }
}

describe('renderers never print a planted credential', () => {
  it.each([
    ['a URL', `could not reach ${SECRET_URL} after 3 tries`],
    ['a libpq password', `host=10.1.2.3 user=u ${SECRET_KV} dbname=db`],
    ['both, glued to punctuation', `"${SECRET_URL}",(${SECRET_KV})`],
    ['a JSON-ish password', `{"password":"Pl4nted-S3cret!x"}`],
  ])('%s', (_label, text) => {
    const report = secretReport(text)
    expectNoSecret(report, text)
    // The planted text really reached every field the renderers print.
    expect(report.checks[0]?.message).toContain('Pl4nted')
    expect(report.top_issues[0]?.message).toContain('Pl4nted')
  })

  it('for any text around the secret, in every format', () => {
    const noise = fc.oneof(
      fc.string({maxLength: 40}),
      fc.string({unit: 'binary', maxLength: 40}),
      fc.string({unit: 'grapheme', maxLength: 20}),
    )
    const planted = fc
      .tuple(
        noise,
        fc.constantFrom(SECRET_URL, SECRET_KV, `PGPASSWORD=${'Pl4nted-S3cret!x'}`, `jdbc:postgresql://db/x?password=Pl4nted-S3cret!x`),
        noise,
      )
      .map(([a, s, b]) => `${a} ${s} ${b}`)
    fc.assert(
      fc.property(planted, planted, (text, other) => {
        expectNoSecret(secretReport(text, other), text)
      }),
      {numRuns: 80},
    )
  })
})

describe('removing or folding characters never assembles a credential redaction did not see', () => {
  // Each text hides the key from redaction; a renderer that strips the escape / NUL, folds the
  // fullwidth letters, or swaps `|` for `/` after redacting would print a readable credential.
  it.each([
    ['an ANSI sequence inside the key', 'pass\u001b[0mword=Pl4nted-S3cret!x'],
    ['an OSC sequence inside the key', 'pass\u001b]0;t\u0007word=Pl4nted-S3cret!x'],
    ['a NUL inside the key', 'pass\u0000word=Pl4nted-S3cret!x'],
    ['fullwidth letters', '\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44=Pl4nted-S3cret!x'],
    ['pipes for slashes', 'postgres:||u:Pl4nted-S3cret!x@db|x'],
  ])('%s', (_label, text) => {
    const report = secretReport(text)
    for (const [name, out] of allOutputs(report, text)) {
      expect(out, name).not.toMatch(/password=Pl4nted|postgres:\/\/u:Pl4nted/i)
    }
  })
})

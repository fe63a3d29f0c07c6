/**
 * JUnit XML for CI test reporters: one `<testsuite name="gbrain-doctor">`, one `<testcase>` per
 * check (classname `gbrain.doctor.<category>`, name = check name, made unique). `fail` →
 * `<failure>`, `unknown` → `<error>` (the check could not be evaluated), `skipped` → `<skipped>`,
 * `warn` → a passing test case whose `<system-out>` carries the warning, and so does an
 * acknowledged finding (`acknowledged warn: …`); message and fix in the body. Everything is redacted, XML-escaped, and stripped of characters XML 1.0 forbids.
 */
import type {CheckResult, Report} from '../checks/types.js'
import {asText, clean} from './text.js'

/** Characters XML 1.0 does not allow at all (escaping cannot save them), lone surrogates included. */
const XML_ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/** Remove characters that are illegal in XML 1.0. */
export function xmlLegal(text: string): string {
  return text.replace(XML_ILLEGAL, '')
}

/** Escape for element text. CR is kept as a reference so parsers do not normalise it away. */
export function xmlText(text: string): string {
  return xmlLegal(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;')
}

/** Escape for a double-quoted attribute value; tabs and newlines as references (they survive). */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;')
}

/**
 * Check data as XML-ready text: illegal characters removed first, then redacted (removing them
 * after redaction could join a credential pattern redaction never saw, `pass\u0000word=…`).
 */
function data(value: unknown): string {
  return clean(xmlLegal(asText(value)))
}

/** Seconds with millisecond precision, as JUnit's `time` attributes expect. */
function seconds(ms: number): string {
  return Number.isFinite(ms) && ms >= 0 ? (ms / 1000).toFixed(3) : '0.000'
}

/** Message, fix and commands, and the root cause, as the body of a failure / error / system-out. */
function body(c: CheckResult): string {
  const lines = [data(c.message)]
  if (c.fix) {
    lines.push(`fix: ${data(c.fix.text)}`)
    for (const cmd of c.fix.commands) lines.push(`  $ ${data(cmd)}`)
  }
  if (c.downstream_of && c.downstream_of.length > 0) lines.push(`downstream of: ${c.downstream_of.map(data).join(', ')}`)
  return xmlText(lines.join('\n'))
}

/** Check names as test names, unique within the suite (`name`, `name (2)`, …). */
function uniqueNames(checks: readonly CheckResult[]): string[] {
  const used = new Set<string>()
  return checks.map((c) => {
    const base = data(c.name)
    let name = base
    for (let i = 2; used.has(name); i++) name = `${base} (${i})`
    used.add(name)
    return name
  })
}

function testcase(c: CheckResult, name: string): string {
  const open = `    <testcase classname="${xmlAttr(`gbrain.doctor.${data(c.category)}`)}" name="${xmlAttr(name)}" time="${seconds(c.duration_ms)}"`
  const message = xmlAttr(data(c.message))
  switch (c.status) {
    case 'ok':
      // An acknowledged finding passes, and says so where reporters show a passing case's output.
      return c.acknowledged?.state === 'active'
        ? `${open}>\n      <system-out>acknowledged ${c.acknowledged.was}: ${body(c)}</system-out>\n    </testcase>`
        : `${open}/>`
    case 'fail':
      return `${open}>\n      <failure message="${message}" type="fail">${body(c)}</failure>\n    </testcase>`
    case 'unknown':
      return `${open}>\n      <error message="${message}" type="unknown">${body(c)}</error>\n    </testcase>`
    case 'skipped':
      return `${open}>\n      <skipped message="${message}"/>\n    </testcase>`
    case 'warn':
      return `${open}>\n      <system-out>warn: ${body(c)}</system-out>\n    </testcase>`
  }
}

/** The report as a JUnit XML document (UTF-8), ending with a newline. */
export function renderJunit(report: Report): string {
  // Catalogue order: a stable list of test cases from run to run (reporters sort by status).
  const checks = report.checks
  const names = uniqueNames(checks)
  const s = report.summary
  const counts = `tests="${checks.length}" failures="${s.fail}" errors="${s.unknown}" skipped="${s.skipped}" time="${seconds(report.duration_ms)}"`
  const properties: [string, string][] = [
    ['status', report.status],
    ['health_score', report.health_score === null ? 'not scored' : String(report.health_score)],
    [
      'database',
      report.coverage.database === 'not_reached'
        ? `not checked: ${data(report.coverage.reason ?? 'not reached')}`
        : report.coverage.database.replace('_', ' '),
    ],
    ['generated_at', data(report.generated_at)],
    ['tool', `${data(report.tool.name)} ${data(report.tool.version)}`],
    ['engine', data(report.target.engine)],
  ]
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gbrain doctor" ${counts}>`,
    `  <testsuite name="gbrain-doctor" ${counts}>`,
    '    <properties>',
    ...properties.map(([k, v]) => `      <property name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`),
    '    </properties>',
    ...checks.map((c, i) => testcase(c, names[i] ?? data(c.name))),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}

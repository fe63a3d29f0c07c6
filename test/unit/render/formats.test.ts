import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {nagiosCode} from '../../../src/checks/report.js'
import Doctor from '../../../src/commands/doctor.js'
import type {CheckResult, CheckStatus} from '../../../src/checks/types.js'
import {
  FORMATS,
  githubData,
  githubProperty,
  isFormat,
  jsonReport,
  jsonSafe,
  markdownCode,
  nagiosLabel,
  nagiosNumber,
  nagiosUom,
  promLabelValue,
  RENDERERS,
  renderFormat,
  renderGithub,
  renderGithubStepSummary,
  renderJson,
  renderJsonError,
  renderJunit,
  renderNagios,
  renderPrometheus,
  xmlAttr,
  xmlText,
} from '../../../src/render/index.js'
import {FIXTURES, buildReport, manyIssuesReport, unhealthyReport, unknownReport, warningsReport} from './fixtures.js'
import {PROM_HELP, PROM_SAMPLE, PROM_TYPE, validateSchema, xmlErrors} from './validate.js'

const schema = JSON.parse(readFileSync(new URL('../../../docs/report.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>
const reportSchema = (schema.$defs as Record<string, Record<string, unknown>>).report ?? {}
const fixtures = Object.entries(FIXTURES)

function check(name: string, status: CheckStatus, extra: Partial<CheckResult> = {}): CheckResult {
  return {name, category: 'pool', status, message: `${name} is ${status}`, duration_ms: 1, ...extra}
}

describe('render / FORMATS', () => {
  it('lists the six formats and dispatches to each renderer', async () => {
    expect(FORMATS).toEqual(['table', 'json', 'junit', 'github', 'nagios', 'prometheus', 'html'])
    const r = unhealthyReport()
    expect(await renderFormat('json', r)).toBe(renderJson(r))
    expect(await renderFormat('junit', r)).toBe(renderJunit(r))
    expect(await renderFormat('github', r)).toBe(renderGithub(r))
    expect(await renderFormat('nagios', r)).toBe(renderNagios(r))
    expect(await renderFormat('prometheus', r)).toBe(renderPrometheus(r))
    expect(isFormat('nagios')).toBe(true)
    expect(isFormat('xml')).toBe(false)
    expect(isFormat('toString')).toBe(false)
  })

  it('the dispatcher table is the --format flag: its keys are exactly the choices, in order', () => {
    expect(Object.keys(RENDERERS)).toEqual(FORMATS)
    expect(Doctor.flags.format.options).toEqual(Object.keys(RENDERERS))
  })

  it.each(fixtures.flatMap(([name, build]) => FORMATS.map((f) => [name, f, build] as const)))(
    '%s as %s ends with exactly one newline',
    async (_n, format, build) => {
      const out = await renderFormat(format, build())
      expect(out.endsWith('\n')).toBe(true)
      expect(out.endsWith('\n\n')).toBe(false)
    },
  )
})

describe('json', () => {
  it.each(fixtures)('%s validates against docs/report.schema.json', (_name, build) => {
    expect(validateSchema(schema, JSON.parse(renderJson(build())))).toEqual([])
  })

  it.each(fixtures)('%s is exactly the report without debug_stack', (_name, build) => {
    const report = build()
    const expected = {
      ...report,
      previous_score: null,
      delta: null,
      changed: [],
      checks: report.checks.map(({debug_stack: _drop, ...c}) => c),
    }
    expect(JSON.parse(renderJson(report))).toEqual(expected)
  })

  it('carries the comparison with the previous run when the report has one', () => {
    const report = {...unknownReport(), previous_score: 80, delta: -5, changed: [{check: 'dead_letter', from: 'ok', to: 'fail'}]}
    expect(JSON.parse(renderJson(report))).toMatchObject({
      previous_score: 80,
      delta: -5,
      changed: [{check: 'dead_letter', from: 'ok', to: 'fail'}],
    })
  })

  it('never includes debug_stack, and keeps the documented field order', () => {
    const out = renderJson(unknownReport())
    expect(out).not.toContain('debug_stack')
    expect(out).not.toContain('runner.js')
    expect(Object.keys(JSON.parse(out) as object)).toEqual([
      'schema_version',
      'status',
      'health_score',
      'previous_score',
      'delta',
      'changed',
      'coverage',
      'generated_at',
      'duration_ms',
      'tool',
      'target',
      'summary',
      'checks',
      'top_issues',
    ])
    expect(out.startsWith('{\n  "schema_version": 2,\n  "status": "unknown",')).toBe(true)
  })

  it('the schema rejects what the report must not be (the validator is not vacuous)', () => {
    const good = JSON.parse(renderJson(unhealthyReport())) as {
      checks: Record<string, unknown>[]
      status: string
      summary: Record<string, unknown>
    }
    const withStack = structuredClone(good)
    ;(withStack.checks[0] as Record<string, unknown>).debug_stack = 'x'
    expect(validateSchema(schema, withStack).join()).toContain('matches 0 of oneOf')
    expect(validateSchema(reportSchema, withStack, schema)).toContain('$.checks[0].debug_stack: not allowed')
    const badStatus = {...structuredClone(good), status: 'sick'}
    expect(validateSchema(schema, badStatus)).not.toEqual([])
    const missing = structuredClone(good) as Record<string, unknown>
    delete missing.summary
    expect(validateSchema(reportSchema, missing, schema)).toContain('$: missing summary')
  })

  it('renderJsonError: the error document, redacted, valid against the schema', () => {
    const out = renderJsonError({
      code: 'CONFIG_INVALID',
      message: 'bad DATABASE_URL postgres://bob:hunter2@db/x',
      hint: 'set GBRAIN_DATABASE_URL',
    })
    expect(out).toBe(
      '{\n  "schema_version": 2,\n  "status": "error",\n  "error": {\n    "code": "CONFIG_INVALID",\n    "message": "bad DATABASE_URL postgres://***@db/x",\n    "hint": "set GBRAIN_DATABASE_URL"\n  }\n}\n',
    )
    expect(validateSchema(schema, JSON.parse(out))).toEqual([])
    const noHint = JSON.parse(renderJsonError({code: 'INTERNAL', message: 'boom'})) as {error: {hint: unknown}}
    expect(noHint.error.hint).toBeNull()
    expect(validateSchema(schema, noHint)).toEqual([])
  })

  it('jsonSafe: cycles, bigints, non-finite numbers, dates, functions', () => {
    const cyclic: Record<string, unknown> = {a: 1}
    cyclic.self = cyclic
    expect(
      jsonSafe({
        cyclic,
        big: 12n,
        huge: 2n ** 70n,
        nan: NaN,
        inf: -Infinity,
        when: new Date(0),
        fn: () => 1,
        list: [undefined, () => 1, 'x'],
      }),
    ).toEqual({
      cyclic: {a: 1, self: '[circular]'},
      big: 12,
      huge: '1180591620717411303424',
      nan: null,
      inf: null,
      when: '1970-01-01T00:00:00.000Z',
      list: [null, null, 'x'],
    })
    const shared = {n: 1}
    expect(jsonSafe({a: shared, b: shared})).toEqual({a: {n: 1}, b: {n: 1}})
  })

  it('a non-finite observed value or threshold is left out rather than written as null', () => {
    const r = buildReport([check('x', 'ok', {observed_value: NaN, threshold: {warn: Infinity, fail: 3}})])
    const j = jsonReport(r)
    expect(j.checks[0]).not.toHaveProperty('observed_value')
    expect(j.checks[0]?.threshold).toEqual({fail: 3})
    expect(validateSchema(schema, JSON.parse(renderJson(r)))).toEqual([])
  })

  it('keeps a redacted URL readable in target.database but masks what redaction would', () => {
    const r = buildReport([], {
      target: {
        engine: 'postgres',
        database: 'postgres://bob:pw@db.example.com:5432/brain?sslmode=require&password=pw2',
        audit_dir: '/a',
        sources: {database: 'flag', audit_dir: 'default', home: 'default'},
      },
    })
    expect(jsonReport(r).target.database).toBe('postgres://***@db.example.com:5432/brain?sslmode=require&password=<REDACTED:password>')
  })
})

describe('junit', () => {
  it.each(fixtures)('%s is well-formed XML', (_name, build) => {
    expect(xmlErrors(renderJunit(build()))).toEqual([])
  })

  it('one testcase per check, counts in the suite, status mapped to failure / error / skipped / system-out', () => {
    const r = unknownReport()
    const out = renderJunit(buildReport([...r.checks, check('dl', 'fail'), check('sk', 'skipped')]))
    expect(out.match(/<testcase /g)).toHaveLength(13)
    expect(out).toContain('<testsuite name="gbrain-doctor" tests="13" failures="1" errors="2" skipped="1" time="0.412">')
    expect(out).toContain(
      '<testcase classname="gbrain.doctor.pool" name="dl" time="0.001">\n      <failure message="dl is fail" type="fail">dl is fail</failure>',
    )
    expect(out).toContain('<skipped message="sk is skipped"/>')
    expect(out).toContain('<system-out>warn: Worst-case retry wait')
    expect(out.match(/<error /g)).toHaveLength(2)
  })

  it('escapes markup and strips characters XML 1.0 forbids', () => {
    const nasty = 'a <b> & "c" \'d\' ]]> \u0000\u0001\u001b[31m \ud800 \uFFFE \u{1F680} </testcase>'
    const out = renderJunit(
      buildReport([
        check('x', 'fail', {message: nasty, fix: {text: nasty, commands: [nasty]}}),
        check('y', 'warn', {message: nasty}),
        check('z', 'skipped', {message: nasty}),
      ]),
    )
    expect(xmlErrors(out)).toEqual([])
    expect(out).toContain('a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; ]]&gt; [31m   \u{1F680} &lt;/testcase&gt;')
    expect(xmlText('\r')).toBe('&#13;')
    expect(xmlAttr('a\nb\tc')).toBe('a&#10;b&#9;c')
  })

  it('makes test names unique', () => {
    const out = renderJunit(buildReport([check('dup', 'ok'), check('dup', 'ok'), check('dup', 'warn')]))
    expect([...out.matchAll(/ name="(dup[^"]*)"/g)].map((m) => m[1])).toEqual(['dup', 'dup (2)', 'dup (3)'])
  })
})

describe('github', () => {
  const lines = (out: string): string[] => out.split('\n').slice(0, -1)

  it('escapes data and properties per the workflow-command rules', () => {
    expect(githubData('50% done\r\nnext')).toBe('50%25 done%0D%0Anext')
    expect(githubProperty('a: b, c%\n')).toBe('a%3A b%2C c%25%0A')
  })

  it('one line per annotation: fail → error, unknown and warn → warning, most severe first; then the summary line', () => {
    const out = renderGithub(unknownReport())
    expect(lines(out).map((l) => l.split('::')[1])).toEqual([
      'warning title=gbrain doctor%3A pool_reap_health',
      'warning title=gbrain doctor%3A idle_transactions',
      'warning title=gbrain doctor%3A retry_config',
      undefined,
    ])
    expect(lines(out).at(-1)).toBe('unknown: 2 unknown, 1 warn, 8 ok — health not scored (5.0 s)')
    expect(lines(out)[0]).toMatch(/^::warning title=gbrain doctor%3A pool_reap_health::Check crashed/)
    expect(renderGithub(unhealthyReport()).split('\n')[0]).toMatch(/^::error title=gbrain doctor%3A connection::/)
  })

  it('a message cannot break out of its command (newlines, :: and % are escaped)', () => {
    const out = renderGithub(
      buildReport([check('x', 'fail', {message: 'line1\n::set-env name=X::1\r\n%0A', fix: {text: 'do\nit', commands: ['a', 'b']}})]),
    )
    expect(lines(out)).toHaveLength(2)
    // Data is terminal-safe first (CRLF → LF) and a `::` after a newline is split, then escaped.
    expect(lines(out)[0]).toBe('::error title=gbrain doctor%3A x::line1%0A: :set-env name=X::1%0A%250A — fix: do%0Ait%0A$ a%0A$ b')
  })

  it.each([
    [12, 0, 10, 0, true],
    [12, 11, 10, 9, true],
    [10, 10, 10, 10, false],
    [3, 11, 3, 9, true],
    [0, 10, 0, 10, false],
  ])('%i fails and %i warnings → %i errors, %i warnings, overflow line: %s', (fails, warns, errorsShown, warningsShown, overflow) => {
    const checks = [
      ...Array.from({length: fails}, (_, i) => check(`f${i}`, 'fail')),
      ...Array.from({length: warns}, (_, i) => check(`w${i}`, i % 2 ? 'warn' : 'unknown')),
    ]
    const out = lines(renderGithub(buildReport(checks)))
    const errors = out.filter((l) => l.startsWith('::error '))
    const warnings = out.filter((l) => l.startsWith('::warning '))
    expect(errors).toHaveLength(errorsShown)
    expect(warnings.filter((l) => l.startsWith('::warning title=gbrain doctor%3A '))).toHaveLength(warningsShown)
    expect(warnings.length).toBeLessThanOrEqual(10)
    expect(warnings.some((l) => l.startsWith('::warning title=gbrain doctor::'))).toBe(overflow)
  })

  it('names what the cap left out', () => {
    const out = renderGithub(manyIssuesReport())
    expect(out).toContain(
      '::warning title=gbrain doctor::2 more failing checks and 2 more warnings not annotated (GitHub shows 10 per level): source_11_freshness, source_12_freshness, audit_feature_10, audit_feature_11; see the job summary',
    )
  })

  it('step summary: one escaped table row per check', () => {
    const r = buildReport([
      check('x', 'fail', {message: 'a | b\nc <script> `d` *e* $f$', fix: {text: 'fix | it', commands: ['echo `x` | grep y']}}),
      check('y', 'ok'),
    ])
    const out = renderGithubStepSummary(r)
    const rows = out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| status') && !l.startsWith('| ---'))
    expect(rows).toHaveLength(2)
    expect(rows[0]).toBe('| ✗ fail | `x` | a \\| b<br>c \\<script\\> \\`d\\` \\*e\\* \\$f\\$ | fix \\| it<br>``echo `x` \\| grep y`` |')
    expect(markdownCode('`a`')).toBe('`` `a` ``')
  })
})

describe('nagios', () => {
  it.each(fixtures)('%s: the state word matches nagiosCode, perfdata is well-formed', (_name, build) => {
    const r = build()
    const [first = '', ...rest] = renderNagios(r).split('\n')
    const state = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][nagiosCode(r)]
    expect(first.startsWith(`GBRAIN DOCTOR ${state} - `)).toBe(true)
    const [, perf = ''] = first.split(' | ')
    expect(first.split('|')).toHaveLength(2)
    for (const item of perf.split(' '))
      expect(item).toMatch(/^'(?:[^'=]|'')+'=-?\d+(?:\.\d+)?(?:ms|us|s|%|B|KB|MB|GB|TB|c)?(?:;(?:-?\d+(?:\.\d+)?:?)?){0,4}$/)
    for (const line of rest) expect(line).not.toContain('|')
  })

  it('one long-output line per check that is not ok', () => {
    const out = renderNagios(unhealthyReport()).split('\n')
    expect(out.slice(1, -1).map((l) => l.split(':')[0])).toEqual([
      'FAIL connection',
      'FAIL batch_retry_health',
      'WARN pool_reap_health',
      'SKIPPED cycle_freshness',
      'SKIPPED sync_freshness',
      'SKIPPED connection_slots',
      'SKIPPED idle_transactions',
    ])
  })

  it('perfdata: labels quoted, quotes doubled, = replaced; lower-is-worse thresholds as ranges; units mapped', () => {
    const r = buildReport([
      check('a', 'ok', {observed_value: 4.25, observed_unit: 's', threshold: {warn: 5, fail: 2}, details: {perf_label: "it's a=b"}}),
      check('b', 'warn', {observed_value: 90, observed_unit: '%', threshold: {warn: 80, fail: 95}, message: 'x | y'}),
      check('c', 'ok', {observed_value: -3, observed_unit: 'hours'}),
      check('d', 'ok', {observed_value: 1e-7, observed_unit: 'bytes', details: {perf_label: 'b'}}),
    ])
    expect(renderNagios(r)).toBe(
      "GBRAIN DOCTOR WARNING - 1 warn | 'health_score'=95;;;0;100 'it''s a_b'=4.25s;5:;2:;0 'b'=90%;80;95;0;100 'c'=-3 'd'=0B;;;0\nWARN b: x / y\n",
    )
    expect(nagiosUom('count')).toBe('')
    expect(nagiosUom('MB')).toBe('MB')
    expect(nagiosNumber(1e21)).toBe('1000000000000000000000')
    expect(nagiosNumber(0.1 + 0.2)).toBe('0.3')
    expect(nagiosLabel("'")).toBe("''''")
  })

  it.each([
    [['ok'], 'OK - 1 ok'],
    [['ok', 'skipped'], 'OK - 1 ok, 1 skipped'],
    [['warn', 'ok'], 'WARNING - 1 warn'],
    [['unknown', 'warn'], 'UNKNOWN - 1 unknown, 1 warn'],
    [['fail', 'unknown', 'warn'], 'CRITICAL - 1 fail, 1 unknown, 1 warn'],
    [[], 'OK - no checks'],
  ] as [CheckStatus[], string][])('%j → %s', (statuses, expected) => {
    const out = renderNagios(buildReport(statuses.map((s, i) => check(`c${i}`, s))))
    expect(out.split('\n')[0]!.split(' | ')[0]).toBe(`GBRAIN DOCTOR ${expected}`)
  })
})

describe('prometheus', () => {
  function families(out: string): void {
    expect(out.endsWith('\n')).toBe(true)
    const seenFamilies = new Set<string>()
    const seenSeries = new Set<string>()
    let current = ''
    let typed = false
    for (const line of out.slice(0, -1).split('\n')) {
      const help = PROM_HELP.exec(line)
      const type = PROM_TYPE.exec(line)
      const sample = PROM_SAMPLE.exec(line)
      expect(help ?? type ?? sample, line).not.toBeNull()
      if (help) {
        expect(seenFamilies.has(help[1] ?? '')).toBe(false)
        seenFamilies.add(help[1] ?? '')
        current = help[1] ?? ''
        typed = false
      } else if (type) {
        expect(type[1]).toBe(current)
        typed = true
      } else if (sample) {
        expect(sample[1]).toBe(current)
        expect(typed).toBe(true)
        const series = line.slice(0, line.lastIndexOf(' '))
        expect(seenSeries.has(series)).toBe(false)
        seenSeries.add(series)
      }
    }
  }

  it.each(fixtures)('%s: every line matches the exposition format; families contiguous; no duplicate series', (_name, build) => {
    families(renderPrometheus(build()))
  })

  it('escapes label values and writes non-finite values as Prometheus does', () => {
    const r = buildReport([check('we"ird\\na\nme', 'warn', {observed_value: Infinity, observed_unit: 'u"'})])
    const out = renderPrometheus(r)
    families(out)
    expect(out).toContain('gbrain_doctor_check_status{check="we\\"ird\\\\na\\nme",category="pool"} 1')
    expect(out).toContain('gbrain_doctor_check_observed{check="we\\"ird\\\\na\\nme",unit="u\\""} +Inf')
    expect(promLabelValue('a\r\nb')).toBe('a\\nb')
  })

  it('encodes statuses as 0 ok, 1 warn, 2 fail, 3 unknown, 4 skipped and counts every status', () => {
    const out = renderPrometheus(buildReport((['ok', 'warn', 'fail', 'unknown', 'skipped'] as const).map((s) => check(s, s))))
    for (const [s, n] of [
      ['ok', 0],
      ['warn', 1],
      ['fail', 2],
      ['unknown', 3],
      ['skipped', 4],
    ] as const) {
      expect(out).toContain(`gbrain_doctor_check_status{check="${s}",category="pool"} ${n}\n`)
      expect(out).toContain(`gbrain_doctor_checks{status="${s}"} 1\n`)
    }
    expect(out).toContain('gbrain_doctor_up 1\n')
    expect(out).not.toMatch(/ \d+ \d+$/m)
  })

  it('leaves out the timestamp metric when generated_at is not a date', () => {
    const out = renderPrometheus(buildReport([], {generated_at: 'garbage'}))
    families(out)
    expect(out).not.toContain('last_run_timestamp')
  })
})

describe('all renderers', () => {
  it('are pure: the same report renders the same text twice, and the report is not mutated', async () => {
    for (const build of [unhealthyReport, warningsReport, unknownReport]) {
      const r = build()
      const before = structuredClone(r)
      for (const f of FORMATS)
        expect(await renderFormat(f, r, {verbose: true, debug: true})).toBe(await renderFormat(f, r, {verbose: true, debug: true}))
      renderGithubStepSummary(r)
      expect(r).toEqual(before)
    }
  })
})

/**
 * The report as JSON (`schema_version` 2, the shape `docs/report.schema.json` describes): the
 * Report's fields in a fixed order, every string redacted, `debug_stack` never included, and
 * nothing JSON cannot carry (cycles, bigints, non-finite numbers) left to chance.
 */
import type {CheckResult, Fix, Report, Threshold, TopIssue} from '../checks/types.js'
import {clean, displayDatabase} from './text.js'

/** The report as it is serialised: a {@link Report} without `debug_stack`. */
export type JsonCheck = Omit<CheckResult, 'debug_stack'>
export interface JsonReport extends Omit<Report, 'checks'> {
  checks: JsonCheck[]
}

/** What `--json` prints when the command itself fails (exit 64 or 70). */
export interface JsonErrorInput {
  code: string
  message: string
  hint?: string | null
}
export interface JsonErrorDocument {
  schema_version: 2
  status: 'error'
  error: {code: string; message: string; hint: string | null}
}

const MAX_DEPTH = 32

/**
 * A JSON-safe, redacted copy of free-form data (`details`): strings and keys redacted, bigints as
 * numbers (or strings past 2^53), non-finite numbers as null, Dates as ISO strings, cycles and
 * nesting deeper than 32 levels cut with a marker, functions and symbols dropped.
 */
export function jsonSafe(value: unknown, seen: WeakSet<object> = new WeakSet(), depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return clean(value)
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'boolean':
      return value
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
    case 'object': {
      if (value === null) return null
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
      if (seen.has(value)) return '[circular]'
      if (depth >= MAX_DEPTH) return '[too deep]'
      seen.add(value)
      try {
        if (Array.isArray(value)) return value.map((v) => jsonSafe(v, seen, depth + 1) ?? null)
        const out: Record<string, unknown> = {}
        for (const [k, v] of Object.entries(value)) {
          const safe = jsonSafe(v, seen, depth + 1)
          if (safe !== undefined) out[clean(k)] = safe
        }
        return out
      } finally {
        seen.delete(value)
      }
    }
    default:
      return undefined
  }
}

function fix(f: Fix): Fix {
  return {text: clean(f.text), commands: f.commands.map(clean)}
}

function threshold(t: Threshold): Threshold {
  const out: Threshold = {}
  if (t.warn !== undefined && Number.isFinite(t.warn)) out.warn = t.warn
  if (t.fail !== undefined && Number.isFinite(t.fail)) out.fail = t.fail
  return out
}

function check(c: CheckResult): JsonCheck {
  const out: JsonCheck = {
    name: clean(c.name),
    category: c.category,
    status: c.status,
    message: clean(c.message),
    duration_ms: c.duration_ms,
  }
  if (c.details !== undefined) out.details = jsonSafe(c.details) as Record<string, unknown>
  if (c.observed_value !== undefined && Number.isFinite(c.observed_value)) out.observed_value = c.observed_value
  if (c.observed_unit !== undefined) out.observed_unit = clean(c.observed_unit)
  if (c.threshold !== undefined) out.threshold = threshold(c.threshold)
  if (c.fix !== undefined) out.fix = fix(c.fix)
  if (c.downstream_of !== undefined) out.downstream_of = c.downstream_of.map(clean)
  if (c.acknowledged !== undefined) {
    const a = c.acknowledged
    out.acknowledged = {
      state: a.state,
      was: a.was,
      status: a.status,
      count: a.count,
      observed: a.observed,
      acknowledged_at: clean(a.acknowledged_at),
      expires_at: clean(a.expires_at),
      reason: clean(a.reason),
    }
  }
  return out
}

function issue(i: TopIssue): TopIssue {
  const out: TopIssue = {rank: i.rank, check: clean(i.check), status: i.status, message: clean(i.message)}
  if (i.fix !== undefined) out.fix = fix(i.fix)
  if (i.downstream_of !== undefined) out.downstream_of = i.downstream_of.map(clean)
  return out
}

/**
 * The report as a plain object ready for `JSON.stringify` (or oclif's `--json`, which prints what
 * `run()` returns): fields in the documented order, redacted, without `debug_stack`.
 */
export function jsonReport(report: Report): JsonReport {
  return {
    schema_version: 2,
    status: report.status,
    health_score: report.health_score,
    previous_score: report.previous_score ?? null,
    delta: report.delta ?? null,
    changed: (report.changed ?? []).map((c) => ({check: clean(c.check), from: clean(c.from), to: clean(c.to)})),
    coverage: {
      database: report.coverage.database,
      ...(report.coverage.reason !== undefined ? {reason: clean(report.coverage.reason)} : {}),
      ...(report.coverage.fix !== undefined ? {fix: fix(report.coverage.fix)} : {}),
    },
    generated_at: clean(report.generated_at),
    duration_ms: report.duration_ms,
    tool: {name: clean(report.tool.name), version: clean(report.tool.version)},
    target: {
      engine: report.target.engine,
      database: displayDatabase(report.target.database),
      audit_dir: clean(report.target.audit_dir),
      sources: {
        database: clean(report.target.sources.database),
        audit_dir: clean(report.target.sources.audit_dir),
        home: clean(report.target.sources.home),
      },
    },
    summary: {
      ok: report.summary.ok,
      warn: report.summary.warn,
      fail: report.summary.fail,
      unknown: report.summary.unknown,
      skipped: report.summary.skipped,
    },
    checks: report.checks.map(check),
    top_issues: report.top_issues.map(issue),
    ...(report.heal !== undefined ? {heal: jsonSafe(report.heal) as Record<string, unknown>} : {}),
  }
}

/** The report as JSON text, 2-space indent, ending with a newline. */
export function renderJson(report: Report): string {
  return `${JSON.stringify(jsonReport(report), null, 2)}\n`
}

/** The error document `--json` prints instead of a report (redacted; `hint` null when none). */
export function jsonError(input: JsonErrorInput): JsonErrorDocument {
  const hint = input.hint === undefined || input.hint === null || input.hint === '' ? null : clean(input.hint)
  return {schema_version: 2, status: 'error', error: {code: clean(input.code), message: clean(input.message), hint}}
}

/** {@link jsonError} as JSON text, 2-space indent, ending with a newline. */
export function renderJsonError(input: JsonErrorInput): string {
  return `${JSON.stringify(jsonError(input), null, 2)}\n`
}

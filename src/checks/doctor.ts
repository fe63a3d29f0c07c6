/**
 * One doctor run: gather facts (files and database, each at most once), run the catalogue,
 * assemble the report. No printing here; the command renders.
 */
import type {ResolvedTarget} from '../config/resolve.js'
import {CATALOGUE} from './catalogue.js'
import {createDbFacts} from './facts/database.js'
import {dbGatherers, fileGatherers, type Gatherers} from './facts/index.js'
import {healthScore, reportStatus, summarize, topIssues} from './report.js'
import {runChecks} from './runner.js'
import {holderLabel} from '../engine/index.js'
import {validateThresholds} from './thresholds.js'
import type {CheckDef} from './check.js'
import type {Clock} from '../shared/clock.js'
import type {CheckResult, Coverage, Report} from './types.js'
import type {BaselinesRead} from '../baselines/file.js'
import {applyBaselines} from './acknowledge.js'
import {baselinesProblem} from './baselines-problem.js'

export interface DoctorOptions {
  target: ResolvedTarget
  env: NodeJS.ProcessEnv
  timeoutMs: number
  deadlineMs: number
  fast: boolean
  source?: string
  only?: string[]
  skip?: string[]
  version: string
  onSlow?: (name: string) => void
  /** Register teardown (the command runs it, bounded, before exiting). */
  onCleanup: (fn: () => Promise<void>) => void
  now?: () => number
  /** The runner's timers and durations (default the system clock). */
  clock?: Clock
  /** The acknowledgements to apply (`gbrain doctor`; repair judges what it finds as it is). */
  acknowledgements?: BaselinesRead
}

export interface DoctorRun {
  report: Report
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorRun> {
  const started = performance.now()
  const now = (o.now ?? Date.now)()
  const thresholds = validateThresholds(o.env)
  const {target} = o
  // The connect timer fires before the check's budget, so an unreachable server is a classified
  // `fail` (timeout), not an `unknown`: at 80 % of the budget (at most 250 ms less than it), which
  // leaves a loaded machine time to classify and report (250 ms alone did not at --timeout 4s).
  const db = createDbFacts({
    target,
    env: o.env,
    connectTimeoutMs: connectTimerFor(o.timeoutMs),
    idleFloorMinutes: thresholds.idleTransactions.warnMinutes,
  })
  o.onCleanup(() => db.close())
  const gather: Gatherers = {...fileGatherers({paths: target.paths, now, env: o.env}), ...dbGatherers(db)}

  const defs = CATALOGUE.filter((c) => (o.only === undefined || o.only.includes(c.name)) && !(o.skip ?? []).includes(c.name))
  // Why database checks cannot run (undefined: they can); the connection is opened once (memo).
  const databaseGate = async (): Promise<string | undefined> => {
    const c = await db.connection()
    switch (c.status) {
      case 'ok':
        return undefined
      case 'not_configured':
        return 'no brain yet'
      case 'locked':
        return c.lock?.state === 'held'
          ? `the embedded brain ${c.lock.holder.process.alive ? 'is held by' : 'has a stale lock left by'} ${holderLabel(c.lock)}`
          : 'the embedded brain’s lock could not be taken'
      default:
        return `the connection failed${c.error ? ` (${c.error.kind.replace(/_/g, ' ')})` : ''}`
    }
  }
  const judged = await runChecks(
    defs,
    gather,
    {now, thresholds, source: o.source},
    {
      timeoutMs: o.timeoutMs,
      deadlineMs: o.deadlineMs,
      fast: o.fast,
      onSlow: o.onSlow,
      clock: o.clock,
      databaseGate,
    },
  )
  const acks = o.acknowledgements
  const countsOf = (name: string): CheckDef['counts'] => CATALOGUE.find((c) => c.name === name)?.counts
  const checks = acks ? applyBaselines(judged, acks.baselines, countsOf, now) : judged
  if (acks && acks.problems.length > 0) checks.push(baselinesProblem(acks))
  const coverage = await databaseCoverage(defs, checks, o.fast, databaseGate)
  const summary = summarize(checks)
  const report: Report = {
    schema_version: 2,
    status: reportStatus(summary, coverage),
    health_score: healthScore(summary, coverage),
    coverage,
    generated_at: new Date(now).toISOString(),
    duration_ms: Math.round(performance.now() - started),
    tool: {name: 'gbrain-doctor', version: o.version},
    target: {
      engine: target.engine,
      database: target.display,
      audit_dir: target.paths.auditDir,
      sources: {database: target.source, audit_dir: target.paths.auditDirSource, home: target.paths.homeSource},
    },
    summary,
    checks,
    top_issues: topIssues(checks),
  }
  return {report}
}

/**
 * Did the run look at the database? Not asked under --fast or when the selection has no check
 * that needs it; otherwise `connection` (or, when it was left out, the gate) says whether it
 * answered, and why not.
 */
async function databaseCoverage<F>(
  defs: readonly CheckDef<F>[],
  checks: readonly CheckResult[],
  fast: boolean,
  gate: () => Promise<string | undefined>,
): Promise<Coverage> {
  if (fast || !defs.some((d) => d.gatedOnConnection || d.opensConnection)) return {database: 'not_asked'}
  // The reason is the gate's short one (the table already has connection's full message).
  const reason = await gate().catch((e: unknown) => (e instanceof Error ? e.message : String(e)))
  const conn = checks.find((c) => c.name === 'connection')
  if (conn) {
    if (conn.status === 'ok' || conn.status === 'warn') return {database: 'checked'}
    return {database: 'not_reached', reason: reason ?? conn.message, ...(conn.fix ? {fix: conn.fix} : {})}
  }
  return reason === undefined ? {database: 'checked'} : {database: 'not_reached', reason}
}

/** The doctor's connect timer for a per-check budget: 80 % of it, at most budget − 250 ms, at least 100 ms. */
export function connectTimerFor(timeoutMs: number): number {
  return Math.max(100, Math.min(timeoutMs - 250, Math.round(timeoutMs * 0.8)))
}

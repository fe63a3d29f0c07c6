/**
 * One doctor run: gather facts (files and database, each at most once), run the catalogue,
 * assemble the report. No printing here; the command renders.
 */
import type {ResolvedTarget} from '../config/resolve.js'
import {CATALOGUE, type DoctorFacts} from './catalogue.js'
import {dbThresholds} from './db-facts-type.js'
import {createDbFacts} from './facts-db.js'
import {createFileFacts} from './facts-files.js'
import {healthScore, reportStatus, summarize, topIssues} from './report.js'
import {runChecks} from './runner.js'
import {holderLabel} from '../engine/pglite/open-errors.js'
import {validateThresholds} from './thresholds.js'
import type {Report} from './types.js'

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
}

export interface DoctorRun {
  report: Report
}

export async function runDoctor(o: DoctorOptions): Promise<DoctorRun> {
  const started = performance.now()
  const now = (o.now ?? Date.now)()
  const thresholds = validateThresholds(o.env)
  const {target} = o
  // The connect timer fires just before the check's budget, so an unreachable server is a
  // classified `fail` (timeout), not an `unknown`.
  const db = createDbFacts({target, env: o.env, connectTimeoutMs: Math.max(100, o.timeoutMs - 250)})
  o.onCleanup(() => db.close())
  const files = createFileFacts({paths: target.paths, now})
  const facts: DoctorFacts = {...files, env: o.env, now, thresholds, db, dbThresholds: dbThresholds(thresholds)}

  const defs = CATALOGUE.filter((c) => (o.only === undefined || o.only.includes(c.name)) && !(o.skip ?? []).includes(c.name))
  const checks = await runChecks(defs, facts, {
    timeoutMs: o.timeoutMs,
    deadlineMs: o.deadlineMs,
    fast: o.fast,
    source: o.source,
    onSlow: o.onSlow,
    databaseGate: async () => {
      const c = await db.connection()
      switch (c.status) {
        case 'ok':
          return undefined
        case 'not_configured':
          return 'no brain yet (run: gbrain init)'
        case 'locked':
          return c.lock?.state === 'held'
            ? `the embedded brain ${c.lock.holder.process.alive ? 'is held by' : 'has a stale lock left by'} ${holderLabel(c.lock)}`
            : 'the embedded brain’s lock could not be taken'
        default:
          return 'connection failed'
      }
    },
  })
  const summary = summarize(checks)
  const report: Report = {
    schema_version: 2,
    status: reportStatus(summary),
    health_score: healthScore(summary),
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

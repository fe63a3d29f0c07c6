/**
 * The doctor's closed vocabulary: statuses, categories, a check's result, the report. These are
 * external names (JSON consumers, gbrain compatibility): never change one silently.
 */

export const STATUSES = ['ok', 'warn', 'fail', 'unknown', 'skipped'] as const
export type CheckStatus = (typeof STATUSES)[number]

export const CATEGORIES = ['connectivity', 'retry', 'freshness', 'pool', 'storage'] as const
export type Category = (typeof CATEGORIES)[number]

export interface Fix {
  /** One sentence: what to do. */
  text: string
  /** Paste-ready commands, in order. */
  commands: string[]
}

export interface Threshold {
  warn?: number
  fail?: number
}

/** What a check's judge returns (the runner adds name, category, duration). */
export interface CheckOutcome {
  status: CheckStatus
  message: string
  details?: Record<string, unknown>
  observed_value?: number
  observed_unit?: string
  threshold?: Threshold
  fix?: Fix
}

export interface CheckResult extends CheckOutcome {
  name: string
  category: Category
  duration_ms: number
  /** Checks whose failure explains this one (root causes rank first). */
  downstream_of?: string[]
  /** Stack of a crashed check; rendered only with --debug, never in JSON. */
  debug_stack?: string
  /** The acknowledgement (`<home>/doctor-baselines.json`) this check's finding met, when it had one. */
  acknowledged?: Acknowledgement
}

/**
 * An acknowledgement as a run applied it. `active`: the finding is known and accepted, the check
 * reports ok (its message says so, `was` keeps what it found). `expired`, `exceeded` (the count
 * grew beyond the baseline) and `worse` (a fail where a warn was acknowledged): the check alerts
 * with its own status again, and its message says why.
 */
export interface Acknowledgement {
  state: 'active' | 'expired' | 'exceeded' | 'worse'
  /** What the check found this run, before the acknowledgement. */
  was: 'warn' | 'fail'
  /** What was acknowledged. */
  status: 'warn' | 'fail'
  /** The baseline count; null when acknowledged by status. */
  count: number | null
  /** This run's count; null when the check counts nothing. */
  observed: number | null
  acknowledged_at: string
  expires_at: string
  reason: string
}

export type ReportStatus = 'healthy' | 'warnings' | 'unhealthy' | 'unknown'

export interface TopIssue {
  rank: number
  check: string
  status: CheckStatus
  message: string
  fix?: Fix
  downstream_of?: string[]
}

/**
 * Whether the run looked at the database: `checked` (it answered), `not_asked` (--fast, or
 * --only/--skip left no check that needs it), `not_reached` (asked, but there is no brain yet,
 * another process holds it, or the connection failed: `reason` says which, `fix` how to act).
 */
export interface Coverage {
  database: 'checked' | 'not_asked' | 'not_reached'
  reason?: string
  fix?: Fix
}

export interface Report {
  schema_version: 2
  status: ReportStatus
  /** gbrain's score over what was checked; null when something asked about was not checked. */
  health_score: number | null
  /** The previous run's score from the doctor's history; null (or absent) when there is none. */
  previous_score?: number | null
  /** health_score − previous_score; null when either is null. */
  delta?: number | null
  /** Checks whose status differs from the previous run's. */
  changed?: {check: string; from: string; to: string}[]
  /** `doctor --auto-heal`: what was healed, skipped and needs attention (repair/heal.ts `HealSection`). */
  heal?: Record<string, unknown>
  coverage: Coverage
  generated_at: string
  duration_ms: number
  tool: {name: string; version: string}
  target: {
    engine: 'postgres' | 'pglite' | 'none'
    /** Redacted URL or the data directory. */
    database: string
    audit_dir: string
    sources: {database: string; audit_dir: string; home: string}
  }
  summary: Record<CheckStatus, number>
  checks: CheckResult[]
  top_issues: TopIssue[]
}

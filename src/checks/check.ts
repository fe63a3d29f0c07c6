/**
 * A doctor check: a name (gbrain's where gbrain has the check), a category, what it needs, and a
 * judge. The judge awaits the facts it needs from `Facts` (gathered once, shared by every check,
 * started on first use) and decides purely from them. It never prints; it may throw or hang —
 * the runner turns that into `unknown`.
 */
import type {CheckOutcome, Category} from './types.js'

/** Per-run options every judge may read. */
export interface CheckOptions {
  /** Limit source-scoped checks to this source id. */
  source?: string
  /** `--fast`: no database checks. */
  fast: boolean
  /** Abort when the check's budget or the run's deadline passes (cancel hung queries). */
  signal: AbortSignal
}

export interface CheckDef<F = unknown> {
  name: string
  category: Category
  /** Needs a live database: skipped under --fast, and skipped when `connection` fails. */
  database: boolean
  /** Checks whose failure explains this one's (for ranking and skipping). */
  downstreamOf?: string[]
  judge(facts: F, options: CheckOptions): Promise<CheckOutcome>
}

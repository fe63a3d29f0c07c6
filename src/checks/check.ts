/**
 * A doctor check: a name (gbrain's where gbrain has the check), a category, the facts it needs,
 * and a judge. The runner gathers what the check needs (each fact once per run, shared, under
 * the check's budget) and calls the judge with plain data: the judge is pure and synchronous —
 * it never does I/O, never reads the clock, never prints. A gatherer that throws or hangs makes
 * the check `unknown`; so does a judge that throws.
 */
import type {Facts} from './facts/index.js'
import type {Explanation} from './listing.js'
import type {Thresholds} from './thresholds.js'
import type {CheckOutcome, Category} from './types.js'

/** What every judge may read besides its facts: the run's clock reading and settings. */
export interface JudgeContext {
  /** The run's clock reading (ms since the epoch). */
  now: number
  thresholds: Thresholds
  /** `--source`: limit source-scoped checks to this source id. */
  source?: string
}

export interface CheckDef<F = Facts, K extends keyof F = keyof F> {
  name: string
  category: Category
  /** Runs only once the connection succeeded: skipped under --fast, and when `connection` fails. */
  gatedOnConnection: boolean
  /** Opens the database itself (`connection`): skipped under --fast, never gated. */
  opensConnection?: true
  /** Checks whose failure explains this one's (for ranking and skipping). */
  downstreamOf?: string[]
  /** The facts the judge reads; the runner gathers exactly these. */
  needs: readonly K[]
  judge(facts: Pick<F, K>, ctx: JudgeContext): CheckOutcome
  /** What `--list` says about the check: what it looks at, its thresholds. */
  explain: Explanation
  /**
   * What the check counts, when more is worse (exhausted batches, spool entries, stale sources…):
   * an acknowledgement then records the count as a baseline and holds while the count stays at
   * or below it. Absent: an acknowledgement holds the check's status. `of` defaults to the
   * outcome's `observed_value`.
   */
  counts?: Counted
}

export interface Counted {
  /** Singular and plural of what is counted ("exhausted batch", "exhausted batches"). */
  noun: readonly [string, string]
  of?: (outcome: CheckOutcome) => number | undefined
}

/** A check of the catalogue, with its needs checked against its judge's parameter. */
export function defineCheck<K extends keyof Facts>(def: CheckDef<Facts, K>): CheckDef<Facts, K> {
  return def
}

/**
 * This run against the one before it: the fields the JSON report gains (`previous_score`,
 * `delta`, `changed`). Pure, so the rule is tested without files.
 */
import type {HistoryLine} from './line.js'

export interface StatusChange {
  check: string
  from: string
  to: string
}

export interface Comparison {
  previous_score: number | null
  delta: number | null
  changed: StatusChange[]
}

/**
 * No previous run: nulls and no changes. `delta` is null when either score is null (a run that
 * could not be scored is not 0). `changed` lists, in this run's order, the checks both runs have
 * whose status differs; a check only one of them ran (--only, --skip) is not a change.
 */
export function compareRuns(current: HistoryLine, previous: HistoryLine | undefined): Comparison {
  if (previous === undefined) return {previous_score: null, delta: null, changed: []}
  const delta = current.score === null || previous.score === null ? null : current.score - previous.score
  const changed: StatusChange[] = []
  for (const [check, to] of Object.entries(current.checks)) {
    const from = previous.checks[check]
    if (from !== undefined && from !== to) changed.push({check, from, to})
  }
  return {previous_score: previous.score, delta, changed}
}

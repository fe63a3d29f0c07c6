/**
 * What a doctor run does with its history, in one call the command makes after the report is
 * built: read the previous run's line (the tail only), append this run's, compact when the file
 * has grown past its threshold, and return how this run compares. Nothing here throws: a home
 * that cannot be written costs the history and yields one sentence for `-v`.
 */
import type {Report} from '../checks/types.js'
import {compact, needsCompaction, COMPACT_AT_BYTES} from './compact.js'
import {compareRuns, type Comparison} from './compare.js'
import {appendLine, historyPath, readTail} from './file.js'
import {historyLine} from './line.js'

export interface RecordOptions {
  home: string
  report: Pick<Report, 'generated_at' | 'health_score' | 'status' | 'checks'>
  nowMs: number
  /** `doctor --auto-heal`: the actions attempted and their statuses (kept on the line). */
  heals?: Record<string, string>
  /** The compaction threshold (tests lower it). */
  compactAt?: number
}

export interface Recorded {
  comparison: Comparison
  /** Why the history was not read, written or compacted; empty when all went well. */
  problems: string[]
}

export async function recordRun(options: RecordOptions): Promise<Recorded> {
  const problems: string[] = []
  const file = historyPath(options.home)
  const current = {...historyLine(options.report), ...(options.heals ? {heals: options.heals} : {})}
  const tail = await readTail(file, 1)
  if (tail.reason) problems.push(tail.reason)
  const comparison = compareRuns(current, tail.lines.at(-1))
  if (tail.reason) return {comparison, problems}
  const appended = await appendLine(options.home, current)
  if (!appended.written) return {comparison, problems: [...problems, appended.reason]}
  if (needsCompaction(appended.size, appended.headTs, options.nowMs, options.compactAt ?? COMPACT_AT_BYTES)) {
    await compact(file, options.nowMs).catch((e: unknown) => problems.push(`cannot compact ${file} (${(e as Error).message})`))
  }
  return {comparison, problems}
}

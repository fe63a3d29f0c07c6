/**
 * When `doctor --auto-heal` last applied each action, from the history's tail: the newest line
 * whose `heals` says `applied` for it. Only the last {@link HEAL_LOOKBACK_RUNS} runs are read
 * (bounded like every tail read: at most that many maximum-length lines, usually a few hundred
 * KiB), so the cost never grows with the history; a heal older than that many runs is forgotten
 * (at one run a minute, 1,000 runs are more than 16 h, past the default 6 h interval).
 */
import {readTail} from './file.js'
import type {HistoryLine} from './line.js'

export const HEAL_LOOKBACK_RUNS = 1000

/** Per action, the `ts` of the newest line that applied it (lines oldest first). */
export function lastApplied(lines: readonly HistoryLine[]): Record<string, string> {
  const last: Record<string, string> = {}
  for (const line of lines)
    for (const [action, status] of Object.entries(line.heals ?? {})) if (status === 'applied') last[action] = line.ts
  return last
}

export interface LastHeals {
  last: Record<string, string>
  /** Why the history could not be read (then nothing counts as healed recently). */
  reason?: string
}

export async function readLastHeals(file: string): Promise<LastHeals> {
  const tail = await readTail(file, HEAL_LOOKBACK_RUNS)
  return {last: lastApplied(tail.lines), ...(tail.reason ? {reason: tail.reason} : {})}
}

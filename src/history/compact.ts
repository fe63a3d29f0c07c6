/**
 * Keeping the history bounded without making every run pay for it: compaction runs only when
 * an append leaves the file past {@link COMPACT_AT_BYTES} (about 5,900 full runs), or its first
 * line is more than {@link MAX_AGE_DAYS} + {@link AGE_SLACK_DAYS} days old, then rewrites it
 * atomically (temp + rename) with the newest lines that fit all three bounds — at most
 * {@link MAX_LINES} lines, none older than {@link MAX_AGE_DAYS} days, at most {@link KEEP_BYTES}
 * bytes. So a compaction frees at least half the file or {@link AGE_SLACK_DAYS} days of it, and
 * the next one is thousands of runs or days away. A line appended by a concurrent run between the read and the rename
 * can be lost: the history is a trend, not an audit trail.
 */
import {constants, promises as fs} from 'node:fs'
import {writeFileAtomic} from '../shared/fs-atomic.js'
import {MAX_LINE_BYTES, parseLine, serializeLine, type HistoryLine} from './line.js'

export const MAX_LINES = 10_000
export const MAX_AGE_DAYS = 90
export const AGE_SLACK_DAYS = 9
export const COMPACT_AT_BYTES = 2 * 1024 * 1024
export const KEEP_BYTES = 1024 * 1024
/** What a compaction reads from the end of the file: all it can keep, plus one line's worth. */
const READ_TAIL_BYTES = KEEP_BYTES + MAX_LINE_BYTES

const DAY_MS = 86_400_000

/** True when a file of this size, whose first line is dated `headTs`, should be compacted. */
export function needsCompaction(size: number, headTs: string | undefined, nowMs: number, at = COMPACT_AT_BYTES): boolean {
  if (size > at) return true
  const head = headTs === undefined ? NaN : Date.parse(headTs)
  return head < nowMs - (MAX_AGE_DAYS + AGE_SLACK_DAYS) * DAY_MS
}

/**
 * The lines a compaction keeps, oldest first: the newest valid lines within the three bounds
 * (hostile or torn lines are dropped, a line dated in the future is kept).
 */
export function keepNewest(
  text: string,
  nowMs: number,
  bounds = {lines: MAX_LINES, ageDays: MAX_AGE_DAYS, bytes: KEEP_BYTES},
): HistoryLine[] {
  const oldest = nowMs - bounds.ageDays * DAY_MS
  const rows = text.split('\n')
  const kept: HistoryLine[] = []
  let bytes = 0
  for (let i = rows.length - 1; i >= 0 && kept.length < bounds.lines; i--) {
    const line = parseLine(rows[i] as string)
    if (!line) continue
    if (Date.parse(line.ts) < oldest) continue
    bytes += Buffer.byteLength(serializeLine(line))
    if (bytes > bounds.bytes) break
    kept.push(line)
  }
  return kept.reverse()
}

/** Rewrite `file` with {@link keepNewest}'s lines; a symlink or non-regular file is left alone. */
export async function compact(file: string, nowMs: number): Promise<{kept: number}> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  let text: string
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`)
    // Only the tail can be kept (at most KEEP_BYTES), so only the tail is read: a file grown to
    // gigabytes (by hand, or by runs between compactions) costs the same as a 2 MiB one.
    const start = Math.max(0, stat.size - READ_TAIL_BYTES)
    const buf = Buffer.alloc(stat.size - start)
    const {bytesRead} = await handle.read(buf, 0, buf.length, start)
    text = buf.subarray(0, bytesRead).toString('utf8')
    // A read that starts mid-file starts mid-line: that first piece is not a line.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1)
  } finally {
    await handle.close().catch(() => {})
  }
  const kept = keepNewest(text, nowMs)
  await writeFileAtomic(file, kept.map(serializeLine).join(''), {fsync: true})
  return {kept: kept.length}
}

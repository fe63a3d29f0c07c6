/**
 * One doctor run as a history line: `{"ts", "score", "status", "checks"}` and, after
 * `doctor --auto-heal`, `"heals": {"replay": "applied"}` (each action attempted and its status),
 * and nothing else, so a line stays small (about 30 bytes a check) and any later run can compare itself with it. The file
 * is written by this tool but lives in a directory a user can edit, so a line read back is hostile
 * input: anything that is not exactly this shape is skipped, never trusted.
 */
import type {Report} from '../checks/types.js'

export interface HistoryLine {
  ts: string
  score: number | null
  status: string
  checks: Record<string, string>
  /** `doctor --auto-heal`: each action it attempted, with its status (`applied`, `failed`, …). */
  heals?: Record<string, string>
}

/** A line longer than this is not one of ours: skipped when read, never written. */
export const MAX_LINE_BYTES = 64 * 1024

const NAME_RE = /^[a-z0-9_]{1,64}$/
/** A repair action's name (`replay`, `prune-audit`). */
const ACTION_RE = /^[a-z][a-z-]{0,31}$/
/** More heals than this on one line is not one of ours: the key is dropped. */
export const MAX_HEALS = 8
const STATUS_RE = /^[a-z_]{1,16}$/
/** An ISO 8601 UTC timestamp as `toISOString` writes it (the trend prints it as it is). */
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/

/** The line a report leaves in the history (checks in the report's order). */
export function historyLine(report: Pick<Report, 'generated_at' | 'health_score' | 'status' | 'checks'>): HistoryLine {
  const checks: Record<string, string> = {}
  for (const c of report.checks) checks[c.name] = c.status
  return {ts: report.generated_at, score: report.health_score, status: report.status, checks}
}

/** The line as written: one JSON object and a newline. */
export function serializeLine(line: HistoryLine): string {
  const heals = line.heals && Object.keys(line.heals).length > 0 ? {heals: line.heals} : {}
  return `${JSON.stringify({ts: line.ts, score: line.score, status: line.status, checks: line.checks, ...heals})}\n`
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A line read back, or undefined when it is not one: too long, not JSON, a `ts` that is not a
 * date, a score outside 0..100, a status or check name that is not a plain word. Check entries
 * that are not a plain word and status are dropped, and so are heal entries that are not an
 * action name and status (a `heals` that is not an object, or holds more than {@link MAX_HEALS},
 * is dropped whole); the rest of the line is kept.
 */
export function parseLine(text: string): HistoryLine | undefined {
  if (text.length === 0 || text.length > MAX_LINE_BYTES) return undefined
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(v)) return undefined
  const {ts, score, status, checks, heals} = v
  if (typeof ts !== 'string' || !TS_RE.test(ts) || Number.isNaN(Date.parse(ts))) return undefined
  if (score !== null && (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 100)) return undefined
  if (typeof status !== 'string' || !STATUS_RE.test(status)) return undefined
  if (!isRecord(checks)) return undefined
  const kept: Record<string, string> = {}
  for (const [name, s] of Object.entries(checks)) if (NAME_RE.test(name) && typeof s === 'string' && STATUS_RE.test(s)) kept[name] = s
  const healed = parseHeals(heals)
  return {ts, score, status, checks: kept, ...(healed ? {heals: healed} : {})}
}

/** `heals` read back: plain action names and statuses only; anything else, or too many, drops the key. */
function parseHeals(v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined
  const entries = Object.entries(v)
  if (entries.length === 0 || entries.length > MAX_HEALS) return undefined
  const kept: Record<string, string> = {}
  for (const [name, s] of entries) if (ACTION_RE.test(name) && typeof s === 'string' && STATUS_RE.test(s)) kept[name] = s
  return Object.keys(kept).length > 0 ? kept : undefined
}

/**
 * One acknowledgement in `<home>/doctor-baselines.json`, gbrain's file: `{"<check>": {"count": N,
 * "acknowledged_at": "…", "reason": "…"}}`. We also write `status` (what was acknowledged: warn,
 * or fail) and `expires_at`; an entry gbrain wrote without them is read as a warn acknowledged
 * for the default 30 days from `acknowledged_at`. The file lives in a directory a user can edit,
 * so what is read back is hostile input: an entry that is not exactly this shape is not applied,
 * and the reason is said (never ignored silently).
 */

export type AcknowledgedStatus = 'warn' | 'fail'

export interface Baseline {
  /** The check's observed count when acknowledged; null for a check acknowledged by status. */
  count: number | null
  status: AcknowledgedStatus
  acknowledged_at: string
  expires_at: string
  reason: string
}

export type Baselines = Record<string, Baseline>

const DAY_MS = 86_400_000
/** How long an acknowledgement lasts when `--for` is not given. */
export const DEFAULT_ACK_MS = 30 * DAY_MS
/** A failure is acknowledged only with an explicit `--for` of at most this. */
export const MAX_FAIL_ACK_MS = 7 * DAY_MS
/** The longest reason kept (characters). */
export const MAX_REASON_CHARS = 500

const NAME_RE = /^[a-z0-9_]{1,64}$/
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isTs = (v: unknown): v is string => typeof v === 'string' && TS_RE.test(v) && !Number.isNaN(Date.parse(v))

/** A check name as it may appear in the file (the catalogue's names are plain words). */
export function isCheckName(name: string): boolean {
  return NAME_RE.test(name)
}

/** An entry read back, or why it is not one. */
export function parseBaseline(value: unknown): Baseline | {invalid: string} {
  if (!isRecord(value)) return {invalid: 'not an object'}
  const {count, status, acknowledged_at: at, expires_at: until, reason} = value
  if (count !== undefined && count !== null && (typeof count !== 'number' || !Number.isFinite(count) || count < 0))
    return {invalid: 'count is not a non-negative number'}
  if (status !== undefined && status !== 'warn' && status !== 'fail') return {invalid: 'status is neither "warn" nor "fail"'}
  if (!isTs(at)) return {invalid: 'acknowledged_at is not an ISO 8601 UTC time'}
  if (until !== undefined && !isTs(until)) return {invalid: 'expires_at is not an ISO 8601 UTC time'}
  if (reason !== undefined && reason !== null && typeof reason !== 'string') return {invalid: 'reason is not a string'}
  const expires = until ?? new Date(Date.parse(at) + DEFAULT_ACK_MS).toISOString()
  if (Date.parse(expires) <= Date.parse(at)) return {invalid: 'expires_at is not after acknowledged_at'}
  return {
    count: typeof count === 'number' ? count : null,
    status: status ?? 'warn',
    acknowledged_at: at,
    expires_at: expires,
    reason: typeof reason === 'string' ? reason.slice(0, MAX_REASON_CHARS) : '',
  }
}

/** The file's text: entries sorted by check name, 2-space indent, a final newline. */
export function serializeBaselines(baselines: Baselines): string {
  const out: Record<string, Baseline> = {}
  for (const name of Object.keys(baselines).sort()) {
    const b = baselines[name]!
    out[name] = {count: b.count, status: b.status, acknowledged_at: b.acknowledged_at, expires_at: b.expires_at, reason: b.reason}
  }
  return `${JSON.stringify(out, null, 2)}\n`
}

export interface ParsedBaselines {
  baselines: Baselines
  /** What is wrong with the file or with some of its entries; empty when nothing is. */
  problems: string[]
}

/** The file's text read back: the valid entries, and a sentence for each thing that is not. */
export function parseBaselines(text: string): ParsedBaselines {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    return {baselines: {}, problems: [`not JSON (${(e as Error).message})`]}
  }
  if (!isRecord(v)) return {baselines: {}, problems: ['not a JSON object of check names']}
  const baselines: Baselines = {}
  const problems: string[] = []
  for (const [name, value] of Object.entries(v)) {
    if (!isCheckName(name)) {
      problems.push(`an entry whose name is not a check name (${JSON.stringify(name.slice(0, 64))})`)
      continue
    }
    const parsed = parseBaseline(value)
    if ('invalid' in parsed) problems.push(`${name}: ${parsed.invalid}`)
    else baselines[name] = parsed
  }
  return {baselines, problems}
}

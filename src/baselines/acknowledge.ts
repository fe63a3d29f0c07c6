/**
 * What `gbrain doctor --acknowledge CHECK` records, decided from the check's result this run:
 * a warn or a fail is acknowledged (a fail only with an explicit `--for` of at most 7 days); ok
 * and skipped have nothing to acknowledge, and unknown is never acknowledged — what could not be
 * evaluated is not known to be acceptable. Pure: the command runs the check and writes the file.
 */
import {DEFAULT_ACK_MS, MAX_FAIL_ACK_MS, MAX_REASON_CHARS, type Baseline} from './entry.js'

export interface AcknowledgeInput {
  check: string
  status: string
  /** The check's count this run; null when it counts nothing. */
  count: number | null
  /** What the check said (for the refusal of an unknown). */
  message: string
  now: number
  /** `--for` in ms, when given. */
  forMs?: number
  reason?: string
}

/** A refusal: what is wrong and what to do instead. */
export interface Refusal {
  refused: string
  fix: string
}

/** Why a reason cannot be kept as given, or undefined. */
export function reasonProblem(reason: string): string | undefined {
  if (reason.length > MAX_REASON_CHARS) return `--reason is ${reason.length} characters; at most ${MAX_REASON_CHARS} are kept`
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(reason)) return '--reason contains a line break or a control character'
  return undefined
}

export function acknowledge(input: AcknowledgeInput): Baseline | Refusal {
  const {check, status} = input
  if (status === 'unknown')
    return {
      refused: `${check} could not be evaluated (${input.message.slice(0, 200)}): an unknown is never acknowledged`,
      fix: `gbrain doctor --only ${check} -v`,
    }
  if (status !== 'warn' && status !== 'fail')
    return {refused: `${check} is ${status}: nothing to acknowledge`, fix: `gbrain doctor --only ${check} -v`}
  if (status === 'fail' && input.forMs === undefined)
    return {
      refused: `${check} fails: a failure is acknowledged only for an explicit time of at most 7d`,
      fix: `gbrain doctor --acknowledge ${check} --for 2d`,
    }
  if (status === 'fail' && input.forMs! > MAX_FAIL_ACK_MS)
    return {refused: `${check} fails: a failure is acknowledged for at most 7d`, fix: `gbrain doctor --acknowledge ${check} --for 7d`}
  const reason = input.reason ?? ''
  const problem = reasonProblem(reason)
  if (problem) return {refused: problem, fix: `gbrain doctor --acknowledge ${check} --reason 'one line of text'`}
  const forMs = input.forMs ?? DEFAULT_ACK_MS
  return {
    count: input.count,
    status,
    acknowledged_at: new Date(input.now).toISOString(),
    expires_at: new Date(input.now + forMs).toISOString(),
    reason,
  }
}

/** Whether an acknowledgement has run out at `now`. */
export function expired(b: Baseline, now: number): boolean {
  return now >= Date.parse(b.expires_at)
}

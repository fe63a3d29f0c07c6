/**
 * The one error classifier (engine.md "Error classification", postgres-driver.md §8).
 *
 * Accepts anything that can be thrown, unwraps `cause` chains and `AggregateError.errors`, and
 * judges the most specific error found. SQLSTATE and `code` are the stable keys; message text is
 * only a fallback (and refines a few codes, e.g. PgBouncer's `08P01` texts). What each code
 * means is data in classify-rules.ts; what each kind tells a person is error-kinds.ts.
 */
import {
  ABORTED_RULE,
  CODE_RULES,
  MESSAGE_CODE_RE,
  MESSAGE_RULES,
  PG_HBA_HINT,
  PG_HBA_RE,
  POOLER_RE,
  POOLER_RULE,
  ROLE_MISSING_RE,
  SHUTDOWN_RULE,
  SQLSTATE_CLASS_RULES,
  SQLSTATE_RULES,
  TLS_CODES,
  TLS_RULE,
  TOO_MANY_RE,
  TOO_MANY_RULE,
  UNKNOWN_ROLE_RULE,
  UNKNOWN_RULE,
  type Rule,
} from './classify-rules.js'
import {KIND_HINTS, type ErrorKind} from './error-kinds.js'
import {summarizeError} from '../shared/redact.js'

export {KIND_HINTS, NEXT_STEPS, type ErrorKind} from './error-kinds.js'

export interface Classified {
  /** Safe to try again (after a reconnect/swap when `connectionLevel`). */
  retryable: boolean
  kind: ErrorKind
  /** SQLSTATE or driver / Node code, when known. */
  code?: string
  /** A human fix, one sentence, never containing credentials or the URL. */
  hint: string
  /** A write sent on this connection may or may not have committed. */
  inDoubt: boolean
  /** The pool/connection is suspect: reconnect/swap before retrying (or after fixing the cause). */
  connectionLevel: boolean
  /** Redacted one-line summary of the most specific error found. */
  message: string
}

const SQLSTATE_RE = /^[0-9A-Z]{5}$/
const CODE_SHAPE_RE = /^[A-Za-z0-9_.-]{1,64}$/

// Specificity scores: the best candidate in the error graph wins.
const SCORE_ABORTED = 100
const SCORE_CODE = 30
const SCORE_MESSAGE = 20
const SCORE_SYMPTOM_CODE = 15 // NO_CONNECTION: a symptom, its cause says more
const SCORE_SYMPTOM_MESSAGE = 10
const SCORE_UNKNOWN_CODE = 5
const SCORE_NOTHING = 0

/** Kinds that say less than their siblings (an AggregateError of per-address errors). */
const VAGUE_KINDS = new Set<ErrorKind>(['network', 'timeout', 'unknown'])

interface Judged {
  rule: Rule
  score: number
  code?: string
  hint?: string
}

interface Candidate extends Judged {
  node: unknown
  depth: number
  order: number
}

function prop(obj: unknown, key: string): unknown {
  if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return undefined
  try {
    return (obj as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
}

function messageOf(node: unknown): string {
  if (typeof node === 'string') return node
  if (typeof node === 'number' || typeof node === 'boolean' || typeof node === 'bigint') return String(node)
  return str(prop(node, 'message')) ?? ''
}

function codeOf(node: unknown): string | undefined {
  const code = prop(node, 'code')
  if (typeof code === 'string' && code.trim() !== '') return code.trim()
  const errno = prop(node, 'errno')
  if (typeof errno === 'string' && errno.trim() !== '') return errno.trim()
  return undefined
}

function sqlstateRule(code: string): Rule | undefined {
  if (!SQLSTATE_RE.test(code)) return undefined
  return SQLSTATE_RULES[code] ?? SQLSTATE_CLASS_RULES[code.slice(0, 2)]
}

function codeRule(code: string): Rule | undefined {
  const upper = code.toUpperCase()
  const exact = CODE_RULES[upper]
  if (exact) return exact
  if (TLS_CODES.has(upper) || /^ERR_(?:TLS|SSL|OSSL)_/.test(upper)) return TLS_RULE
  return sqlstateRule(upper)
}

/** Message text refines a code for a few connection-class SQLSTATEs (PgBouncer sends `08P01`). */
function refine(code: string, base: Rule, message: string): Judged {
  const upper = code.toUpperCase()
  const cls = upper.slice(0, 2)
  if (cls === '28' && ROLE_MISSING_RE.test(message)) return {rule: UNKNOWN_ROLE_RULE, score: SCORE_CODE, code: upper}
  if (cls === '28' && PG_HBA_RE.test(message)) return {rule: base, score: SCORE_CODE, code: upper, hint: PG_HBA_HINT}
  if (SQLSTATE_RE.test(upper) && ['08', '53', '57', '58', 'XX', '28'].includes(cls)) {
    if (POOLER_RE.test(message)) return {rule: POOLER_RULE, score: SCORE_CODE, code: upper}
    if (TOO_MANY_RE.test(message) && cls !== '28') return {rule: TOO_MANY_RULE, score: SCORE_CODE, code: upper}
  }
  if (upper === '57P03' && /shutting down/i.test(message)) return {rule: SHUTDOWN_RULE, score: SCORE_CODE, code: upper}
  if (upper === 'ETIMEDOUT' && /\bconnect ETIMEDOUT\b/.test(message)) {
    return {rule: {...base, inDoubt: false}, score: SCORE_CODE, code: upper}
  }
  const score = upper === 'NO_CONNECTION' ? SCORE_SYMPTOM_CODE : base.kind === 'aborted' ? SCORE_ABORTED : SCORE_CODE
  return {rule: base, score, code: upper}
}

/** Judge one node on its own code and message, without looking at its causes. */
function judge(node: unknown): Judged {
  const name = str(prop(node, 'name'))
  // DOMException AbortError (AbortSignal.abort) / TimeoutError (AbortSignal.timeout, code 23).
  if (name === 'AbortError' || (name === 'TimeoutError' && prop(node, 'code') === 23)) {
    return {rule: ABORTED_RULE, score: SCORE_ABORTED, code: 'ABORTED'}
  }
  const code = codeOf(node)
  const message = messageOf(node)
  if (code !== undefined) {
    const base = codeRule(code)
    if (base) return refine(code, base, message)
  }
  for (const [re, r] of MESSAGE_RULES) {
    if (re.test(message)) {
      const hint = r.hint
      const judged: Judged = {rule: r, score: r.kind === 'no_connection' ? SCORE_SYMPTOM_MESSAGE : SCORE_MESSAGE}
      if (code !== undefined) judged.code = code
      if (hint !== undefined) judged.hint = hint
      return judged
    }
  }
  const inMessage = MESSAGE_CODE_RE.exec(message)?.[1]
  if (inMessage !== undefined) {
    const base = CODE_RULES[inMessage] ?? UNKNOWN_RULE
    const judged = refine(inMessage, base, message)
    return {...judged, score: SCORE_MESSAGE, code: code ?? inMessage}
  }
  if (code !== undefined) return {rule: UNKNOWN_RULE, score: SCORE_UNKNOWN_CODE, code}
  return {rule: UNKNOWN_RULE, score: SCORE_NOTHING}
}

const MAX_NODES = 64
const MAX_DEPTH = 16
const MAX_AGGREGATE_CHILDREN = 32

/** Breadth-first walk over `cause` and `errors`, cycle-safe and bounded. */
function candidates(err: unknown): Candidate[] {
  const out: Candidate[] = []
  const seen = new Set<unknown>()
  const queue: Array<{node: unknown; depth: number}> = [{node: err, depth: 0}]
  while (queue.length > 0 && out.length < MAX_NODES) {
    const {node, depth} = queue.shift()!
    if (node !== null && typeof node === 'object') {
      if (seen.has(node)) continue
      seen.add(node)
    }
    out.push({...judge(node), node, depth, order: out.length})
    if (depth >= MAX_DEPTH || node === null || (typeof node !== 'object' && typeof node !== 'function')) continue
    const cause = prop(node, 'cause')
    if (cause !== undefined && cause !== node) queue.push({node: cause, depth: depth + 1})
    const errors = prop(node, 'errors')
    if (Array.isArray(errors)) {
      for (const child of errors.slice(0, MAX_AGGREGATE_CHILDREN)) queue.push({node: child, depth: depth + 1})
    }
  }
  return out
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.score !== b.score) return a.score > b.score
  if (a.depth !== b.depth) return a.depth > b.depth // the cause is the root cause
  const av = VAGUE_KINDS.has(a.rule.kind) ? 0 : 1
  const bv = VAGUE_KINDS.has(b.rule.kind) ? 0 : 1
  if (av !== bv) return av > bv
  return a.order < b.order
}

/**
 * Classify anything thrown. Never throws. The verdict comes from the most specific error in the
 * `cause` / `AggregateError.errors` graph: an abort beats everything, a known code beats a
 * message pattern, a concrete cause beats the `No database connection` symptom, and among
 * equals the deepest (root) cause wins.
 */
export function classify(err: unknown): Classified {
  try {
    const all = candidates(err)
    let best = all[0]!
    for (const c of all) if (better(c, best)) best = c
    const source = best.score === SCORE_NOTHING ? err : best.node
    const result: Classified = {
      retryable: best.rule.retryable,
      kind: best.rule.kind,
      hint: best.hint ?? best.rule.hint ?? KIND_HINTS[best.rule.kind],
      inDoubt: best.rule.inDoubt,
      connectionLevel: best.rule.connectionLevel,
      message: summarizeError(source),
    }
    const code = best.code ?? all.find((c) => c.code !== undefined)?.code
    // Only code-shaped values are echoed: a hostile `code` must not smuggle text past redaction.
    if (code !== undefined && CODE_SHAPE_RE.test(code)) result.code = code
    return result
  } catch {
    return {
      retryable: false,
      kind: 'unknown',
      hint: KIND_HINTS.unknown,
      inDoubt: false,
      connectionLevel: false,
      message: 'error',
    }
  }
}

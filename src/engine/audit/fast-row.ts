/**
 * A byte-level reader for the commonest audit line: a `batch-retry` row with outcome `success`
 * or `recovered` in exactly the shape our writer produces —
 * `{"ts":"<24-byte ISO>","site":"…","batch_size":N,"attempt":N,"outcome":"…","delay_ms":N,
 * "error_message_summary":"…"[,"error_code":"…"]}` with ASCII strings free of `\` and control
 * bytes. Such a line is well-formed by construction, so it can be counted without JSON.parse.
 * Anything else (exhausted rows, gbrain's key order, escapes, non-ASCII) returns null and takes
 * the ordinary path. Measured: the doctor's 24 h aggregation 0.59×, the whole doctor 0.65×.
 */

const lit = (s: string): Buffer => Buffer.from(s, 'latin1')
const HEAD = lit('{"ts":"')
const K_SITE = lit('","site":"')
const K_SIZE = lit(',"batch_size":')
const K_ATTEMPT = lit(',"attempt":')
const K_OUTCOME = lit(',"outcome":"')
const V_SUCCESS = lit('success')
const V_RECOVERED = lit('recovered')
const K_DELAY = lit('","delay_ms":')
const K_SUMMARY = lit(',"error_message_summary":"')
const K_CODE = lit('","error_code":"')
const TS_LENGTH = 24

export interface FastRetryRow {
  site: string
  outcome: 'success' | 'recovered'
}

function at(buf: Buffer, i: number, e: number, word: Buffer): boolean {
  if (i + word.length > e) return false
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word[k]) return false
  return true
}

/** End (index of the closing quote) of a plain ASCII JSON string body starting at i, or -1. */
function plainString(buf: Buffer, i: number, e: number): number {
  for (; i < e; i++) {
    const c = buf[i]!
    if (c === 0x22) return i
    if (c === 0x5c || c < 0x20 || c >= 0x7f) return -1
  }
  return -1
}

/** End of a JSON non-negative integer at i (0 or [1-9][0-9]{0,14}), or -1. */
function plainInt(buf: Buffer, i: number, e: number): number {
  const start = i
  if (i >= e || buf[i]! < 0x30 || buf[i]! > 0x39) return -1
  if (buf[i] === 0x30) return i + 1 < e && buf[i + 1]! >= 0x30 && buf[i + 1]! <= 0x39 ? -1 : i + 1
  while (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++
  return i - start > 15 ? -1 : i
}

/**
 * The line `buf[s, e)` (trimmed, no newline) as a success/recovered row, or null. The caller has
 * already checked that bytes s+7 … s+31 are a canonical timestamp inside its window.
 */
export function fastRetryRow(buf: Buffer, s: number, e: number): FastRetryRow | null {
  if (!at(buf, s, e, HEAD)) return null
  let i = s + HEAD.length + TS_LENGTH
  if (!at(buf, i, e, K_SITE)) return null
  const siteStart = i + K_SITE.length
  const siteEnd = plainString(buf, siteStart, e)
  if (siteEnd < 0) return null
  i = siteEnd + 1
  if (!at(buf, i, e, K_SIZE)) return null
  i = plainInt(buf, i + K_SIZE.length, e)
  if (i < 0 || !at(buf, i, e, K_ATTEMPT)) return null
  const attemptStart = i + K_ATTEMPT.length
  i = plainInt(buf, attemptStart, e)
  if (i < 0 || (i - attemptStart === 1 && buf[attemptStart] === 0x30)) return null // attempt ≥ 1
  if (!at(buf, i, e, K_OUTCOME)) return null
  i += K_OUTCOME.length
  let outcome: FastRetryRow['outcome']
  if (at(buf, i, e, V_SUCCESS)) {
    outcome = 'success'
    i += V_SUCCESS.length
  } else if (at(buf, i, e, V_RECOVERED)) {
    outcome = 'recovered'
    i += V_RECOVERED.length
  } else return null
  if (!at(buf, i, e, K_DELAY)) return null
  i = plainInt(buf, i + K_DELAY.length, e)
  if (i < 0 || !at(buf, i, e, K_SUMMARY)) return null
  i = plainString(buf, i + K_SUMMARY.length, e)
  if (i < 0) return null
  if (!(i === e - 2 && buf[e - 1] === 0x7d)) {
    if (!at(buf, i, e, K_CODE)) return null
    i = plainString(buf, i + K_CODE.length, e)
    if (i !== e - 2 || buf[e - 1] !== 0x7d) return null
  }
  return {site: buf.toString('latin1', siteStart, siteEnd), outcome}
}

/**
 * Byte-level line scanning of one audit file against a time window: the hot loop of the reader.
 *
 * - Reads 1 MiB chunks with positional reads and splits on `\n` bytes; a line longer than
 *   `maxLineBytes` is counted corrupt and skipped without being buffered.
 * - Takes the `ts` of a line from its bytes when the line starts `{"ts":"…"` (our writer) or ends
 *   `,"ts":"…"}` (gbrain's writer); a line outside the window is skipped without UTF-8 decoding
 *   or `JSON.parse`. Canonical `…Z` timestamps are compared as bytes.
 * - `seekStart` finds where the window (minus a slack) begins in a large, roughly time-ordered
 *   file by binary search, then verifies the skipped head with evenly spaced probes.
 *
 * Over 300 lines on purpose: the byte-level `ts` judgement, the seek and the chunked scan are one
 * concept — the reader's hot loop — sharing the same constants, buffers and byte comparisons;
 * split apart they would only pass those internals across a module boundary.
 */
import type {FileHandle} from 'node:fs/promises'
import {isUtf8} from 'node:buffer'
import {AbortedError} from '../../shared/errors.js'
import type {AuditRow} from './types.js'

/** Where bytes read are counted. */
export interface ByteCounter {
  bytes_read: number
}

const CHUNK_BYTES = 1 << 20
const SEEK_GRANULE_BYTES = 256 << 10
const PROBE_BYTES = 64 << 10
const VERIFY_PROBES = 8
const MAX_TS_BYTES = 64

const NL = 0x0a
const CR = 0x0d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const HEAD = Buffer.from('{"ts":"', 'latin1')
const TAIL_KEY = Buffer.from('"ts":"', 'latin1')

function canonicalIso(ms: number): Buffer | null {
  const iso = new Date(ms).toISOString()
  return iso.length === 24 ? Buffer.from(iso, 'latin1') : null
}

const two = (buf: Buffer, a: number): number => (buf[a]! - 0x30) * 10 + (buf[a + 1]! - 0x30)

/**
 * `YYYY-MM-DDTHH:MM:SS.sssZ` at buf[a, a+24) with every field in range (month 1–12, day 1–31,
 * hour 0–23, minute and second 0–59), so that byte order is time order and Date.parse of it is
 * finite. Anything else goes through Date.parse.
 */
function isCanonical(buf: Buffer, a: number): boolean {
  if (!isCanonicalShape(buf, a)) return false
  const month = two(buf, a + 5)
  const day = two(buf, a + 8)
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && two(buf, a + 11) <= 23 && two(buf, a + 14) <= 59 && two(buf, a + 17) <= 59
}

function isCanonicalShape(buf: Buffer, a: number): boolean {
  for (let i = 0; i < 24; i++) {
    const c = buf[a + i]!
    switch (i) {
      case 4:
      case 7:
        if (c !== 0x2d) return false
        break
      case 10:
        if (c !== 0x54) return false
        break
      case 13:
      case 16:
        if (c !== 0x3a) return false
        break
      case 19:
        if (c !== 0x2e) return false
        break
      case 23:
        if (c !== 0x5a) return false
        break
      default:
        if (c < 0x30 || c > 0x39) return false
    }
  }
  return true
}

/** Compare buf[a, a+24) with a 24-byte bound. */
function compare24(buf: Buffer, a: number, bound: Buffer): number {
  for (let i = 0; i < 24; i++) {
    const d = buf[a + i]! - bound[i]!
    if (d !== 0) return d
  }
  return 0
}

/**
 * Where the top-level `ts` string value of a line sits, read from bytes only: sets
 * `out = [start, end)` and returns true, or returns false when the line is not in one of the two
 * shapes writers produce (then it is parsed in full). Both shapes are unambiguous in valid JSON:
 * the first key of the object, or the last member right before the closing brace.
 */
function tsRange(buf: Buffer, s: number, e: number, out: {start: number; end: number}): boolean {
  // Our writer: {"ts":"…", …}
  if (e - s > HEAD.length + 2 && buf[s] === 0x7b && buf[s + 1] === QUOTE && buf[s + 2] === 0x74 && buf[s + 3] === 0x73) {
    let ok = true
    for (let i = 4; i < HEAD.length; i++) if (buf[s + i] !== HEAD[i]) ok = false
    if (ok) {
      const start = s + HEAD.length
      const limit = Math.min(e, start + MAX_TS_BYTES)
      for (let i = start; i < limit; i++) {
        const c = buf[i]!
        if (c === QUOTE) {
          out.start = start
          out.end = i
          return true
        }
        if (c === BACKSLASH) return false
      }
      return false
    }
  }
  // gbrain's writer: {…,"ts":"…"}
  if (e - s > TAIL_KEY.length + 3 && buf[e - 1] === 0x7d && buf[e - 2] === QUOTE) {
    const end = e - 2
    const limit = Math.max(s, end - MAX_TS_BYTES)
    for (let i = end - 1; i > limit; i--) {
      const c = buf[i]!
      if (c === BACKSLASH) return false
      if (c === QUOTE) {
        const k = i - (TAIL_KEY.length - 1)
        if (k - 1 < s) return false
        for (let j = 0; j < TAIL_KEY.length; j++) if (buf[k + j] !== TAIL_KEY[j]) return false
        const before = buf[k - 1]
        if (before !== 0x2c && before !== 0x7b) return false
        out.start = i + 1
        out.end = end
        return true
      }
    }
  }
  return false
}

/** Scans one file's lines against the window; shared state for the hot loop. */
export class LineJudge {
  corrupt = 0
  badTs = 0
  private readonly range = {start: 0, end: 0}
  private readonly fromIso: Buffer | null
  private readonly toIso: Buffer | null

  constructor(
    private readonly from: number,
    private readonly to: number,
    private readonly onRow: (row: AuditRow, tsMs: number) => void,
    /** Consumes an in-window line from its bytes (returns true), or declines (false). */
    private readonly fastLine?: (buf: Buffer, s: number, e: number) => boolean,
  ) {
    this.fromIso = canonicalIso(from)
    this.toIso = canonicalIso(to)
  }

  /**
   * The window position of the line's byte-level ts: -1 before, 0 inside, 1 after, or null when
   * it cannot be told from bytes.
   */
  private position(buf: Buffer, s: number, e: number): number | null {
    const r = this.range
    if (!tsRange(buf, s, e, r)) return null
    if (r.end - r.start === 24 && this.fromIso !== null && this.toIso !== null && isCanonical(buf, r.start)) {
      if (compare24(buf, r.start, this.fromIso) < 0) return -1
      if (compare24(buf, r.start, this.toIso) > 0) return 1
      return 0
    }
    const ms = Date.parse(buf.toString('latin1', r.start, r.end))
    if (!Number.isFinite(ms)) return null
    return ms < this.from ? -1 : ms > this.to ? 1 : 0
  }

  /** Judge one line `buf[s, e)` (no `\n`). `utf8Known`: the caller already validated these bytes. */
  line(buf: Buffer, s: number, e: number, utf8Known = false): void {
    if (e > s && buf[e - 1] === CR) e--
    while (s < e && (buf[s] === 0x20 || buf[s] === 0x09)) s++
    while (e > s && (buf[e - 1] === 0x20 || buf[e - 1] === 0x09)) e--
    if (s === e) return // blank line: not a row, not corrupt
    const pos = this.position(buf, s, e)
    if (pos !== null && pos !== 0) return
    // Only a line whose canonical timestamp was judged in-window from its bytes is offered.
    if (pos === 0 && this.fastLine !== undefined && this.range.end - this.range.start === 24 && this.fastLine(buf, s, e)) return
    if (!utf8Known && !isUtf8(buf.subarray(s, e))) {
      this.corrupt++
      return
    }
    let value: unknown
    try {
      value = JSON.parse(buf.toString('utf8', s, e))
    } catch {
      this.corrupt++
      return
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.corrupt++
      return
    }
    const ts = (value as AuditRow).ts
    const ms = typeof ts === 'string' ? Date.parse(ts) : Number.NaN
    if (!Number.isFinite(ms)) {
      this.badTs++
      return
    }
    if (ms < this.from || ms > this.to) return
    this.onRow(value as AuditRow, ms)
  }

  /** The ts (ms) of a line for seeking, or null. */
  static tsOf(buf: Buffer, s: number, e: number): number | null {
    if (e > s && buf[e - 1] === CR) e--
    const r = {start: 0, end: 0}
    let text: string | undefined
    if (tsRange(buf, s, e, r)) text = buf.toString('latin1', r.start, r.end)
    else {
      try {
        const v = JSON.parse(buf.toString('utf8', s, e)) as unknown
        const ts = v !== null && typeof v === 'object' ? (v as AuditRow).ts : undefined
        if (typeof ts === 'string') text = ts
      } catch {
        return null
      }
    }
    if (text === undefined) return null
    const ms = Date.parse(text)
    return Number.isFinite(ms) ? ms : null
  }
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason)
}

/** The first complete line at or after `offset` that carries a readable ts. */
async function probe(
  fh: FileHandle,
  offset: number,
  size: number,
  buf: Buffer,
  stats: ByteCounter,
): Promise<{lineStart: number; ms: number} | null> {
  const {bytesRead} = await fh.read(buf, 0, Math.min(buf.length, size - offset), offset)
  stats.bytes_read += bytesRead
  let start = 0
  if (offset > 0) {
    const nl = buf.indexOf(NL, 0)
    if (nl === -1 || nl >= bytesRead) return null
    start = nl + 1
  }
  while (start < bytesRead) {
    const nl = buf.indexOf(NL, start)
    if (nl === -1 || nl >= bytesRead) return null
    const ms = LineJudge.tsOf(buf, start, nl)
    if (ms !== null) return {lineStart: offset + start, ms}
    start = nl + 1
  }
  return null
}

/**
 * The offset of a line start before which every line is (presumed) older than `targetMs`.
 * 0 when it cannot be established or the verification probes disagree.
 */
export async function seekStart(fh: FileHandle, size: number, targetMs: number, stats: ByteCounter): Promise<number> {
  const buf = Buffer.allocUnsafe(PROBE_BYTES)
  let lo = 0
  let hi = size
  while (hi - lo > SEEK_GRANULE_BYTES) {
    const mid = lo + Math.floor((hi - lo) / 2)
    const p = await probe(fh, mid, size, buf, stats)
    if (p === null) break
    if (p.ms < targetMs && p.lineStart > lo) lo = p.lineStart
    else hi = mid
  }
  if (lo === 0) return 0
  for (let i = 0; i < VERIFY_PROBES; i++) {
    const p = await probe(fh, Math.floor((lo * i) / VERIFY_PROBES), size, buf, stats)
    if (p === null || p.lineStart >= lo) continue
    if (p.ms >= targetMs) return 0
  }
  return lo
}

export interface ScanContext {
  judge: LineJudge
  maxLineBytes: number
  signal: AbortSignal | undefined
  stats: ByteCounter
}

export async function scanFile(fh: FileHandle, from: number, size: number, ctx: ScanContext): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(size - from, 1)))
  const judge = ctx.judge
  let carry: Buffer[] = []
  let carryLen = 0
  let skipping = false // inside an oversized line, already counted
  let pos = from
  while (pos < size) {
    checkAbort(ctx.signal)
    const {bytesRead} = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos)
    if (bytesRead === 0) break // truncated under us
    pos += bytesRead
    ctx.stats.bytes_read += bytesRead
    // Validate the complete lines of the chunk as UTF-8 in one call (a newline is ASCII, so the
    // region is valid iff every line in it is); per-line checks only when it is not.
    const firstNl = buf.indexOf(NL, 0)
    const lastNl = firstNl === -1 || firstNl >= bytesRead ? -1 : buf.lastIndexOf(NL, bytesRead - 1)
    const regionUtf8 = lastNl > firstNl && isUtf8(buf.subarray(firstNl + 1, lastNl))
    let start = 0
    for (;;) {
      let nl = buf.indexOf(NL, start)
      if (nl >= bytesRead) nl = -1
      if (nl === -1) {
        const rest = bytesRead - start
        if (!skipping && rest > 0) {
          if (carryLen + rest > ctx.maxLineBytes) {
            skipping = true
            judge.corrupt++
            carry = []
            carryLen = 0
          } else {
            carry.push(Buffer.from(buf.subarray(start, bytesRead)))
            carryLen += rest
          }
        }
        break
      }
      if (skipping) {
        skipping = false
      } else if (carryLen > 0) {
        if (carryLen + (nl - start) > ctx.maxLineBytes) judge.corrupt++
        else {
          carry.push(buf.subarray(start, nl))
          const line = Buffer.concat(carry, carryLen + (nl - start))
          judge.line(line, 0, line.length)
        }
        carry = []
        carryLen = 0
      } else if (nl - start > ctx.maxLineBytes) {
        judge.corrupt++
      } else {
        judge.line(buf, start, nl, regionUtf8 && start > firstNl)
      }
      start = nl + 1
    }
  }
  // A last line without "\n" (truncated or still being written): a row if it parses, else corrupt.
  if (!skipping && carryLen > 0) {
    const line = Buffer.concat(carry, carryLen)
    judge.line(line, 0, line.length)
  }
}

/**
 * Minimal PostgreSQL v3 wire-protocol framing for the test harness (prober and fault proxy).
 * Only framing plus the few message bodies the harness inspects (Query, Parse, Bind,
 * ErrorResponse, ReadyForQuery); everything else passes through as opaque bytes.
 *
 * Framing rules: after connect the client sends untyped packets (int32 length incl. itself, then an
 * int32 code): StartupMessage (196608), SSLRequest, GSSENCRequest (answered with one byte 'S'/'N'
 * and followed by another untyped packet) or CancelRequest. After the StartupMessage every message
 * in both directions is `type byte + int32 length (incl. itself, excl. type) + body`.
 */

export const PROTOCOL_V3 = 196608

/** Hard cap so a framing bug or non-PG peer is detected instead of buffering forever. */
const MAX_MESSAGE = 1 << 30

/** One framed message. `type` is null for untyped startup-phase packets (then `code` is set). */
export interface WireMessage {
  type: string | null
  code?: number
  /** Payload after the header. */
  body: Buffer
  /** Exact bytes on the wire (header + body), for forwarding. */
  raw: Buffer
}

/** Thrown when the byte stream cannot be PostgreSQL protocol (callers fall back to raw relay). */
export class WireFormatError extends Error {}

/**
 * Incremental framer: feed chunks with `push`, get complete messages back; a partial tail is kept.
 * `startup=true` for the client→server direction (begins untyped), false for server→client.
 */
export class WireFramer {
  private buf: Buffer = Buffer.alloc(0)
  private untyped: boolean

  constructor(startup: boolean) {
    this.untyped = startup
  }

  /** True while still in the untyped (startup) phase. */
  get inStartup(): boolean {
    return this.untyped
  }

  /** Bytes received but not yet part of a complete message. */
  get pending(): number {
    return this.buf.length
  }

  push(chunk: Buffer): WireMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    const out: WireMessage[] = []
    for (;;) {
      if (this.untyped) {
        if (this.buf.length < 8) break
        const len = this.buf.readInt32BE(0)
        if (len < 8 || len > 10_000) throw new WireFormatError(`bad startup packet length ${len}`)
        if (this.buf.length < len) break
        const raw = this.buf.subarray(0, len)
        const code = raw.readInt32BE(4)
        this.buf = this.buf.subarray(len)
        // Only a real StartupMessage switches to typed framing; SSL/GSS requests are followed by
        // another untyped packet, CancelRequest ends the connection.
        if (code >> 16 === 3) this.untyped = false // protocol 3.x
        out.push({type: null, code, body: raw.subarray(8), raw})
      } else {
        if (this.buf.length < 5) break
        const len = this.buf.readInt32BE(1)
        if (len < 4 || len > MAX_MESSAGE) throw new WireFormatError(`bad message length ${len}`)
        if (this.buf.length < 1 + len) break
        const raw = this.buf.subarray(0, 1 + len)
        this.buf = this.buf.subarray(1 + len)
        out.push({type: String.fromCharCode(raw[0]!), body: raw.subarray(5), raw})
      }
    }
    return out
  }
}

/** Read a NUL-terminated string at `offset`; returns [text, offset after the NUL]. */
export function cstring(body: Buffer, offset = 0): [string, number] {
  const end = body.indexOf(0, offset)
  const stop = end < 0 ? body.length : end
  return [body.toString('utf8', offset, stop), stop + 1]
}

/** Query text of a simple Query ('Q') or Parse ('P') message; undefined for other types. */
export function queryTextOf(msg: WireMessage): string | undefined {
  if (msg.type === 'Q') return cstring(msg.body)[0]
  if (msg.type === 'P') {
    const [, afterName] = cstring(msg.body)
    return cstring(msg.body, afterName)[0]
  }
  return undefined
}

/** [statement name, …] of a Parse message, or [portal, statement] of a Bind message. */
export function namesOf(msg: WireMessage): [string, string] {
  const [a, next] = cstring(msg.body)
  return [a, cstring(msg.body, next)[0]]
}

/** Extract the SQLSTATE ('C' field) from an ErrorResponse/NoticeResponse body. */
export function sqlStateOf(body: Buffer): string {
  let i = 0
  while (i < body.length && body[i] !== 0) {
    const field = String.fromCharCode(body[i]!)
    const [value, next] = cstring(body, i + 1)
    if (field === 'C') return value
    i = next
  }
  return 'unknown'
}

/** Build a v3 StartupMessage (no type byte: int32 length, int32 196608, key\0value\0…\0). */
export function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`, 'utf8')), Buffer.from([0])])
  const head = Buffer.alloc(8)
  head.writeInt32BE(8 + body.length, 0)
  head.writeInt32BE(PROTOCOL_V3, 4)
  return Buffer.concat([head, body])
}

/** Terminate message ('X'). */
export const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4])

/**
 * Does the Postgres server accept connections again? One cheap question, the one `pg_isready`
 * asks: open a TCP connection, send a protocol 3.0 StartupMessage, read the server's first
 * answer, hang up. No password is ever sent, no query runs.
 *
 * A TCP accept alone is not readiness: the postmaster listens ~70–90 ms before it lets sessions
 * in and answers `57P03` meanwhile (postgres-driver.md). So:
 * - an authentication request (`R`), or any other well-formed message → ready;
 * - an ErrorResponse saying the server cannot take sessions (`57P01`/`57P02`/`57P03`, `53300`
 *   too many connections, any `08…`) → not ready;
 * - an ErrorResponse for anything else (no pg_hba entry, unknown database…) → ready: the server
 *   answers, and the real connect will meet and report that error itself;
 * - refused, reset, closed, silent past `timeoutMs` or not speaking the protocol → not ready.
 * After `AuthenticationOk` (trust) it sends Terminate so the backend exits without logging an EOF;
 * after a password request it just closes (the server leaves an EOF there unlogged, as for psql).
 *
 * The startup packet is plain text: it names the target's user and database, unless the URL asks
 * for TLS, when it names user `gbrain_probe` and database `postgres` instead.
 */
import net from 'node:net'
import type {Clock} from '../shared/clock.js'

export interface ProbeTarget {
  host: string
  port: number
  user: string
  database: string
}

/** The largest answer we read before deciding (a real first message is far smaller). */
const MAX_ANSWER = 16_384
const NOT_ACCEPTING = new Set(['57P01', '57P02', '57P03', '53300'])

/** Where and as whom to probe, from the URL postgres.js gets (read here, never printed). */
export function probeTargetFor(clientUrl: string, env: NodeJS.ProcessEnv = process.env): ProbeTarget {
  const url = new URL(clientUrl)
  const param = (name: string): string => (url.searchParams.get(name) ?? '').toLowerCase()
  const sslmode = param('sslmode')
  const ssl = param('ssl')
  const tls = (sslmode !== '' && sslmode !== 'disable') || (ssl !== '' && ssl !== 'false' && ssl !== 'disable')
  const user = safeDecode(url.username) || env.PGUSER || 'postgres'
  const database = safeDecode(url.pathname.replace(/^\//, '')) || user
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 5432 : Number(url.port),
    user: tls ? 'gbrain_probe' : user,
    database: tls ? 'postgres' : database,
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function startupMessage(target: ProbeTarget): Buffer {
  const pairs = ['user', target.user, 'database', target.database, 'application_name', 'gbrain-readiness-probe']
  const body = Buffer.concat([...pairs.map((p) => Buffer.from(`${p.replace(/\0/g, '')}\0`, 'utf8')), Buffer.from([0])])
  const head = Buffer.alloc(8)
  head.writeInt32BE(body.length + 8, 0)
  head.writeInt32BE(196_608, 4) // protocol 3.0
  return Buffer.concat([head, body])
}

const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4])

/** The SQLSTATE (`C` field) of an ErrorResponse body. */
function sqlState(body: Buffer): string {
  let i = 0
  while (i < body.length && body[i] !== 0) {
    const field = body[i]!
    const end = body.indexOf(0, i + 1)
    if (end < 0) break
    if (field === 0x43) return body.toString('latin1', i + 1, end)
    i = end + 1
  }
  return ''
}

/** What a complete first message says; undefined while more bytes are needed. */
function judge(buf: Buffer): {ready: boolean; authOk: boolean} | undefined {
  if (buf.length < 5) return undefined
  const type = buf[0]!
  const length = buf.readInt32BE(1)
  if (length < 4 || length + 1 > MAX_ANSWER || !/[A-Za-z]/.test(String.fromCharCode(type))) return {ready: false, authOk: false}
  if (buf.length < length + 1) return undefined
  const body = buf.subarray(5, length + 1)
  if (type === 0x45 /* E */) {
    const code = sqlState(body)
    return {ready: code !== '' && !NOT_ACCEPTING.has(code) && !code.startsWith('08'), authOk: false}
  }
  return {ready: true, authOk: type === 0x52 /* R */ && body.length >= 4 && body.readInt32BE(0) === 0}
}

/** One probe; resolves (never rejects) with whether the server accepts connections. */
export function probePostgres(target: ProbeTarget, signal: AbortSignal, clock: Clock, timeoutMs: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise<boolean>((resolve) => {
    let buf = Buffer.alloc(0)
    let settled = false
    const socket = net.connect({host: target.host, port: target.port})
    const settle = (ready: boolean, polite?: {authOk: boolean}): void => {
      if (settled) return
      settled = true
      clock.clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (polite) {
        // Hang up the way a client does; a backend that never answers the FIN is cut after 1 s.
        socket.setTimeout(1000, () => socket.destroy())
        if (polite.authOk) socket.end(TERMINATE)
        else socket.end()
      } else {
        socket.destroy()
      }
      resolve(ready)
    }
    const onAbort = (): void => settle(false)
    const timer = clock.setTimeout(() => settle(false), timeoutMs)
    signal.addEventListener('abort', onAbort, {once: true})
    socket.on('connect', () => socket.write(startupMessage(target)))
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      const verdict = judge(buf)
      if (verdict) settle(verdict.ready, verdict.ready ? {authOk: verdict.authOk} : undefined)
      else if (buf.length >= MAX_ANSWER) settle(false)
    })
    socket.on('error', () => settle(false))
    socket.on('close', () => settle(false))
  })
}

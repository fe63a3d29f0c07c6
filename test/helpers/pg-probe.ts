/**
 * Readiness prober: opens a fresh TCP connection every 1–2 ms, sends a raw v3 StartupMessage
 * (user=postgres, database=postgres) and reports the moment the first ReadyForQuery ('Z') arrives.
 * With trust auth the server answers AuthenticationOk, ParameterStatus…, BackendKeyData, 'Z'.
 * While the server is starting it accepts TCP but answers ErrorResponse 57P03; before the listener
 * exists connect() fails with ECONNREFUSED. Both are counted so tests can report the phases.
 *
 * Timestamps are `performance.now()` (monotonic, same clock as the rest of the harness).
 */
import net from 'node:net'
import {WireFramer, sqlStateOf, startupMessage, TERMINATE} from './pg-wire.js'

/** Outcome of {@link probeReadiness}. */
export interface ProbeResult {
  /** performance.now() when the first ReadyForQuery was received. */
  readyAt: number
  /** performance.now() of the first successful TCP connect (listener accepting), if any. */
  firstAcceptAt: number | undefined
  /** Connection attempts started. */
  attempts: number
  /** Attempts refused at TCP level (ECONNREFUSED etc.). */
  refused: number
  /** ErrorResponses received, by SQLSTATE (57P03 = starting up). */
  errors: Record<string, number>
}

/** Options for the prober. */
export interface ProbeOptions {
  host?: string
  /** Start a new attempt this often (ms). Default 2. */
  intervalMs?: number
  /** Give up (reject) after this long. Default 10 000. */
  timeoutMs?: number
  /** Cap on concurrent attempts, so a slow-forking server is not flooded. Default 4. */
  maxInFlight?: number
  /** Per-attempt cap (ms) for a silent listener. Default 1000. */
  attemptTimeoutMs?: number
}

/**
 * Probe until the first ReadyForQuery; resolves with details (see {@link ProbeResult}).
 * Every socket and timer is cleaned up on settle.
 */
export function probeReadiness(port: number, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const {host = '127.0.0.1', intervalMs = 2, timeoutMs = 10_000, maxInFlight = 4, attemptTimeoutMs = 1000} = opts
  const startup = startupMessage({user: 'postgres', database: 'postgres'})
  const result: ProbeResult = {readyAt: 0, firstAcceptAt: undefined, attempts: 0, refused: 0, errors: {}}
  const sockets = new Set<net.Socket>()

  return new Promise<ProbeResult>((resolve, reject) => {
    let done = false
    const finish = (err?: Error): void => {
      if (done) return
      done = true
      clearInterval(ticker)
      clearTimeout(deadline)
      for (const s of sockets) s.destroy()
      sockets.clear()
      if (err) reject(err)
      else resolve(result)
    }

    const attempt = (): void => {
      if (done || sockets.size >= maxInFlight) return
      result.attempts++
      const s = net.connect({host, port})
      sockets.add(s)
      s.setTimeout(attemptTimeoutMs, () => s.destroy())
      const framer = new WireFramer(false)
      let connected = false
      s.on('connect', () => {
        connected = true
        result.firstAcceptAt ??= performance.now()
        s.write(startup)
      })
      s.on('data', (chunk: Buffer) => {
        let msgs
        try {
          msgs = framer.push(chunk)
        } catch {
          s.destroy() // not PostgreSQL speaking: count as a failed attempt
          return
        }
        for (const {type, body} of msgs) {
          if (type === 'Z') {
            result.readyAt = performance.now()
            s.end(TERMINATE) // polite: the backend exits cleanly instead of logging EOF
            sockets.delete(s)
            finish()
            return
          }
          if (type === 'E') {
            const code = sqlStateOf(body)
            result.errors[code] = (result.errors[code] ?? 0) + 1
            s.destroy()
            return
          }
        }
      })
      s.on('error', () => {
        if (!connected) result.refused++
      })
      s.on('close', () => sockets.delete(s))
    }

    const ticker = setInterval(attempt, intervalMs)
    const deadline = setTimeout(
      () => finish(new Error(`probeReadiness(${port}): not ready within ${timeoutMs} ms (${JSON.stringify(result)})`)),
      timeoutMs,
    )
    attempt()
  })
}

/**
 * Resolve with `performance.now()` at the first ReadyForQuery seen on `port`
 * (new TCP connection + StartupMessage every `intervalMs`, default 2 ms).
 */
export async function probeUntilReady(port: number, opts: ProbeOptions = {}): Promise<number> {
  return (await probeReadiness(port, opts)).readyAt
}

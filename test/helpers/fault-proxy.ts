/**
 * Protocol-aware TCP fault proxy (Toxiproxy is not installable here; test-harness.md §5.3).
 * Listens on 127.0.0.1:<random>, forwards to 127.0.0.1:<targetPort> (PostgreSQL or PgBouncer).
 *
 * Forwarding is done message by message (see pg-wire.ts) in both directions, so faults can be tied
 * to protocol events: "RST when the next query is sent", "drop the reply after the server committed".
 * A stream that does not frame as PostgreSQL falls back to raw relaying for that connection.
 *
 * Semantics worth knowing:
 * - `setMode` affects only connections accepted afterwards; established connections keep flowing.
 * - `freeze()` affects connections established at the time of the call; nothing is transmitted
 *   on them in either direction, not even FIN/RST (a silent network). Data is buffered and delivered
 *   by `thaw()`; closes seen while frozen are delivered then too. New connections work normally.
 * - If the target refuses the upstream connect, the client gets an RST (ECONNRESET, not
 *   ECONNREFUSED: the proxy had already accepted). Use `setMode('refuse')` for ECONNREFUSED.
 * - Each `arm*` is one-shot and proxy-wide (first matching query on any connection). Its
 *   `whenFired` promise resolves with the matched query; it never rejects (so an unawaited arm
 *   cannot become an unhandled rejection) — wrap it in withTimeout().
 */
import net from 'node:net'
import {register} from './cleanup.js'
import {namesOf, queryTextOf, WireFramer, type WireMessage} from './pg-wire.js'
import {Relay, type Direction} from './proxy-relay.js'

/**
 * Accept behaviour for new connections.
 * - `pass`: forward.
 * - `blackhole`: accept, never forward or answer (a silent listener).
 * - `fin-on-accept`: accept, then immediately `end()` (clean FIN; postgres.js #1193 loop).
 * - `rst-on-accept`: accept, then RST.
 * - `refuse`: the listening socket is closed, so connects get ECONNREFUSED; leaving this mode
 *   listens again on the same port.
 */
export type ProxyMode = 'pass' | 'blackhole' | 'fin-on-accept' | 'rst-on-accept' | 'refuse'

/** The client query that triggered an armed fault. */
export interface FiredQuery {
  connId: number
  /** SQL text from the Query/Parse message ('' for a reused prepared statement whose Parse we missed). */
  text: string
  /** Ack loss only: did the dropped reply contain CommandComplete ('C') / ErrorResponse ('E')? */
  outcome?: 'complete' | 'error' | 'none'
  /** Ack loss only: transaction status byte of the dropped ReadyForQuery ('I' = idle, i.e. committed). */
  txStatus?: string
}

/** Handle returned by the `arm*` methods. */
export interface Arm {
  /** Resolves once the fault has been applied. */
  readonly whenFired: Promise<FiredQuery>
  readonly fired: boolean
  /** Cancel if not fired yet (whenFired then stays pending). */
  disarm(): void
}

/** Predicate over a query's SQL text. */
export type QueryPredicate = (sql: string) => boolean

interface ArmState {
  kind: 'reset' | 'ack-loss'
  predicate: QueryPredicate
  phase: 'before' | 'after'
  fired: boolean
  resolve: (q: FiredQuery) => void
}

/** Snapshot of proxy counters. Timestamps are performance.now(). */
export interface ProxyStats {
  /** Connections accepted since start / resetStats(), in any mode. */
  accepted: number
  acceptTimes: number[]
  /** Sockets currently open on the client side (forwarded + blackholed + closing). */
  active: number
}

/** A running fault proxy. */
export interface FaultProxy {
  readonly port: number
  readonly host: string
  /** `postgres://postgres@127.0.0.1:PORT/<db>` through the proxy. */
  urlFor(db?: string, user?: string): string
  readonly mode: ProxyMode
  setMode(mode: ProxyMode): Promise<void>
  /** Stop forwarding on all currently established connections (silently; sockets stay open). */
  freeze(): void
  /** Resume frozen connections: deliver buffered data and deferred closes. */
  thaw(): void
  /** RST every client socket (server sides are destroyed too). */
  resetAll(): void
  /** Clean FIN on every client socket (and on the server side). */
  finAll(): void
  /**
   * RST the client when it sends the next matching query. `phase: 'after'` (default) forwards the
   * query first (server side then gets FIN: outcome in doubt, usually executed); `'before'` drops it
   * (never executed).
   */
  armResetOnNextQuery(opts?: {predicate?: QueryPredicate; phase?: 'before' | 'after'}): Arm
  /**
   * Lost acknowledgement after commit: forward the matching query, let the server run it and send
   * its whole reply up to ReadyForQuery (commit happens before 'Z'), drop that reply and destroy
   * the client socket; the server side gets a clean FIN.
   */
  armAckLoss(predicate?: QueryPredicate): Arm
  /** One-way delay added in each direction (ms), for existing and new connections. */
  latency(ms: number): void
  readonly stats: ProxyStats
  /** Accepts within the last `windowMs` (for "connection attempts per second"). */
  acceptsWithin(windowMs: number): number
  resetStats(): void
  /** Close the listener and destroy every socket. Idempotent. */
  close(): Promise<void>
}

interface Conn {
  id: number
  relay: Relay
  c2s: WireFramer | undefined // undefined = raw mode
  s2c: WireFramer | undefined
  statements: Map<string, string> // prepared statement name -> SQL (from Parse)
  groupText: string | undefined // SQL of the extended-protocol group before the next Sync
  syncSent: number // Q and S messages forwarded
  zSeen: number // ReadyForQuery messages from the server
  ackLoss?: {target: number; arm: ArmState; text: string; outcome: FiredQuery['outcome']}
}

const any: QueryPredicate = () => true

/** A throwing predicate must not become an uncaught exception inside a socket 'data' handler. */
function safeMatch(predicate: QueryPredicate, sql: string): boolean {
  try {
    return predicate(sql)
  } catch {
    return false
  }
}

/** Start a proxy on 127.0.0.1:0 forwarding to `targetPort`. Registered with the cleanup registry. */
export async function startProxy(targetPort: number, opts: {host?: string} = {}): Promise<FaultProxy> {
  const host = opts.host ?? '127.0.0.1'
  const conns = new Set<Conn>()
  const loose = new Set<net.Socket>() // blackholed / finned / reset sockets not paired with a server
  let mode: ProxyMode = 'pass'
  let latencyMs = 0
  let nextId = 1
  let port = 0
  let acceptTimes: number[] = []
  let arms: ArmState[] = []
  let closed = false

  const onConnection = (client: net.Socket): void => {
    acceptTimes.push(performance.now())
    client.on('error', () => undefined) // peer resets are expected; never let them become uncaught
    if (mode !== 'pass') {
      loose.add(client)
      client.on('close', () => loose.delete(client))
      if (mode === 'fin-on-accept') client.end()
      else if (mode === 'rst-on-accept') client.resetAndDestroy()
      else client.resume() // blackhole: read and discard, never answer
      return
    }
    const server = net.connect({host, port: targetPort})
    const conn: Conn = {
      id: nextId++,
      relay: new Relay(
        client,
        server,
        () => latencyMs,
        (dir, chunk) => onData(conn, dir, chunk),
      ),
      c2s: new WireFramer(true),
      s2c: new WireFramer(false),
      statements: new Map(),
      groupText: undefined,
      syncSent: 0,
      zSeen: 0,
    }
    conns.add(conn)
    conn.relay.onClosed = () => conns.delete(conn)
  }

  /** Inspect a chunk, apply armed faults, forward what should reach the other side. */
  const onData = (conn: Conn, dir: Direction, chunk: Buffer): void => {
    const framer = dir === 'c2s' ? conn.c2s : conn.s2c
    if (!framer) return conn.relay.send(dir, chunk)
    let msgs: WireMessage[]
    try {
      msgs = framer.push(chunk)
    } catch {
      // Not PostgreSQL (or a framing bug): relay this connection raw from now on.
      conn.c2s = conn.s2c = undefined
      return conn.relay.send(dir, chunk)
    }
    if (dir === 'c2s') clientMessages(conn, msgs)
    else serverMessages(conn, msgs)
  }

  const clientMessages = (conn: Conn, msgs: WireMessage[]): void => {
    const out: Buffer[] = []
    for (const m of msgs) {
      if (m.type === null && (m.code === 80877103 || m.code === 80877104)) {
        conn.relay.send('s2c', Buffer.from('N')) // no SSL/GSS: client continues in plaintext
        continue
      }
      out.push(m.raw)
      let text: string | undefined
      if (m.type === null) {
        // StartupMessage: answered by the startup ReadyForQuery, so it counts as a sync group.
        if (m.code !== undefined && m.code >> 16 === 3) conn.syncSent++
      } else if (m.type === 'P') {
        const [name, sql] = namesOf(m)
        conn.statements.set(name, sql)
        conn.groupText ??= sql
      } else if (m.type === 'B') {
        conn.groupText ??= conn.statements.get(namesOf(m)[1]) ?? ''
      } else if (m.type === 'Q') {
        conn.syncSent++
        text = queryTextOf(m) ?? ''
      } else if (m.type === 'S') {
        conn.syncSent++
        text = conn.groupText
        conn.groupText = undefined
      }
      if (text === undefined) continue
      const arm = arms.find((a) => !a.fired && safeMatch(a.predicate, text))
      if (!arm) continue
      arm.fired = true
      arms = arms.filter((a) => a !== arm)
      if (arm.kind === 'ack-loss') {
        conn.ackLoss = {target: conn.syncSent, arm, text, outcome: 'none'}
        continue
      }
      // RST on query: 'after' forwards everything up to and including this message first.
      if (arm.phase === 'after') conn.relay.sendNow('c2s', Buffer.concat(out))
      conn.relay.cut('rst', arm.phase === 'after' ? 'fin' : 'destroy')
      arm.resolve({connId: conn.id, text})
      return
    }
    if (out.length) conn.relay.send('c2s', out.length === 1 ? out[0]! : Buffer.concat(out))
  }

  const serverMessages = (conn: Conn, msgs: WireMessage[]): void => {
    const out: Buffer[] = []
    for (const m of msgs) {
      const loss = conn.ackLoss
      // Messages answering sync group k arrive after the (k-1)th ReadyForQuery.
      const inTarget = loss !== undefined && conn.zSeen === loss.target - 1
      if (m.type === 'Z') conn.zSeen++
      if (!inTarget) {
        out.push(m.raw)
        continue
      }
      if (m.type === 'C' && loss.outcome === 'none') loss.outcome = 'complete'
      if (m.type === 'E') loss.outcome = 'error'
      if (m.type === 'Z') {
        // Server finished (and committed, if autocommit): forward what came before, drop this reply.
        if (out.length) conn.relay.send('s2c', Buffer.concat(out))
        conn.relay.cut('destroy', 'fin')
        loss.arm.resolve({connId: conn.id, text: loss.text, outcome: loss.outcome, txStatus: String.fromCharCode(m.body[0] ?? 0)})
        conn.ackLoss = undefined
        return
      }
    }
    if (out.length) conn.relay.send('s2c', out.length === 1 ? out[0]! : Buffer.concat(out))
  }

  const makeArm = (kind: ArmState['kind'], predicate: QueryPredicate, phase: ArmState['phase']): Arm => {
    let resolve!: (q: FiredQuery) => void
    const whenFired = new Promise<FiredQuery>((r) => (resolve = r))
    const state: ArmState = {kind, predicate, phase, fired: false, resolve}
    arms.push(state)
    return {
      whenFired,
      get fired() {
        return state.fired
      },
      disarm() {
        arms = arms.filter((a) => a !== state)
      },
    }
  }

  let listener: net.Server
  const listen = (p: number): Promise<void> =>
    new Promise((resolve, reject) => {
      listener = net.createServer(onConnection)
      listener.once('error', reject)
      listener.listen(p, '127.0.0.1', () => {
        listener.off('error', reject)
        const addr = listener.address()
        port = typeof addr === 'object' && addr ? addr.port : p
        resolve()
      })
    })
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      // close() stops accepting at once; its callback waits for accepted sockets, so don't wait on it.
      listener.close()
      setImmediate(resolve)
    })
  await listen(0)

  const proxy: FaultProxy = {
    get port() {
      return port
    },
    host: '127.0.0.1',
    urlFor(db = 'postgres', user = 'postgres') {
      return `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(db)}`
    },
    get mode() {
      return mode
    },
    async setMode(next) {
      if (closed) throw new Error('proxy closed')
      const prev = mode
      mode = next
      if (prev !== 'refuse' && next === 'refuse') await stopListening()
      if (prev === 'refuse' && next !== 'refuse') await listen(port)
    },
    freeze() {
      for (const c of conns) c.relay.freeze()
    },
    thaw() {
      for (const c of conns) c.relay.thaw()
    },
    resetAll() {
      for (const c of conns) c.relay.cut('rst', 'destroy')
      for (const s of loose) s.resetAndDestroy()
    },
    finAll() {
      for (const c of conns) c.relay.cut('fin', 'fin')
      for (const s of loose) s.end()
    },
    armResetOnNextQuery(o = {}) {
      return makeArm('reset', o.predicate ?? any, o.phase ?? 'after')
    },
    armAckLoss(predicate = any) {
      return makeArm('ack-loss', predicate, 'after')
    },
    latency(ms) {
      latencyMs = Math.max(0, ms)
    },
    get stats() {
      // A frozen relay whose client socket is already closed is kept (its held close is delivered
      // by thaw()) but no longer has a socket open on the client side.
      const open = [...conns].filter((c) => !c.relay.client.destroyed).length
      return {accepted: acceptTimes.length, acceptTimes: [...acceptTimes], active: open + loose.size}
    },
    acceptsWithin(windowMs) {
      const from = performance.now() - windowMs
      return acceptTimes.filter((t) => t >= from).length
    },
    resetStats() {
      acceptTimes = []
    },
    async close() {
      if (closed) return
      closed = true
      unregister()
      arms = []
      if (mode !== 'refuse') await stopListening()
      for (const c of conns) c.relay.cut('destroy', 'destroy')
      for (const s of loose) s.destroy()
      conns.clear()
      loose.clear()
    },
  }
  const unregister = register({name: `fault proxy :${port}`, destroy: () => proxy.close()})
  return proxy
}

/**
 * One proxied connection: a client socket, its server socket and two ordered delivery queues.
 * The fault proxy decides *what* to forward (protocol-aware); the relay decides *when* (latency,
 * freeze) and *how the connection ends* (FIN, RST, deferred while frozen).
 */
import net from 'node:net'

/** c2s = client→server, s2c = server→client. */
export type Direction = 'c2s' | 's2c'
/** How to end a socket: FIN after flushing, RST, or plain destroy (FIN without flushing). */
export type EndHow = 'fin' | 'rst' | 'destroy'

type Item = {due: number; data?: Buffer; end?: EndHow}
type Held = Buffer | {end: EndHow}

export class Relay {
  /** Called once when both sockets are closed. */
  onClosed: (() => void) | undefined
  private frozen = false
  private dead = false
  private closes = 0
  private readonly queues: Record<Direction, Item[]> = {c2s: [], s2c: []}
  private readonly timers: Record<Direction, NodeJS.Timeout | undefined> = {c2s: undefined, s2c: undefined}
  /** Raw input and closes that arrived while frozen, replayed in order by thaw(). */
  private held: Array<[Direction, Held]> = []

  constructor(
    readonly client: net.Socket,
    readonly server: net.Socket,
    private readonly latency: () => number,
    /** Receives every inbound chunk (unless frozen/dead); must call send() to forward. */
    private readonly onData: (dir: Direction, chunk: Buffer) => void,
  ) {
    // Expected peer errors (ECONNRESET, EPIPE, ECONNREFUSED) must never surface as uncaught.
    client.on('error', () => undefined)
    server.on('error', () => undefined)
    client.on('data', (chunk: Buffer) => this.inbound('c2s', chunk))
    server.on('data', (chunk: Buffer) => this.inbound('s2c', chunk))
    // A close on one side is delivered to the other side in stream order (after pending data).
    client.on('close', (hadError) => this.peerClosed('c2s', hadError))
    server.on('close', (hadError) => this.peerClosed('s2c', hadError))
  }

  private inbound(dir: Direction, chunk: Buffer): void {
    if (this.dead) return
    if (this.frozen) this.held.push([dir, chunk])
    else this.onData(dir, chunk)
  }

  private peerClosed(dir: Direction, hadError: boolean): void {
    if (++this.closes === 2) this.onClosed?.()
    if (this.dead) return
    const end: EndHow = hadError ? 'rst' : 'fin'
    if (this.frozen) this.held.push([dir, {end}])
    else this.enqueue(dir, {due: 0, end})
  }

  /** Forward `data` in direction `dir`, after the configured latency, in order. */
  send(dir: Direction, data: Buffer): void {
    if (this.dead) return
    this.enqueue(dir, {due: 0, data})
  }

  /** Write immediately (flushing anything queued first), ignoring latency and freeze. */
  sendNow(dir: Direction, data: Buffer): void {
    const dest = dir === 'c2s' ? this.server : this.client
    for (const item of this.queues[dir].splice(0)) if (item.data && !dest.destroyed) dest.write(item.data)
    if (!dest.destroyed) dest.write(data)
  }

  private enqueue(dir: Direction, item: Item): void {
    item.due = performance.now() + this.latency()
    this.queues[dir].push(item)
    this.pump(dir)
  }

  private pump(dir: Direction): void {
    if (this.frozen || this.dead) return
    const q = this.queues[dir]
    const now = performance.now()
    while (q.length > 0 && q[0]!.due <= now) this.apply(dir, q.shift()!)
    if (q.length > 0 && this.timers[dir] === undefined) {
      this.timers[dir] = setTimeout(
        () => {
          this.timers[dir] = undefined
          this.pump(dir)
        },
        Math.max(0, q[0]!.due - now),
      )
    }
  }

  private apply(dir: Direction, item: Item): void {
    const dest = dir === 'c2s' ? this.server : this.client
    if (dest.destroyed) return
    if (item.data) dest.write(item.data)
    if (item.end) endSocket(dest, item.end)
  }

  /** Stop all delivery (including closes) in both directions; inbound data is held. */
  freeze(): void {
    this.frozen = true
    this.clearTimers()
  }

  /** Replay held input and closes, then resume delivery. */
  thaw(): void {
    if (!this.frozen) return
    this.frozen = false
    const held = this.held
    this.held = []
    for (const [dir, h] of held) {
      if (this.dead) return
      if (Buffer.isBuffer(h)) this.onData(dir, h)
      else this.enqueue(dir, {due: 0, end: h.end})
    }
    this.pump('c2s')
    this.pump('s2c')
  }

  /** End the connection now: drop queued/held data, end the client and server sockets as told. */
  cut(client: EndHow, server: EndHow): void {
    this.dead = true
    this.clearTimers()
    this.queues.c2s.length = 0
    this.queues.s2c.length = 0
    this.held = []
    endSocket(this.client, client)
    endSocket(this.server, server)
  }

  private clearTimers(): void {
    for (const dir of ['c2s', 's2c'] as const) {
      clearTimeout(this.timers[dir])
      this.timers[dir] = undefined
    }
  }
}

/** End a socket the requested way; safe on already-destroyed sockets. */
export function endSocket(s: net.Socket, how: EndHow): void {
  if (s.destroyed) return
  if (how === 'fin') s.end()
  else if (how === 'rst') s.resetAndDestroy()
  else s.destroy()
}

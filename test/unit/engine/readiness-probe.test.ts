/**
 * The Postgres readiness probe against small loopback servers that answer the startup packet the
 * way a real server does in each phase (starting up, accepting, full), or not at all.
 */
import net from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {probePostgres, probeTargetFor, type ProbeTarget} from '../../../src/engine/readiness-probe.js'
import {systemClock} from '../../../src/shared/clock.js'
import {FakeClock} from '../../helpers/fake-clock.js'

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}
const auth = (code: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(code, 0)
  return message('R', b)
}
const errorResponse = (sqlstate: string): Buffer => message('E', Buffer.from(`SFATAL\0C${sqlstate}\0Mno\0\0`, 'latin1'))

interface Fake {
  port: number
  /** Everything the probe sent on each connection, once it closed. */
  received: Buffer[]
  closed: Promise<void>
  /** Resolves when the first bytes (the startup packet) arrive. */
  heard: Promise<void>
}
const servers: net.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A server that answers the first bytes it gets with `reply` (split into `chunks`), or stays silent. */
async function fake(reply: Buffer | undefined, chunks = 1): Promise<Fake> {
  const received: Buffer[] = []
  let closedResolve!: () => void
  const closed = new Promise<void>((r) => (closedResolve = r))
  let heardResolve!: () => void
  const heard = new Promise<void>((r) => (heardResolve = r))
  const server = net.createServer((socket) => {
    const got: Buffer[] = []
    let answered = false
    socket.on('data', (d: Buffer) => {
      got.push(d)
      heardResolve()
      if (answered || !reply) return
      answered = true
      const size = Math.ceil(reply.length / chunks)
      for (let i = 0; i < reply.length; i += size) socket.write(reply.subarray(i, i + size))
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      received.push(Buffer.concat(got))
      closedResolve()
    })
    socket.on('end', () => socket.end())
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {port: (server.address() as net.AddressInfo).port, received, closed, heard}
}

const target = (port: number): ProbeTarget => ({host: '127.0.0.1', port, user: 'app', database: 'brain'})
const ask = (port: number, signal = new AbortController().signal): Promise<boolean> =>
  probePostgres(target(port), signal, systemClock, 2000)

describe('probePostgres', () => {
  it('a password request means the server accepts sessions; the probe hangs up without answering it', async () => {
    const f = await fake(auth(10)) // SASL
    expect(await ask(f.port)).toBe(true)
    await f.closed
    const sent = f.received[0]!
    expect(sent.readInt32BE(4)).toBe(196_608)
    const text = sent.toString('latin1')
    expect(text).toContain('user\0app\0database\0brain\0')
    expect(sent.length).toBe(sent.readInt32BE(0)) // the startup packet only: no Terminate, no password
  })

  it('AuthenticationOk (trust) is ready, and the probe says Terminate so the backend exits cleanly', async () => {
    const f = await fake(Buffer.concat([auth(0), message('S', Buffer.from('a\0b\0'))]), 3)
    expect(await ask(f.port)).toBe(true)
    await f.closed
    const sent = f.received[0]!
    expect(sent.subarray(sent.readInt32BE(0)).equals(Buffer.from([0x58, 0, 0, 0, 4]))).toBe(true)
  })

  it.each([
    ['57P03', 'starting up'],
    ['57P01', 'shutting down'],
    ['57P02', 'crash shutdown'],
    ['53300', 'too many connections'],
    ['08P01', 'a pooler with no server'],
  ])('ErrorResponse %s (%s) is not ready', async (code) => {
    const f = await fake(errorResponse(code), 2)
    expect(await ask(f.port)).toBe(false)
  })

  it.each([['28000'], ['3D000'], ['28P01']])(
    'ErrorResponse %s means the server answers: ready (the real connect reports it)',
    async (code) => {
      const f = await fake(errorResponse(code))
      expect(await ask(f.port)).toBe(true)
    },
  )

  it('a refused port, a listener that hangs up, and a stream that is not PostgreSQL are not ready', async () => {
    const closedPort = await fake(undefined)
    const port = closedPort.port
    await new Promise((r) => servers.pop()!.close(r))
    expect(await ask(port)).toBe(false)

    const hangUp = net.createServer((s) => s.destroy())
    servers.push(hangUp)
    await new Promise<void>((r) => hangUp.listen(0, '127.0.0.1', r))
    expect(await ask((hangUp.address() as net.AddressInfo).port)).toBe(false)

    const http = await fake(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))
    expect(await ask(http.port)).toBe(false)
    const huge = Buffer.alloc(5)
    huge.write('E', 0, 'latin1')
    huge.writeInt32BE(1 << 30, 1)
    const big = await fake(huge)
    expect(await ask(big.port)).toBe(false)
  })

  it('a silent listener is not ready once the probe timer (on the engine clock) runs out', async () => {
    const f = await fake(undefined)
    const clock = new FakeClock(Date.now(), false)
    const answer = probePostgres(target(f.port), new AbortController().signal, clock, 1000)
    clock.advance(999)
    await f.heard
    let settled = false
    void answer.then(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    clock.advance(1)
    expect(await answer).toBe(false)
  })

  it('an abort ends the probe with not ready', async () => {
    const f = await fake(undefined)
    const controller = new AbortController()
    const answer = ask(f.port, controller.signal)
    controller.abort()
    expect(await answer).toBe(false)
    expect(await probePostgres(target(f.port), AbortSignal.abort(), systemClock, 1000)).toBe(false)
  })
})

describe('probeTargetFor', () => {
  it('takes host, port, user and database from the URL and never the password', () => {
    const t = probeTargetFor('postgres://ana:s3cret@db.example:6432/brain?application_name=x', {})
    expect(t).toEqual({host: 'db.example', port: 6432, user: 'ana', database: 'brain'})
    expect(JSON.stringify(t)).not.toContain('s3cret')
  })

  it('defaults: port 5432, user from PGUSER or postgres, database = user; IPv6 brackets removed', () => {
    expect(probeTargetFor('postgres://[::1]/', {PGUSER: 'ops'})).toEqual({host: '::1', port: 5432, user: 'ops', database: 'ops'})
    expect(probeTargetFor('postgres://h', {})).toMatchObject({user: 'postgres', database: 'postgres'})
  })

  it('when the URL asks for TLS, the plain-text startup packet names no real user or database', () => {
    for (const q of ['sslmode=require', 'sslmode=verify-full', 'ssl=true']) {
      expect(probeTargetFor(`postgres://ana:pw@h:5432/brain?${q}`, {})).toMatchObject({user: 'gbrain_probe', database: 'postgres'})
    }
    expect(probeTargetFor('postgres://ana@h/brain?sslmode=disable', {})).toMatchObject({user: 'ana', database: 'brain'})
  })
})

/**
 * The shared engine lifecycle (client-engine.ts over base-engine.ts) with a fake driver, in
 * virtual time: each state change goes through one transition that tells observers and writes
 * the step's audit row; single-flight rebuild and disconnect; self-healing access after a failed
 * rebuild; a failed first open leaves the engine closed. The real drivers are pinned by
 * test/integration/engine-*.test.ts.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {AuditWriter} from '../../../src/engine/audit/writer.js'
import {ClientEngine, type ClosedBy} from '../../../src/engine/client-engine.js'
import type {Executor} from '../../../src/engine/types.js'
import {FakeClock} from '../../helpers/fake-clock.js'

interface FakeClient {
  id: number
}

class FakeEngine extends ClientEngine<FakeClient> {
  readonly kind = 'postgres' as const
  builds = 0
  failNext = 0
  ended: Array<{id: number; healthy: boolean}> = []
  closedBy: ClosedBy[] = []

  protected async replaceClient(): Promise<void> {
    this.builds += 1
    await Promise.resolve()
    if (this.failNext > 0) {
      this.failNext -= 1
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {code: 'ECONNREFUSED'})
    }
    this.publish({id: this.builds})
  }

  protected executorFor(client: FakeClient): Executor {
    return {query: async <T>() => ({rows: [{id: client.id}] as T[], count: 1})}
  }

  protected endClient(client: FakeClient, healthy: boolean): void {
    this.ended.push({id: client.id, healthy})
  }

  protected async afterClosed(by: ClosedBy): Promise<void> {
    this.closedBy.push(by)
  }

  protected poolSize(): number {
    return 1
  }

  protected prepareEnabled(): boolean {
    return false
  }
}

const roots: string[] = []
afterAll(() => {
  for (const r of roots) rmSync(r, {recursive: true, force: true})
})

function setup(): {engine: FakeEngine; states: string[]; rows: (feature: string) => Array<Record<string, unknown>>} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-client-engine-'))
  roots.push(dir)
  // Virtual time that does not run ahead on its own: the audit rows are real file writes.
  const clock = new FakeClock(Date.parse('2026-11-28T00:00:00Z'), false)
  const engine = new FakeEngine({
    clock,
    audit: new AuditWriter({dir, clock}),
    retry: {maxRetries: 2, baseMs: 10, maxMs: 10, jitter: 'none'},
  })
  const states: string[] = []
  // Observers are also told of failures and recoveries; the states are the changes among them.
  engine.onChange((h) => {
    if (states.at(-1) !== h.state) states.push(h.state)
  })
  const rows = (feature: string): Array<Record<string, unknown>> =>
    readdirSync(dir)
      .filter((f) => f.startsWith(`${feature}-`))
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  return {engine, states, rows}
}

describe('ClientEngine lifecycle', () => {
  it('the first connect writes no pool-recovery rows; a forced reconnect writes its two and swaps the client', async () => {
    const {engine, states, rows} = setup()
    await engine.connect()
    expect(engine.health()).toMatchObject({state: 'connected', generation: 1, reconnects: {ok: 0, failed: 0}})
    expect(rows('pool-recovery')).toEqual([])
    await engine.reconnect({force: true})
    expect(engine.health()).toMatchObject({state: 'connected', generation: 2, reconnects: {ok: 1, failed: 0}})
    expect(rows('pool-recovery').map((r) => [r.kind, r.error_summary])).toEqual([
      ['reconnect_other', 'forced reconnect'],
      ['reconnect_succeeded', undefined],
    ])
    expect(engine.ended).toEqual([{id: 1, healthy: true}])
    expect(states).toEqual(['reconnecting', 'connected', 'reconnecting', 'connected'])
  })

  it('concurrent reconnects share one rebuild (single flight)', async () => {
    const {engine} = setup()
    await engine.connect()
    const err = Object.assign(new Error('gone'), {code: 'CONNECTION_ENDED'})
    await Promise.all(Array.from({length: 10}, () => engine.reconnect({error: err, ifGeneration: 1})))
    expect(engine.builds).toBe(2)
    expect(engine.health().generation).toBe(2)
  })

  it('a failed rebuild leaves the engine broken (the old client kept); the next call rebuilds before use', async () => {
    const {engine, states, rows} = setup()
    await engine.connect()
    engine.failNext = 1
    await expect(engine.reconnect({force: true})).rejects.toThrow(/ECONNREFUSED/)
    expect(engine.health()).toMatchObject({state: 'broken', reconnects: {ok: 0, failed: 1}})
    expect(rows('pool-recovery').map((r) => r.kind)).toEqual(['reconnect_other', 'reconnect_failed'])
    const r = await engine.query<{id: number}>('select 1')
    expect(r.rows).toEqual([{id: 3}])
    expect(engine.health().state).toBe('connected')
    expect(states).toEqual(['reconnecting', 'connected', 'reconnecting', 'broken', 'reconnecting', 'connected'])
  })

  it('a failed first open leaves the engine closed, and the engine gives back what it holds', async () => {
    const {engine, rows} = setup()
    engine.failNext = 1
    await expect(engine.connect()).rejects.toThrow(/ECONNREFUSED/)
    expect(engine.health().state).toBe('closed')
    expect(engine.closedBy).toEqual(['failed-open'])
    expect(rows('pool-recovery')).toEqual([])
  })

  it('concurrent disconnects share one close: one db-disconnect row, the client ended once', async () => {
    const {engine, rows} = setup()
    await engine.connect()
    await Promise.all([engine.disconnect({reason: 'exit'}), engine.disconnect({reason: 'exit'})])
    expect(engine.health().state).toBe('closed')
    expect(engine.ended).toEqual([{id: 1, healthy: true}])
    expect(engine.closedBy).toEqual(['disconnect'])
    expect(rows('db-disconnect').map((r) => [r.engine_kind, r.reason])).toEqual([['postgres', 'exit']])
    // Closed, not for good: the next call opens again (self-healing access).
    expect((await engine.query<{id: number}>('select 1')).rows).toEqual([{id: 2}])
    await engine.disconnect({final: true})
    await expect(engine.connect()).rejects.toThrow(/closed for good/)
  })
})

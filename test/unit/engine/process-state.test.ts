import {mkdirSync, mkdtempSync, rmSync, existsSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {ProcessStatePublisher} from '../../../src/engine/process-state.js'
import type {Engine, HealthSnapshot} from '../../../src/engine/types.js'

const health: HealthSnapshot = {
  engine: 'postgres',
  style: 'instance',
  state: 'connected',
  connected_at: null,
  last_ok_at: null,
  last_error: null,
  failing_since: null,
  consecutive_failures: 0,
  reconnects: {ok: 0, failed: 0},
  generation: 1,
  pool_size: 1,
  prepare: false,
}
const FakeEngine = {health: () => health, onChange: () => () => {}} as unknown as Engine

describe('ProcessStatePublisher', () => {
  it('reports a failing write once, not on every heartbeat, and again after it recovered', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-run-'))
    const errors: string[] = []
    const p = new ProcessStatePublisher(FakeEngine, {
      runDir,
      command: 'test',
      heartbeatMs: 60_000,
      handleSignal: false,
      onError: (l) => errors.push(l),
    })
    await p.start()
    expect(existsSync(p.file)).toBe(true)
    // A directory where the state file goes: the atomic rename fails.
    rmSync(p.file)
    mkdirSync(p.file)
    await p.publish()
    await p.publish()
    await p.publish()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^gbrain: could not write process state /)
    rmSync(p.file, {recursive: true})
    await p.publish()
    expect(existsSync(p.file)).toBe(true)
    rmSync(p.file)
    mkdirSync(p.file)
    await p.publish()
    expect(errors).toHaveLength(2)
    rmSync(p.file, {recursive: true})
    await p.stop()
    rmSync(runDir, {recursive: true, force: true})
  })
})

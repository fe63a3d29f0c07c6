/**
 * `repair --reconnect` on a clock: waiting for a database that never comes back takes the whole
 * budget in virtual time (FakeClock), so the bounded wait is tested without sleeping for it.
 */
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Engine} from '../../../src/engine/types.js'
import {reconnect} from '../../../src/repair/reconnect.js'
import {FakeClock} from '../../helpers/fake-clock.js'

let root: string
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-reconnect-clock-'))
  mkdirSync(path.join(root, 'run'), {mode: 0o700})
})
afterEach(() => rmSync(root, {recursive: true, force: true}))

describe('reconnect takes a clock', () => {
  it('a database still refusing after the budget: failed, with the time waited on the clock', async () => {
    const clock = new FakeClock()
    let attempts = 0
    const engine = {
      reconnect: async () => {
        attempts += 1
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'})
      },
    } as unknown as Engine
    const started = clock.now()
    const r = await reconnect(
      {runDir: path.join(root, 'run'), timeoutMs: 30_000, engine: async () => engine, wasFailing: true},
      {dryRun: false, progress: () => {}, clock},
    )
    expect(r.status).toBe('failed')
    // The retry loop gives up when its next (jittered, ≤ 5 s) wait would pass the budget.
    expect(r.detail).toMatch(/^database: still unreachable after (2[5-9]|30) s \(refused: /)
    expect(attempts).toBeGreaterThan(3)
    expect(clock.now() - started).toBeGreaterThanOrEqual(25_000)
    expect(clock.now() - started).toBeLessThanOrEqual(30_000)
  })
})

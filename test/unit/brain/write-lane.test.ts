/**
 * The cycle's write lane: one statement in flight, the next sent only after the previous one
 * settled; a failure of the statement in flight is thrown by the next wait (not lost, not an
 * unhandled rejection), and `settled()` waits without throwing (an abort's cleanup).
 */
import {describe, expect, it} from 'vitest'
import {WriteLane} from '../../../src/brain/batcher.js'

function deferred(): {promise: Promise<void>; resolve: () => void; reject: (e: Error) => void} {
  let resolve!: () => void
  let reject!: (e: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return {promise, resolve, reject}
}

describe('WriteLane', () => {
  it('idle() waits for the statement in flight', async () => {
    const lane = new WriteLane()
    const first = deferred()
    const order: string[] = []
    lane.start(async () => {
      await first.promise
      order.push('first landed')
    })
    const waited = lane.idle().then(() => order.push('idle'))
    await Promise.resolve()
    expect(order).toEqual([])
    first.resolve()
    await waited
    expect(order).toEqual(['first landed', 'idle'])
  })

  it('a failed statement is thrown by the next idle(), and by every one after it', async () => {
    const lane = new WriteLane()
    lane.start(() => Promise.reject(new Error('rows lost')))
    await expect(lane.idle()).rejects.toThrow('rows lost')
    await expect(lane.idle()).rejects.toThrow('rows lost')
  })

  it('settled() waits for the statement in flight and never throws', async () => {
    const lane = new WriteLane()
    const inflight = deferred()
    let settled = false
    lane.start(() => inflight.promise)
    const done = lane.settled().then(() => (settled = true))
    await Promise.resolve()
    expect(settled).toBe(false)
    inflight.reject(new Error('aborted'))
    await done
    expect(settled).toBe(true)
  })
})

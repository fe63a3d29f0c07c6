/**
 * One readiness probe per engine, however many calls are sleeping a backoff: twenty batches that
 * lost the same server must not ask it twenty times every interval. Callers that ask while a
 * probe is in flight join it; callers that ask within `intervalMs` of the last probe's start get
 * its answer. So the server sees at most one probe per interval from the engine. A caller's abort
 * only ends its own wait; the probe itself is aborted once every caller waiting on it has left.
 */
import type {Clock} from '../shared/clock.js'
import type {ReadinessProbe} from './probe-sleep.js'

interface Round {
  startedAt: number
  answer: Promise<boolean>
  waiting: number
  settled: boolean
  controller: AbortController
}

export function sharedProbe(probe: ReadinessProbe, clock: Clock, intervalMs: number): ReadinessProbe {
  let round: Round | undefined
  const start = (): Round => {
    const controller = new AbortController()
    let asked: Promise<boolean>
    try {
      asked = probe(controller.signal)
    } catch {
      asked = Promise.resolve(false)
    }
    const r: Round = {startedAt: clock.now(), waiting: 0, settled: false, controller, answer: Promise.resolve(false)}
    r.answer = asked.then(
      (ready) => ready === true,
      () => false,
    )
    void r.answer.then(() => {
      r.settled = true
    })
    return r
  }
  return (signal) => {
    if (signal.aborted) return Promise.resolve(false)
    if (!round || (round.settled && clock.now() - round.startedAt >= intervalMs)) round = start()
    const r = round
    r.waiting += 1
    return new Promise<boolean>((resolve) => {
      let left = false
      const leave = (): void => {
        if (left) return
        left = true
        signal.removeEventListener('abort', onAbort)
        r.waiting -= 1
        if (r.waiting === 0 && !r.settled) r.controller.abort()
      }
      const onAbort = (): void => {
        leave()
        resolve(false)
      }
      signal.addEventListener('abort', onAbort, {once: true})
      void r.answer.then((ready) => {
        leave()
        resolve(ready)
      })
    })
  }
}

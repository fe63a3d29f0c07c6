/**
 * Virtual time for unit tests. Timers run in time order; with `autoAdvance` the clock jumps to
 * the next timer whenever the event loop is otherwise idle (after microtasks), so a retry loop
 * with 10 s backoffs finishes instantly while every delay is recorded.
 */
import type {Clock} from '../../src/shared/clock.js'

interface Timer {
  id: number
  at: number
  ms: number
  fn: () => void
}

export class FakeClock implements Clock {
  private t: number
  private seq = 0
  private timers: Timer[] = []
  private pumping = false
  /** Every requested timer duration, in order (sleeps, ticks and attempt timers alike). */
  readonly requested: number[] = []

  constructor(
    start = Date.parse('2026-11-28T00:00:00Z'),
    private readonly autoAdvance = true,
  ) {
    this.t = start
  }

  now(): number {
    return this.t
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = {id: ++this.seq, at: this.t + ms, ms, fn}
    this.timers.push(timer)
    this.requested.push(ms)
    this.schedule()
    return timer.id
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle)
  }

  /** Advance by `ms`, running due timers in order. */
  advance(ms: number): void {
    const until = this.t + ms
    for (;;) {
      const next = this.earliest()
      if (!next || next.at > until) break
      this.fire(next)
    }
    this.t = until
  }

  get pending(): number {
    return this.timers.length
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t
    return best
  }

  private fire(timer: Timer): void {
    this.timers = this.timers.filter((t) => t !== timer)
    this.t = Math.max(this.t, timer.at)
    timer.fn()
  }

  private schedule(): void {
    if (!this.autoAdvance || this.pumping) return
    this.pumping = true
    setImmediate(() => {
      this.pumping = false
      const next = this.earliest()
      if (next) {
        this.fire(next)
        if (this.timers.length > 0) this.schedule()
      }
    })
  }
}

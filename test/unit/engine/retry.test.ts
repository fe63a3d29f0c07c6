import {describe, expect, it} from 'vitest'
import type {Classified} from '../../../src/engine/classify.js'
import {AttemptTimeoutError} from '../../../src/engine/errors.js'
import {AbortedError} from '../../../src/shared/errors.js'
import {RetryExhaustedError, withRetry, type RetryOptions} from '../../../src/engine/retry.js'
import {FakeClock} from '../../helpers/fake-clock.js'

/** A tiny stand-in classifier keyed on `code`, so these tests pin the loop, not the corpus. */
function fakeClassify(e: unknown): Classified {
  const code = (e as {code?: string})?.code
  const retryable = code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'NO_CONNECTION' || code === 'ATTEMPT_TIMEOUT'
  const kind = code === 'NO_CONNECTION' ? 'no_connection' : code === '28P01' ? 'auth' : retryable ? 'reset' : 'unknown'
  return {retryable, kind, code, hint: 'h', inDoubt: retryable, connectionLevel: retryable, message: String((e as Error)?.message ?? e)}
}

const err = (code: string, message = code): Error => Object.assign(new Error(message), {code})

function harness(opts: Partial<RetryOptions> = {}) {
  const clock = new FakeClock()
  const log: string[] = []
  const options: RetryOptions = {
    maxRetries: 3,
    baseMs: 1000,
    maxMs: 10_000,
    jitter: 'none',
    clock,
    classify: fakeClassify,
    onRetry: async (ev) => {
      log.push(`onRetry(${ev.attempt},${ev.delayMs})@${clock.now() - t0}`)
    },
    reconnect: async (ctx) => {
      log.push(`reconnect(${ctx.attempt})@${clock.now() - t0}`)
    },
    ...opts,
  }
  const t0 = clock.now()
  return {clock, log, options, t0}
}

describe('withRetry', () => {
  it('first retry reconnects at once; later retries sleep the backoff, then reconnect', async () => {
    const {log, options, clock, t0} = harness()
    let calls = 0
    const result = await withRetry(async ({attempt}) => {
      calls++
      log.push(`attempt(${attempt})@${clock.now() - t0}`)
      if (attempt < 4) throw err('ECONNRESET')
      return 'ok'
    }, options)
    expect(result).toBe('ok')
    expect(calls).toBe(4)
    expect(log).toEqual([
      'attempt(1)@0',
      'onRetry(1,0)@0',
      'reconnect(1)@0',
      'attempt(2)@0',
      'onRetry(2,2000)@0',
      'reconnect(2)@2000',
      'attempt(3)@2000',
      'onRetry(3,4000)@2000',
      'reconnect(3)@6000',
      'attempt(4)@6000',
    ])
  })

  it('yields at least one timer tick before the first reconnect (same-tick hang)', async () => {
    const {options, clock} = harness()
    await withRetry(async ({attempt}) => {
      if (attempt === 1) throw err('ECONNRESET')
      return 1
    }, options)
    expect(clock.requested).toContain(0)
  })

  it('awaits onRetry and reconnect before the next attempt', async () => {
    const order: string[] = []
    const {options} = harness({
      onRetry: async () => {
        await new Promise((r) => setTimeout(r, 5))
        order.push('onRetry done')
      },
      reconnect: async () => {
        await new Promise((r) => setTimeout(r, 5))
        order.push('reconnect done')
      },
    })
    await withRetry(async ({attempt}) => {
      order.push(`attempt ${attempt}`)
      if (attempt === 1) throw err('ECONNRESET')
      return 1
    }, options)
    expect(order).toEqual(['attempt 1', 'onRetry done', 'reconnect done', 'attempt 2'])
  })

  it('throws a non-retryable error at once, unwrapped, with no retry', async () => {
    const {options, log} = harness()
    const auth = err('28P01', 'password authentication failed')
    await expect(
      withRetry(async () => {
        throw auth
      }, options),
    ).rejects.toBe(auth)
    expect(log).toEqual([])
  })

  it('exhausts after maxRetries + 1 attempts with the true attempt count', async () => {
    const {options} = harness({maxRetries: 2})
    let calls = 0
    const p = withRetry(async () => {
      calls++
      throw err('ECONNRESET')
    }, options)
    const e = await p.catch((x: unknown) => x)
    expect(e).toBeInstanceOf(RetryExhaustedError)
    expect((e as RetryExhaustedError).attempts).toBe(3)
    expect((e as RetryExhaustedError).reason).toBe('retries')
    expect(calls).toBe(3)
  })

  it('a failed reconnect consumes an attempt instead of ending the loop', async () => {
    let reconnects = 0
    const {options} = harness({
      maxRetries: 4,
      reconnect: async () => {
        reconnects++
        if (reconnects <= 2) throw err('ECONNREFUSED')
      },
    })
    const attempts: number[] = []
    const out = await withRetry(async ({attempt}) => {
      attempts.push(attempt)
      if (attempt === 1) throw err('ECONNRESET')
      return 'landed'
    }, options)
    expect(out).toBe('landed')
    // attempts 2 and 3 were consumed by failed reconnects; attempt 4 ran
    expect(attempts).toEqual([1, 4])
    expect(reconnects).toBe(3)
  })

  it('prefers the reconnect’s real cause (auth) over the symptom and stops at once', async () => {
    const auth = err('28P01', 'password authentication failed for user "x"')
    const {options} = harness({
      reconnect: async () => {
        throw auth
      },
    })
    await expect(
      withRetry(async () => {
        throw err('NO_CONNECTION', 'No database connection')
      }, options),
    ).rejects.toBe(auth)
  })

  it('reports the reconnect cause when retries run out on No database connection', async () => {
    const refused = err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')
    const {options} = harness({
      maxRetries: 2,
      reconnect: async () => {
        throw refused
      },
    })
    const e = (await withRetry(async () => {
      throw err('NO_CONNECTION', 'No database connection')
    }, options).catch((x: unknown) => x)) as RetryExhaustedError
    expect(e).toBeInstanceOf(RetryExhaustedError)
    expect(e.lastError).toBe(refused)
    expect(e.attempts).toBe(3)
  })

  it('times out an attempt that never settles, as a retryable in-doubt failure', async () => {
    const {options} = harness({attemptTimeoutMs: 500, maxRetries: 1})
    const seen: unknown[] = []
    const e = await withRetry(
      async ({attempt, signal}) => {
        if (attempt === 1) return new Promise<never>(() => {}) // a postgres.js query that never settles
        seen.push(signal.aborted)
        throw err('ECONNRESET')
      },
      {...options, onRetry: (ev) => void seen.push(ev.error)},
    ).catch((x: unknown) => x)
    expect(seen[0]).toBeInstanceOf(AttemptTimeoutError)
    expect(e).toBeInstanceOf(RetryExhaustedError)
  })

  it('aborting during a backoff sleep rejects promptly with AbortedError', async () => {
    const clock = new FakeClock(0, false)
    const controller = new AbortController()
    let attempts = 0
    const p = withRetry(
      async () => {
        attempts++
        throw err('ECONNRESET')
      },
      {clock, classify: fakeClassify, maxRetries: 5, baseMs: 10_000, maxMs: 10_000, jitter: 'none', signal: controller.signal},
    )
    const settled = p.catch((x: unknown) => x)
    // run until the loop is asleep in a 10 s backoff (second retry)
    for (let i = 0; i < 50 && attempts < 2; i++) {
      clock.advance(0)
      await new Promise((r) => setImmediate(r))
    }
    expect(attempts).toBe(2)
    controller.abort('SIGTERM')
    const e = await settled
    expect(e).toBeInstanceOf(AbortedError)
    expect(clock.now()).toBeLessThan(10_000)
  })

  it('stops at the overall deadline rather than sleeping past it', async () => {
    const {options, clock, t0} = harness({maxRetries: 10, deadlineMs: 5000})
    const e = (await withRetry(async () => {
      throw err('ECONNRESET')
    }, options).catch((x: unknown) => x)) as RetryExhaustedError
    expect(e).toBeInstanceOf(RetryExhaustedError)
    expect(e.reason).toBe('deadline')
    expect(clock.now() - t0).toBeLessThanOrEqual(5000)
  })

  // Found by CI under load: `repair --reconnect --timeout 2s` reported "timeout: did not settle
  // within 5 ms" — its last attempt had 5 ms of the deadline left — instead of the real cause.
  it('a last attempt cut short by the deadline and timing out reports the cause before it, not the cut', async () => {
    const refused = err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')
    const {options, clock, t0} = harness({maxRetries: 10, deadlineMs: 2010, attemptTimeoutMs: 5000})
    const e = (await withRetry(async ({attempt}) => {
      if (attempt < 3) throw refused
      return new Promise<never>(() => {}) // the third attempt starts at 2000 ms with 10 ms left
    }, options).catch((x: unknown) => x)) as RetryExhaustedError
    expect(e).toBeInstanceOf(RetryExhaustedError)
    expect(e.reason).toBe('deadline')
    expect(e.attempts).toBe(3)
    expect(e.lastError).toBe(refused)
    expect(clock.now() - t0).toBe(2010)
  })

  it('an attempt that times out on its full attempt timeout is itself the cause', async () => {
    const {options} = harness({maxRetries: 0, attemptTimeoutMs: 500})
    const e = (await withRetry(async () => new Promise<never>(() => {}), options).catch((x: unknown) => x)) as RetryExhaustedError
    expect(e.lastError).toBeInstanceOf(AttemptTimeoutError)
  })

  it('delays audited in onRetry are the delays slept (decorrelated, seeded)', async () => {
    const delays: number[] = []
    const clock = new FakeClock()
    const sleptStart: number[] = []
    let last = clock.now()
    await withRetry(
      async ({attempt}) => {
        sleptStart.push(clock.now() - last)
        last = clock.now()
        if (attempt < 4) throw err('ECONNRESET')
        return 1
      },
      {
        clock,
        classify: fakeClassify,
        maxRetries: 3,
        baseMs: 100,
        maxMs: 1000,
        jitter: 'decorrelated',
        rng: () => 0.5,
        onRetry: (ev) => void delays.push(ev.delayMs),
      },
    )
    expect(delays[0]).toBe(0)
    expect(sleptStart.slice(1)).toEqual(delays)
  })
})
